"""Each public layout, from real files to samples, the way a curator drives it through the pages.

The test writes the layout's usual files (with real images), registers them on /sources/new/, lets a real
worker ingest them and suggest a mapping, checks the mapping page's preview, posts the editor form exactly
as the browser would submit it to accept, waits for the apply job, then checks the samples turn by turn and
that the subset page lists them.
"""
import base64
import hashlib
import io
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.test import Client
from PIL import Image as PILImage

from curation.mapping.suggesters.build import CAPTION_INSTRUCTIONS, OCR_INSTRUCTIONS
from curation.models import Job, Mapping, Sample, Source, Subset
from curation.selectors import job_latest_for
from curation.services import job_kinds

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

JOB_TIMEOUT = 30.0


# --- files ----------------------------------------------------------------------------------------------

def png_bytes(n: int) -> bytes:
    """A real PNG, a different colour and size for each n (so each has its own sha256)."""
    buffer = io.BytesIO()
    PILImage.new("RGB", (8 + n, 6 + n), (n * 40 % 256, 200 - n * 30 % 200, n * 70 % 256)).save(buffer, format="PNG")
    return buffer.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_png(path: Path, n: int) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = png_bytes(n)
    path.write_bytes(data)
    return sha(data)


def hf_image(data: bytes | None) -> dict[str, Any] | None:
    """A Hugging Face `Image` feature as `datasets` writes it to Parquet."""
    return None if data is None else {"bytes": data, "path": None}


HF_IMAGE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])


@dataclass
class Written:
    file: Path
    format: str
    shas: dict[str, str] = field(default_factory=dict)  # image name -> sha256 of its bytes


# --- the layouts: files as published, and what their samples must be --------------------------------------

def llava_files(root: Path) -> Written:
    shas = {n: write_png(root / "images" / f"{n}.png", i) for i, n in enumerate(["000000033471", "000000052846"])}
    records = [
        {"id": "000000033471", "image": "images/000000033471.png", "conversations": [
            {"from": "human", "value": "<image>\nWhat are the colors of the bus in the image?"},
            {"from": "gpt", "value": "The bus in the image is white and red."},
            {"from": "human", "value": "What feature can be seen on the back of the bus?"},
            {"from": "gpt", "value": "The back of the bus features an advertisement."},
        ]},
        {"id": "000000052846", "image": "images/000000052846.png", "conversations": [
            {"from": "human", "value": "Where is the cat positioned in the image?\n<image>"},
            {"from": "gpt", "value": "The cat is positioned on top of the back of the couch."},
        ]},
        # The LLaVA-1.5 mix keeps text-only ShareGPT conversations in the same file: they have no "image" key.
        {"id": "i6IyJda_0", "model": "", "conversations": [
            {"from": "human", "value": "How to tell if a customer segment is well segmented? In 3 bullet points."},
            {"from": "gpt", "value": "1. Homogeneity\n2. Distinctiveness\n3. Stability"},
        ]},
    ]
    path = root / "llava_v1_5_mix665k.json"
    path.write_text(json.dumps(records, indent=1))
    return Written(path, "json", shas)


def llava_check(samples: list[Sample], w: Written) -> None:
    assert [images_of(s) for s in samples] == [[w.shas["000000033471"]], [w.shas["000000052846"]], []]
    assert samples[0].turns == [
        {"user": "What are the colors of the bus in the image?", "assistant": "The bus in the image is white and red."},
        {"user": "What feature can be seen on the back of the bus?",
         "assistant": "The back of the bus features an advertisement."},
    ]
    assert samples[1].turns == [{"user": "Where is the cat positioned in the image?",
                                 "assistant": "The cat is positioned on top of the back of the couch."}]
    assert samples[2].turns == [{"user": "How to tell if a customer segment is well segmented? In 3 bullet points.",
                                 "assistant": "1. Homogeneity\n2. Distinctiveness\n3. Stability"}]


