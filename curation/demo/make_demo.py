"""Rebuild the demo sources from the images in this folder (run by hand: python curation/demo/make_demo.py).

The photographs come from scikit-image's data folder (public domain or CC0; see README.md here).
Each source uses the same facts about the images in a different public layout.
"""
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent

FACTS = {
    "astronaut": ("A smiling astronaut in an orange spacesuit holds a white helmet; a flag hangs on the left and a "
                  "space shuttle model stands on the right.", "What colour is the astronaut's suit?", "Orange."),
    "camera": ("A black-and-white photo of a man in a dark coat looking through a camera on a tripod, on a lawn "
               "with buildings far behind.", "What is the camera standing on?", "A tripod."),
    "chelsea": ("A close-up of a tabby cat's face with yellow-green eyes looking slightly to the side.",
                "What animal is shown?", "A cat."),
    "coffee": ("A red cup of coffee on a red saucer with a spoon, on a wooden table.",
               "What colour is the saucer?", "Red."),
    "rocket": ("A rocket stands on a launch pad at dusk between tall lightning towers, lit from below.",
               "Is it day or dusk?", "Dusk."),
    "hubble_deep_field": ("Hundreds of small galaxies of many colours scattered on a black background.",
                          "What do the bright dots show?", "Galaxies."),
    "retina": ("A fundus photograph of a human retina: red-orange background, branching blood vessels and a bright "
               "optic disc on the left.", "Which side is the optic disc on?", "The left."),
    "coins": ("A black-and-white photo of twenty-four old coins laid out in four rows of six on a dark cloth.",
              "How many coins are there?", "24."),
    "horse": ("A black silhouette of a horse facing right on a white background.",
              "Which way is the horse facing?", "To the right."),
    "clock": ("A motion-blurred round object, a wall clock, on a plain grey background.",
              "Is the image sharp or blurred?", "Blurred."),
    "brick": ("A grey brick wall photographed straight on, the bricks laid in a running bond.",
              "What is the wall made of?", "Bricks."),
    "text": ("Handwritten mathematics on a sheet of paper, photographed at an angle.",
             "Is the writing printed or handwritten?", "Handwritten."),
}


def llava_rows() -> list[dict]:
    rows = []
    for name, (caption, question, answer) in FACTS.items():
        rows.append({
            "id": f"demo-{name}",
            "image": f"images/{name}.jpg",
            "conversations": [
                {"from": "human", "value": f"<image>\n{question}"},
                {"from": "gpt", "value": answer},
                {"from": "human", "value": "Describe the image in one sentence."},
                {"from": "gpt", "value": caption},
            ],
        })
    return rows


def sharegpt_rows() -> list[dict]:
    return [
        {
            "messages": [
                {"role": "user", "content": "<image>Write a short caption for this picture."},
                {"role": "assistant", "content": caption},
            ],
            "images": [f"images/{name}.jpg"],
        }
        for name, (caption, _q, _a) in FACTS.items()
    ]


def cauldron_table() -> pa.Table:
    image_type = pa.struct([("bytes", pa.binary()), ("path", pa.string())])
    turn_type = pa.struct([("user", pa.string()), ("assistant", pa.string()), ("source", pa.string())])
    images, texts = [], []
    for name, (caption, question, answer) in FACTS.items():
        images.append([{"bytes": (HERE / "images" / f"{name}.jpg").read_bytes(), "path": f"{name}.jpg"}])
        texts.append([
            {"user": question, "assistant": answer, "source": "finecurate-demo"},
            {"user": "What is in the image?", "assistant": caption, "source": "finecurate-demo"},
        ])
    features = {
        "images": {"feature": {"_type": "Image"}, "_type": "Sequence"},
        "texts": [{"user": {"dtype": "string", "_type": "Value"}, "assistant": {"dtype": "string", "_type": "Value"},
                   "source": {"dtype": "string", "_type": "Value"}}],
    }
    schema = pa.schema([("images", pa.list_(image_type)), ("texts", pa.list_(turn_type))]).with_metadata(
        {"huggingface": json.dumps({"info": {"features": features}})}
    )
    return pa.table({"images": images, "texts": texts}, schema=schema)


def main() -> None:
    (HERE / "llava_demo.json").write_text(json.dumps(llava_rows(), indent=1) + "\n")
    with (HERE / "sharegpt_demo.jsonl").open("w") as out:
        for row in sharegpt_rows():
            out.write(json.dumps(row) + "\n")
    buffer = io.BytesIO()
    pq.write_table(cauldron_table(), buffer)
    (HERE / "cauldron_demo.parquet").write_bytes(buffer.getvalue())


if __name__ == "__main__":
    main()
