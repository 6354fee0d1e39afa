"""The near-duplicate test set, built from the real photographs scikit-image ships.

Each photo has edited copies (resize, JPEG, crop, brightness, border, caption overlay, slight rotation,
flip), all in the photo's group; distractors are the other photos, the four disjoint quadrants of one
photo (each its own group) and the stereo pair motorcycle_left/right (two groups: not copies).
"""
import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFont, ImageOps
from skimage import data

PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "retina", "camera", "coins", "brick", "grass", "gravel", "page", "clock")
QUADRANT_PHOTO = "immunohistochemistry"


@dataclass(frozen=True)
class Item:
    name: str
    group: str
    image: Image.Image


def _photo(name: str) -> Image.Image:
    if name == "motorcycle_left":
        array = data.stereo_motorcycle()[0]
    elif name == "motorcycle_right":
        array = data.stereo_motorcycle()[1]
    else:
        array = getattr(data, name)()
    image = Image.fromarray(np.asarray(array))
    return image.convert("RGB")


def _jpeg(image: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


def _caption(image: Image.Image) -> Image.Image:
    out = image.copy()
    draw = ImageDraw.Draw(out)
    size = max(14, image.height // 12)
    try:
        font: ImageFont.ImageFont | ImageFont.FreeTypeFont = ImageFont.truetype("DejaVuSans-Bold.ttf", size)
    except OSError:
        font = ImageFont.load_default()
    band = int(size * 1.6)
    draw.rectangle([0, image.height - band, image.width, image.height], fill=(0, 0, 0))
    draw.text((10, image.height - band + size // 5), "When you see it #viral", fill=(255, 255, 255), font=font)
    return out


def edits(image: Image.Image) -> dict[str, Image.Image]:
    w, h = image.size
    return {
        "resize": image.resize((max(64, w // 2), max(64, h // 2)), Image.Resampling.LANCZOS),
        "jpeg": _jpeg(image, 30),
        "crop": image.crop((int(w * 0.12), int(h * 0.1), int(w * 0.9), int(h * 0.88))),
        "brightness": ImageEnhance.Brightness(image).enhance(1.4),
        "border": ImageOps.expand(image, border=max(8, w // 12), fill=(255, 255, 255)),
        "caption": _caption(image),
        "rotate": image.rotate(6, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(0, 0, 0)),
        "flip": ImageOps.mirror(image),
    }


def build() -> list[Item]:
    items: list[Item] = []
    for name in PHOTOS:
        photo = _photo(name)
        items.append(Item(name, name, photo))
        for edit, copy in edits(photo).items():
            items.append(Item(f"{name}:{edit}", name, copy))
    left, right = _photo("motorcycle_left"), _photo("motorcycle_right")
    items.append(Item("motorcycle_left", "motorcycle_left", left))
    items.append(Item("motorcycle_left:jpeg", "motorcycle_left", _jpeg(left, 40)))
    items.append(Item("motorcycle_right", "motorcycle_right", right))
    big = _photo(QUADRANT_PHOTO)
    w, h = big.size
    for index, box in enumerate([(0, 0, w // 2, h // 2), (w // 2, 0, w, h // 2), (0, h // 2, w // 2, h), (w // 2, h // 2, w, h)]):
        items.append(Item(f"{QUADRANT_PHOTO}:q{index}", f"{QUADRANT_PHOTO}:q{index}", big.crop(box)))
    return items


def truth(items: list[Item]) -> set[tuple[int, int]]:
    return {(i, j) for i in range(len(items)) for j in range(i + 1, len(items)) if items[i].group == items[j].group}