def cauldron_files(root: Path) -> Written:
    images = [png_bytes(i) for i in range(3)]
    table = pa.table({
        "images": pa.array([[hf_image(images[0])], [hf_image(images[1]), hf_image(images[2])]], pa.list_(HF_IMAGE)),
        "texts": [
            [{"user": "Question: What is the label of the first bar?\nChoices:\nA. 2010\nB. 2011\n"
                      "Answer with the letter.", "assistant": "Answer: A", "source": "ChartQA"}],
            [{"user": "Are the two images the same?", "assistant": "No.", "source": "synthetic"},
             {"user": "Which one is brighter?", "assistant": "The second one.", "source": "synthetic"}],
        ],
    })
    path = root / "chartqa" / "train-00000-of-00001.parquet"
    path.parent.mkdir()
    pq.write_table(table, path)
    return Written(path, "parquet", {str(i): sha(b) for i, b in enumerate(images)})


def cauldron_check(samples: list[Sample], w: Written) -> None:
    assert [images_of(s) for s in samples] == [[w.shas["0"]], [w.shas["1"], w.shas["2"]]]
    assert samples[0].turns == [{
        "user": "Question: What is the label of the first bar?\nChoices:\nA. 2010\nB. 2011\nAnswer with the letter.",
        "assistant": "Answer: A",
    }]
    assert samples[1].turns == [{"user": "Are the two images the same?", "assistant": "No."},
                                {"user": "Which one is brighter?", "assistant": "The second one."}]


def sharegpt_files(root: Path) -> Written:
    shas = {n: write_png(root / "images" / f"{n}.png", i + 3) for i, n in enumerate("abc")}
    records = [
        {"messages": [
            {"role": "system", "content": "You are a careful visual assistant."},
            {"role": "user", "content": "<image>What is in the picture?"},
            {"role": "assistant", "content": "A single coloured square."},
            {"role": "user", "content": "Which colour?"},
            {"role": "assistant", "content": "Mostly green."},
        ], "images": ["images/a.png"]},
        {"messages": [
            {"role": "user", "content": [
                {"type": "image_url", "image_url": {"url": "images/b.png"}},
                {"type": "image_url", "image_url": {"url": "images/c.png"}},
                {"type": "text", "text": "Which picture is larger?"},
            ]},
            {"role": "assistant", "content": [{"type": "text", "text": "The second one."}]},
        ], "images": ["images/b.png", "images/c.png"]},
    ]
    path = root / "sharegpt_openai.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return Written(path, "jsonl", shas)


def sharegpt_check(samples: list[Sample], w: Written) -> None:
    assert [images_of(s) for s in samples] == [[w.shas["a"]], [w.shas["b"], w.shas["c"]]]
    assert samples[0].turns == [
        {"user": "You are a careful visual assistant.\n\nWhat is in the picture?", "assistant": "A single coloured square."},
        {"user": "Which colour?", "assistant": "Mostly green."},
    ]
    assert samples[1].turns == [{"user": "Which picture is larger?", "assistant": "The second one."}]


def openai_data_url_files(root: Path) -> Written:
    """OpenAI chat format as sent to the API: images inline as base64 data URLs, no images column."""
    images = [png_bytes(14), png_bytes(15)]
    urls = ["data:image/png;base64," + base64.b64encode(b).decode() for b in images]
    records = [
        {"messages": [
            {"role": "user", "content": [{"type": "text", "text": "What colour is this?"},
                                         {"type": "image_url", "image_url": {"url": urls[0], "detail": "low"}}]},
            {"role": "assistant", "content": "Green."},
        ]},
        {"messages": [
            {"role": "developer", "content": "Answer in one word."},
            {"role": "user", "content": [{"type": "image_url", "image_url": {"url": urls[1]}},
                                         {"type": "image_url", "image_url": {"url": urls[0]}},
                                         {"type": "text", "text": "Same colour?"}]},
            {"role": "assistant", "content": [{"type": "text", "text": "No."}]},
        ]},
    ]
    path = root / "openai_chat.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return Written(path, "jsonl", {str(i): sha(b) for i, b in enumerate(images)})


