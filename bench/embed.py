"""Benchmark: SSCD embedding pipeline images/s on 512px JPEGs, against two floors measured in the same run.

Floors: decode+resize alone (the pipeline's decode threads, no model), and the ONNX model alone on
pre-decoded batches. The pipeline (services/embeddings.py embed_pipeline) decodes the next batch while the
model runs, so it should go at the pace of the slower floor. The JPEGs are real photographs (scikit-image's)
resized to 512px with random crops and colour shifts, so no two are the same file.

Goal: pipeline >= 0.8 x the slower floor.
Usage: DEBUG=1 .venv/bin/python bench/embed.py [--quick] [--engine sscd-int8-onnx|sscd-distilled-onnx]
"""
import argparse
import io
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from PIL import Image, ImageEnhance  # noqa: E402
from skimage import data  # noqa: E402

from curation.engines.sscd import embedding_engine, preprocess  # noqa: E402
from curation.services.embeddings import DECODE_THREADS, EMBED_BATCH_SIZE, embed_pipeline  # noqa: E402

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "retina", "immunohistochemistry")


def jpegs(n: int, seed: int = 0) -> list[bytes]:
    rng = np.random.default_rng(seed)
    photos = [Image.fromarray(getattr(data, name)()).convert("RGB") for name in PHOTOS]
    out = []
    for i in range(n):
        photo = photos[i % len(photos)]
        w, h = photo.size
        x0, y0 = int(rng.integers(0, w // 5)), int(rng.integers(0, h // 5))
        crop = photo.crop((x0, y0, x0 + int(w * 0.8), y0 + int(h * 0.8))).resize((512, 512), Image.Resampling.BILINEAR)
        crop = ImageEnhance.Brightness(crop).enhance(float(rng.uniform(0.8, 1.2)))
        buffer = io.BytesIO()
        crop.save(buffer, "JPEG", quality=90)
        out.append(buffer.getvalue())
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--engine", default="sscd-int8-onnx")
    args = parser.parse_args()
    n = 96 if args.quick else 512
    files = jpegs(n)
    engine = embedding_engine(args.engine)
    engine.embed([preprocess(files[0])] * 2)  # load the model and warm up outside the clock

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=DECODE_THREADS) as pool:
        decoded = list(pool.map(preprocess, files))
    decode_rate = n / (time.perf_counter() - start)

    start = time.perf_counter()
    for i in range(0, n, EMBED_BATCH_SIZE):
        engine.embed(decoded[i : i + EMBED_BATCH_SIZE])
    model_rate = n / (time.perf_counter() - start)

    start = time.perf_counter()
    count = 0
    for _, vectors, _ in embed_pipeline([lambda b=b: preprocess(b) for b in files], engine):
        count += len(vectors)
    pipeline_rate = count / (time.perf_counter() - start)

    floor = min(decode_rate, model_rate)
    ratio = pipeline_rate / floor
    print(json.dumps({
        "bench": "embed",
        "engine": f"{engine.name} {engine.version}",
        "images": n,
        "image_side": 512,
        "batch": EMBED_BATCH_SIZE,
        "decode_resize_images_per_s": round(decode_rate, 1),
        "model_only_images_per_s": round(model_rate, 1),
        "pipeline_images_per_s": round(pipeline_rate, 1),
        "ratio_to_slower_floor": round(ratio, 3),
        "goal": "pipeline images/s >= 0.8 x the slower of decode+resize alone and the ONNX model alone",
        "met": ratio >= 0.8,
    }))


if __name__ == "__main__":
    main()
