"""Sources in the real public layouts, as ingest stores them: rows with images replaced by {"$image": sha}."""
from typing import Any

from curation.ingest.columns import ColumnTypes
from curation.ingest.layouts import layout_detect
from curation.ingest.records import image_ref
from curation.models import Source, SourceRow
from tests.factories import image_make, source_make


def source_with_rows(name: str, records: list[dict[str, Any]], **extra: Any) -> Source:
    """A ready source whose rows are `records`; each "$img" placeholder becomes a real stored image."""
    rows = []
    types = ColumnTypes()
    for n, record in enumerate(records):
        shas: list[str] = []
        data = _store_images(record, shas)
        types.observe(data)
        rows.append(SourceRow(row_number=n, data=data, image_shas=shas))
    source = source_make(
        name=name, columns=types.as_dict(), layout=layout_detect([r.data for r in rows], format="jsonl"),
        row_count=len(rows), **extra,
    )
    for row in rows:
        row.source = source
    SourceRow.objects.bulk_create(rows)
    return source


IMG = "$img"  # placeholder for "a new stored image here"


def _store_images(value: Any, shas: list[str]) -> Any:
    if value == IMG:
        sha = image_make().pk
        shas.append(sha)
        return image_ref(sha)
    if isinstance(value, dict):
        return {k: _store_images(v, shas) for k, v in value.items()}
    if isinstance(value, list):
        return [_store_images(v, shas) for v in value]
    return value


def llava_records() -> list[dict[str, Any]]:
    return [
        {"id": "000000033471", "image": IMG, "conversations": [
            {"from": "human", "value": "<image>\nWhat are the colors of the bus in the image?"},
            {"from": "gpt", "value": "The bus in the image is white and red."},
            {"from": "human", "value": "What feature can be seen on the back of the bus?"},
            {"from": "gpt", "value": "The back of the bus features an advertisement."},
        ]},
        {"id": "000000052846", "image": IMG, "conversations": [
            {"from": "human", "value": "Where is the cat positioned in the image?\n<image>"},
            {"from": "gpt", "value": "The cat is positioned on top of the back of the couch."},
        ]},
    ]


def cauldron_records() -> list[dict[str, Any]]:
    return [
        {"images": [IMG], "texts": [
            {"user": "Question: What is the label of the first bar?\nChoices:\nA. 2010\nB. 2011\nAnswer with the letter.",
             "assistant": "Answer: A", "source": "ChartQA"},
        ]},
        {"images": [IMG, IMG], "texts": [
            {"user": "Are the two images the same?", "assistant": "No.", "source": "synthetic"},
            {"user": "Which one is brighter?", "assistant": "The second one.", "source": "synthetic"},
        ]},
    ]


def sharegpt_records() -> list[dict[str, Any]]:
    return [
        {"messages": [
            {"role": "system", "content": "You are a careful visual assistant."},
            {"role": "user", "content": [{"type": "image", "image": IMG}, {"type": "text", "text": "What is in the image?"}]},
            {"role": "assistant", "content": "A single coloured square."},
        ]},
        {"messages": [
            {"role": "user", "content": "Describe the picture."},
            {"role": "assistant", "content": [{"type": "text", "text": "It is a flat colour."}]},
            {"role": "user", "content": "Which colour?"},
            {"role": "assistant", "content": "Mostly red."},
        ]},
    ]


def vqav2_records() -> list[dict[str, Any]]:
    def answers(*texts: str) -> list[dict[str, Any]]:
        return [{"answer": t, "answer_confidence": "yes", "answer_id": i + 1} for i, t in enumerate(texts)]

    return [
        {"image": IMG, "question_id": 458752000, "question": "What is this photo taken looking through?",
         "question_type": "what is this", "answers": answers("net", "net", "netting", "net", "net", "net", "mesh",
                                                             "net", "net", "net"),
         "multiple_choice_answer": "net", "answer_type": "other"},
        {"image": IMG, "question_id": 458752001, "question": "What position is this man playing?",
         "question_type": "what", "answers": answers("pitcher", "catcher", "pitcher", "pitcher", "pitcher",
                                                     "pitcher", "pitcher", "pitcher", "pitcher", "pitcher"),
         "multiple_choice_answer": "pitcher", "answer_type": "other"},
    ]