def openai_data_url_check(samples: list[Sample], w: Written) -> None:
    assert [images_of(s) for s in samples] == [[w.shas["0"]], [w.shas["1"], w.shas["0"]]]
    assert samples[0].turns == [{"user": "What colour is this?", "assistant": "Green."}]
    assert samples[1].turns == [{"user": "Answer in one word.\n\nSame colour?", "assistant": "No."}]


def vqav2_files(root: Path) -> Written:
    def answers(*texts: str) -> list[dict[str, Any]]:
        return [{"answer": t, "answer_confidence": "yes", "answer_id": i + 1} for i, t in enumerate(texts)]

    shas = {n: write_png(root / "val2014" / f"COCO_val2014_{n}.png", i + 6) for i, n in enumerate(["393225", "262148"])}
    records = [
        {"image": "val2014/COCO_val2014_393225.png", "question_id": 393225000, "question": "What is this photo taken looking through?",
         "question_type": "what is this", "answers": answers("net", "net", "netting", "net", "net", "net", "mesh", "net",
                                                             "net", "net"),
         "multiple_choice_answer": "net", "answer_type": "other"},
        {"image": "val2014/COCO_val2014_262148.png", "question_id": 262148000, "question": "Is the sky blue?",
         "question_type": "is the", "answers": answers("yes", "yes", "yes", "no", "yes", "yes", "yes", "yes", "yes", "yes"),
         "multiple_choice_answer": "yes", "answer_type": "yes/no"},
    ]
    path = root / "vqav2_val.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return Written(path, "jsonl", shas)


def vqav2_check(samples: list[Sample], w: Written) -> None:
    assert [images_of(s) for s in samples] == [[w.shas["393225"]], [w.shas["262148"]]]
    assert [s.turns for s in samples] == [
        [{"user": "What is this photo taken looking through?", "assistant": "net"}],
        [{"user": "Is the sky blue?", "assistant": "yes"}],
    ]


def scienceqa_files(root: Path) -> Written:
    images = [png_bytes(8), png_bytes(9)]
    common = {"task": "closed choice", "category": "Geography", "skill": "Read a map", "solution": "Look closely."}
    table = pa.table({
        "image": pa.array([hf_image(images[0]), hf_image(images[1]), None], HF_IMAGE),
        "question": ["Which of these states is farthest north?",
                     "Which animal's feet are also adapted for sticking to smooth surfaces?",
                     "Which word would you find on a dictionary page between 'shot' and 'sunlight'?"],
        "choices": [["West Virginia", "Louisiana", "Arizona", "Oklahoma"], ["tokay gecko", "Madagascar day gecko"],
                    ["stove", "sea"]],
        "answer": pa.array([0, 1, 0], pa.int8()),
        "hint": ["", "Tree frogs live in rain forests. Their feet are adapted for sticking to smooth surfaces.", ""],
        "grade": ["grade2", "grade4", "grade3"],
        "subject": ["social science", "natural science", "language science"],
        "topic": ["geography", "biology", "reference-skills"],
        "lecture": ["Maps have four cardinal directions.", "An adaptation is an inherited trait.", "Guide words ..."],
        **{k: [v] * 3 for k, v in common.items()},
    })
    path = root / "scienceqa" / "validation-00000-of-00001.parquet"
    path.parent.mkdir()
    pq.write_table(table, path)
    return Written(path, "parquet", {str(i): sha(b) for i, b in enumerate(images)})


def scienceqa_check(samples: list[Sample], w: Written) -> None:
    assert [images_of(s) for s in samples] == [[w.shas["0"]], [w.shas["1"]], []]
    assert samples[0].turns == [{
        "user": "Which of these states is farthest north?\nA. West Virginia\nB. Louisiana\nC. Arizona\nD. Oklahoma",
        "assistant": "A. West Virginia",
    }]
    assert samples[1].turns == [{
        "user": "Context: Tree frogs live in rain forests. Their feet are adapted for sticking to smooth surfaces.\n"
                "Which animal's feet are also adapted for sticking to smooth surfaces?\nA. tokay gecko\n"
                "B. Madagascar day gecko",
        "assistant": "B. Madagascar day gecko",
    }]
    assert samples[2].turns[0]["assistant"] == "A. stove"


COCO_CAPTIONS = [
    ["A man with a red helmet on a small moped on a dirt road.", "Man riding a motor bike on a dirt road on the countryside.",
     "A man riding on the back of a motorcycle.", "A dirt path with a young person on a motor bike.",
     "A man in a red shirt and a red hat is on a motorcycle on a hill side."],
    ["A woman wearing a net on her head cutting a cake.", "A woman cutting a large white sheet cake.",
     "A woman wearing a hair net cutting a large sheet cake.", "There is a woman that is cutting a white cake.",
     "A woman marking a cake with the back of a chef's knife."],
]


def captions_files(root: Path) -> Written:
    """COCO captions in the Karpathy split file: {"images": [{filename, sentences: [{raw, tokens}]}], "dataset"}."""
    names = ["COCO_val2014_000000391895.png", "COCO_val2014_000000522418.png"]
    shas = {n: write_png(root / n, i + 10) for i, n in enumerate(names)}
    images = [
        {"filepath": "val2014", "filename": name, "imgid": n, "split": "test", "cocoid": 391895 + n,
         "sentids": list(range(5 * n, 5 * n + 5)),
         "sentences": [{"tokens": c.lower().rstrip(".").split(), "raw": c, "imgid": n, "sentid": 5 * n + i}
                       for i, c in enumerate(caps)]}
        for n, (name, caps) in enumerate(zip(names, COCO_CAPTIONS, strict=True))
    ]
    path = root / "dataset_coco.json"
    path.write_text(json.dumps({"images": images, "dataset": "coco"}))
    return Written(path, "json", {str(i): shas[n] for i, n in enumerate(names)})


def captions_check(samples: list[Sample], w: Written) -> None:
    assert [images_of(s) for s in samples] == [[w.shas["0"]], [w.shas["1"]]]
    for sample, captions in zip(samples, COCO_CAPTIONS, strict=True):
        assert [t["assistant"] for t in sample.turns] == captions
        assert all(t["user"] in CAPTION_INSTRUCTIONS for t in sample.turns)


def ocr_files(root: Path) -> Written:
    shas = {n: write_png(root / "words" / f"{n}.png", i + 12) for i, n in enumerate(["1_1", "1_2"])}
    path = root / "iiit5k_words.csv"
    path.write_text('image_path,text\nwords/1_1.png,STOP\nwords/1_2.png,"Main Street 42\nOpen 9-17"\n')
    return Written(path, "csv", shas)


def ocr_check(samples: list[Sample], w: Written) -> None:
    assert [images_of(s) for s in samples] == [[w.shas["1_1"]], [w.shas["1_2"]]]
    assert [[t["assistant"] for t in s.turns] for s in samples] == [["STOP"], ["Main Street 42\nOpen 9-17"]]
    assert all(s.turns[0]["user"] in OCR_INSTRUCTIONS for s in samples)


def textonly_files(root: Path) -> Written:
    records = [
        {"instruction": "Give three tips for staying healthy.", "input": "",
         "output": "1. Eat a balanced diet.\n2. Exercise regularly.\n3. Sleep well."},
        {"instruction": "Translate the sentence to French.", "input": "The cat sleeps.", "output": "Le chat dort."},
    ]
    path = root / "alpaca_data.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return Written(path, "jsonl")