def scienceqa_records() -> list[dict[str, Any]]:
    return [
        {"image": IMG, "question": "Which of these states is farthest north?",
         "choices": ["West Virginia", "Louisiana", "Arizona", "Oklahoma"], "answer": 0, "hint": "",
         "task": "closed choice", "grade": "grade2", "subject": "social science", "topic": "geography",
         "category": "Geography", "skill": "Read a map: cardinal directions",
         "lecture": "Maps have four cardinal directions, or main directions.",
         "solution": "To find the answer, look at the compass rose."},
        {"image": IMG, "question": "Which animal's feet are also adapted for sticking to smooth surfaces?",
         "choices": ["tokay gecko", "Madagascar day gecko"], "answer": 1,
         "hint": "Tree frogs live in rain forests. Their feet are adapted for sticking to smooth surfaces.",
         "task": "closed choice", "grade": "grade4", "subject": "natural science", "topic": "biology",
         "category": "Adaptations", "skill": "Animal adaptations: feet", "lecture": "An adaptation is ...",
         "solution": "Look at the picture."},
        {"image": None, "question": "Which word would you find on a dictionary page between 'shot' and 'sunlight'?",
         "choices": ["stove", "sea"], "answer": 0, "hint": "", "task": "closed choice", "grade": "grade3",
         "subject": "language science", "topic": "reference-skills", "category": "Reference skills",
         "skill": "Use guide words", "lecture": "Guide words appear on each page.", "solution": "Put the words in order."},
    ]


COCO_CAPTIONS = [
    ["A man with a red helmet on a small moped on a dirt road.", "Man riding a motor bike on a dirt road on the countryside.",
     "A man riding on the back of a motorcycle.", "A dirt path with a young person on a motor bike.",
     "A man in a red shirt and a red hat is on a motorcycle on a hill side."],
    ["A woman wearing a net on her head cutting a cake.", "A woman cutting a large white sheet cake.",
     "A woman wearing a hair net cutting a large sheet cake.", "There is a woman that is cutting a white cake.",
     "A woman marking a cake with the back of a chef's knife."],
]


def captions_records() -> list[dict[str, Any]]:
    return [{"image": IMG, "image_id": 391895 + n, "captions": list(caps)} for n, caps in enumerate(COCO_CAPTIONS)]


def karpathy_records() -> list[dict[str, Any]]:
    """COCO in the Karpathy split layout: `sentences` as objects with the caption under `raw`."""
    return [
        {"filepath": "val2014", "filename": IMG, "imgid": n,
         "sentences": [{"raw": c, "tokens": c.lower().rstrip(".").split(), "imgid": n, "sentid": 5 * n + i}
                       for i, c in enumerate(caps)]}
        for n, caps in enumerate(COCO_CAPTIONS)
    ]


def ocr_records() -> list[dict[str, Any]]:
    return [{"image": IMG, "text": "STOP"}, {"image": IMG, "text": "Main Street 42\nOpen 9-17"}]


def textonly_records() -> list[dict[str, Any]]:
    return [
        {"question": "What is the capital of France?", "answer": "Paris."},
        {"question": "How many legs does a spider have?", "answer": "Eight."},
    ]


def alpaca_records() -> list[dict[str, Any]]:
    return [
        {"instruction": "Give three tips for staying healthy.", "input": "",
         "output": "1. Eat a balanced diet.\n2. Exercise regularly.\n3. Sleep well."},
        {"instruction": "Translate the sentence to French.", "input": "The cat sleeps.", "output": "Le chat dort."},
    ]