def textonly_check(samples: list[Sample], w: Written) -> None:
    assert [images_of(s) for s in samples] == [[], []]
    assert [s.turns for s in samples] == [
        [{"user": "Give three tips for staying healthy.",
          "assistant": "1. Eat a balanced diet.\n2. Exercise regularly.\n3. Sleep well."}],
        [{"user": "Translate the sentence to French.\n\nThe cat sleeps.", "assistant": "Le chat dort."}],
    ]


def textonly_csv_files(root: Path) -> Written:
    path = root / "trivia.csv"
    path.write_text("question,answer\nWhat is the capital of France?,Paris.\nHow many legs does a spider have?,Eight.\n")
    return Written(path, "csv")


def textonly_csv_check(samples: list[Sample], w: Written) -> None:
    assert [s.turns for s in samples] == [
        [{"user": "What is the capital of France?", "assistant": "Paris."}],
        [{"user": "How many legs does a spider have?", "assistant": "Eight."}],
    ]
    assert all(s.image_count == 0 for s in samples)


@dataclass(frozen=True)
class Layout:
    name: str  # the source's name, as a curator would type it (it hints the category)
    files: Callable[[Path], Written]
    check: Callable[[list[Sample], Written], None]
    category: str
    preview_text: str  # a text the preview must show for the first row


LAYOUTS = [
    Layout("LLaVA-Instruct-150K", llava_files, llava_check, Subset.Category.GENERAL_VQA,
           "What are the colors of the bus in the image?"),
    Layout("the_cauldron/chartqa", cauldron_files, cauldron_check, Subset.Category.CHART_TABLE, "Answer: A"),
    Layout("sharegpt-openai-mini", sharegpt_files, sharegpt_check, Subset.Category.GENERAL_VQA,
           "A single coloured square."),
    Layout("openai-chat-data-urls", openai_data_url_files, openai_data_url_check, Subset.Category.GENERAL_VQA,
           "What colour is this?"),
    Layout("VQAv2 val", vqav2_files, vqav2_check, Subset.Category.GENERAL_VQA, "What is this photo taken looking through?"),
    Layout("ScienceQA", scienceqa_files, scienceqa_check, Subset.Category.SCIENCE, "A. West Virginia"),
    Layout("COCO Karpathy captions", captions_files, captions_check, Subset.Category.CAPTIONING, COCO_CAPTIONS[0][0]),
    Layout("IIIT5K words", ocr_files, ocr_check, Subset.Category.OCR, "STOP"),
    Layout("alpaca", textonly_files, textonly_check, Subset.Category.TEXT_ONLY, "Give three tips for staying healthy."),
    Layout("trivia-qa-small", textonly_csv_files, textonly_csv_check, Subset.Category.TEXT_ONLY,
           "What is the capital of France?"),
]


# --- driving the pages ------------------------------------------------------------------------------------

def images_of(sample: Sample) -> list[str]:
    return [si.image_id for si in sample.sample_images.order_by("position")]


def wait_job(target: Any, kind: str) -> Job:
    deadline = time.monotonic() + JOB_TIMEOUT
    while time.monotonic() < deadline:
        job = job_latest_for(target=target, kind=kind)
        if job is not None and job.is_finished:
            assert job.state == Job.State.SUCCEEDED, f"{kind} job {job.pk}: {job.state} {job.message}"
            return job
        time.sleep(0.1)
    raise AssertionError(f"no finished {kind} job for {target} after {JOB_TIMEOUT}s")


class FormFields(HTMLParser):
    """The fields a browser submits for one form: named inputs, checked boxes, textareas, selected options."""

    def __init__(self, form_id: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self._textarea: str | None = None
        self._select: str | None = None
        self._first_option: str | None = None
        self._selected = False
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside or tag == "form":
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields.append((name, a.get("value", "on")))
            elif kind not in ("submit", "button", "file"):
                self.fields.append((name, a.get("value", "")))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []
        elif tag == "select" and name:
            self._select, self._first_option, self._selected = name, None, False
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            if self._first_option is None:
                self._first_option = value
            if "selected" in a:
                self.fields.append((self._select, value))
                self._selected = True

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "textarea" and self._textarea is not None:
            # Browsers drop the one newline that follows <textarea>.
            text = "".join(self._text)
            self.fields.append((self._textarea, text[1:] if text.startswith("\n") else text))
            self._textarea = None
        elif tag == "select" and self._select is not None:
            if not self._selected and self._first_option is not None:
                self.fields.append((self._select, self._first_option))
            self._select = None


def form_data(html: str, form_id: str) -> dict[str, list[str]]:
    parser = FormFields(form_id)
    parser.feed(html)
    assert parser.fields, f"no form #{form_id} on the page"
    data: dict[str, list[str]] = {}
    for name, value in parser.fields:
        data.setdefault(name, []).append(value)
    return data


def register(client: Client, layout: Layout, written: Written) -> Source:
    response = client.post("/sources/new/", {
        "name": layout.name, "location": str(written.file), "format": written.format,
        "origin": "https://example.org/dataset", "license": "CC BY 4.0", "citation": "", "description": "",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    source = Source.objects.get(name=layout.name)
    assert response["Location"] == f"/sources/{source.pk}/"
    return source


@pytest.mark.parametrize("layout", LAYOUTS, ids=[layout.files.__name__.removesuffix("_files") for layout in LAYOUTS])
def test_a_curator_takes_a_layout_from_files_to_samples(celery_worker_real, curator_client, tmp_path, layout):
    written = layout.files(tmp_path)
    source = register(curator_client, layout, written)

    ingest = wait_job(source, job_kinds.INGEST.key)
    source.refresh_from_db()
    assert ingest.error_count == 0, list(ingest.errors.values_list("message", flat=True))
    assert source.status == Source.Status.READY and source.row_count >= 2

    # The first ingest queues a suggestion; the page shows it with a preview of real rows.
    suggest = wait_job(source, job_kinds.SUGGEST_MAPPING.key)
    suggestion = Mapping.objects.get(pk=suggest.result["mapping_id"])
    page = curator_client.get(f"/sources/{source.pk}/mapping/")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="spec-errors"' not in html and 'class="error row-error"' not in html, re.findall(
        r'<li>[^<]*</li>|class="error row-error">[^<]*<', html)
    assert html.count('class="preview-row"') >= 2 and json.dumps(layout.preview_text)[1:-1] in html.replace(
        "&#x27;", "'").replace("&quot;", '"')
    missing = [r["text"] for r in suggestion.reasons if r["column"] is None and r["role"] != "note"]
    assert not missing, missing

    # Accept exactly what the editor shows: the form the browser would submit, sent to the accept button's action.
    accepted = curator_client.post(f"/sources/{source.pk}/mapping/accept/", form_data(html, "mapping-editor"))
    assert accepted.status_code == 302, accepted.content.decode()[:3000]
    assert accepted["Location"] == f"/sources/{source.pk}/mapping/?version={suggestion.version}"
    suggestion.refresh_from_db()
    assert suggestion.status == Mapping.Status.ACCEPTED  # the suggestion itself, not an edited copy

    apply = wait_job(suggestion, job_kinds.APPLY_MAPPING.key)
    assert apply.error_count == 0, list(apply.errors.values_list("message", flat=True))
    samples = list(Sample.objects.filter(source=source).order_by("row_number"))
    assert len(samples) == source.row_count and apply.result["samples"] == len(samples)
    assert all(s.mapping_id == suggestion.pk for s in samples)
    layout.check(samples, written)
    for sample in samples:
        assert sample.image_count == len(images_of(sample))
        assert all("<image>" not in t["user"] + t["assistant"] for t in sample.turns)

    subset = Subset.objects.get(pk=suggestion.subset_id)
    assert subset.category == layout.category
    listed = curator_client.get(f"/subsets/{subset.pk}/").content.decode()
    assert all(f'data-sample="{s.pk}"' in listed for s in samples)
