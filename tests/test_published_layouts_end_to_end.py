"""Sources as they are published, from files to samples the way a curator drives them through the pages.

ScienceQA's problems.json (an object keyed by problem id, images in <split>/<id>/image.png), COCO captions
(images and annotations in one file, joined per image), VQAv2 as released (questions and annotations in two
files joined by question_id, images named from image_id) and a {"data": [...]} envelope (DocVQA). Each is
registered on /sources/new/ with its declaration, previewed, ingested by a real worker, mapped by the
suggestion without edits, and its samples checked turn by turn.
"""
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from PIL import Image as PILImage

from curation.mapping.suggesters.build import CAPTION_INSTRUCTIONS
from curation.models import JobError, Mapping, Sample, Source, Subset
from curation.services import job_kinds
from tests.test_layouts_end_to_end import Written, form_data, images_of, sha, wait_job, write_png

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def write_jpeg(path: Path, n: int) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    PILImage.new("RGB", (10 + n, 7 + n), (n * 50 % 256, 90, 255 - n * 20 % 256)).save(buffer, format="JPEG")
    path.write_bytes(buffer.getvalue())
    return sha(buffer.getvalue())


# --- ScienceQA problems.json ---------------------------------------------------------------------------

def scienceqa_problems_files(root: Path) -> tuple[Written, dict[str, str]]:
    shas = {pid: write_png(root / "images" / "train" / pid / "image.png", i + 20) for i, pid in enumerate(["1", "5"])}
    common = {"task": "closed choice", "grade": "grade2", "subject": "social science", "topic": "geography",
              "category": "Geography", "skill": "Read a map: cardinal directions", "split": "train"}
    problems = {
        "1": {"question": "Which of these states is farthest north?", "choices": ["West Virginia", "Louisiana", "Arizona",
              "Oklahoma"], "answer": 0, "hint": "", "image": "image.png", "lecture": "Maps have four cardinal directions.",
              "solution": "To find the answer, look at the compass rose.", **common},
        "5": {"question": "Which animal's feet are also adapted for sticking to smooth surfaces?",
              "choices": ["tokay gecko", "Madagascar day gecko"], "answer": 1,
              "hint": "Tree frogs live in rain forests. Their feet are adapted for sticking to smooth surfaces.",
              "image": "image.png", "lecture": "An adaptation is an inherited trait.", "solution": "Look at the feet.",
              **{**common, "subject": "natural science", "topic": "biology"}},
        "9": {"question": "Which word would you find on a dictionary page between 'shot' and 'sunlight'?",
              "choices": ["stove", "sea"], "answer": 0, "hint": "", "image": None, "lecture": "Guide words ...",
              "solution": "Put the words in alphabetical order.", **{**common, "subject": "language science"}},
    }
    path = root / "problems.json"
    path.write_text(json.dumps(problems))
    fields = {"image_root": str(root / "images"), "image_pattern": "{split}/{id}/{image}", "label_origin": "human",
              "task_name": "science_qa"}
    return Written(path, "json", shas), fields


def scienceqa_problems_check(samples: list[Sample], w: Written) -> None:
    assert [images_of(s) for s in samples] == [[w.shas["1"]], [w.shas["5"]], []]
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
    assert samples[2].turns == [{
        "user": "Which word would you find on a dictionary page between 'shot' and 'sunlight'?\nA. stove\nB. sea",
        "assistant": "A. stove",
    }]


# --- COCO captions ---------------------------------------------------------------------------------------

COCO_CAPTIONS = {
    391895: ["A man with a red helmet on a small moped on a dirt road.", "Man riding a motor bike on a dirt road.",
             "A man riding on the back of a motorcycle.", "A dirt path with a young person on a motor bike.",
             "A man in a red shirt and a red hat is on a motorcycle on a hill side."],
    522418: ["A woman wearing a net on her head cutting a cake.", "A woman cutting a large white sheet cake.",
             "A woman wearing a hair net cutting a large sheet cake.", "There is a woman that is cutting a white cake.",
             "A woman marking a cake with the back of a chef's knife."],
}


def coco_captions_files(root: Path) -> tuple[Written, dict[str, str]]:
    names = {image_id: f"COCO_val2014_{image_id:012d}.jpg" for image_id in COCO_CAPTIONS}
    shas = {str(image_id): write_jpeg(root / "val2014" / name, i) for i, (image_id, name) in enumerate(names.items())}
    images = [{"license": 3, "file_name": name, "coco_url": f"http://images.cocodataset.org/val2014/{name}",
               "height": 480, "width": 640, "date_captured": "2013-11-14 11:18:45", "id": image_id}
              for image_id, name in names.items()]
    annotations: list[dict[str, Any]] = []
    for n in range(5):  # interleaved, as the file has them: not grouped by image
        for image_id, captions in COCO_CAPTIONS.items():
            annotations.append({"image_id": image_id, "id": len(annotations) + 1, "caption": captions[n]})
    annotations.append({"image_id": 999999, "id": 99, "caption": "An image that is not in this file."})
    document = {"info": {"description": "COCO 2014 Dataset", "year": 2014}, "licenses": [{"id": 3, "name": "CC BY"}],
                "images": images, "annotations": annotations}
    path = root / "annotations" / "captions_val2014.json"
    path.parent.mkdir()
    path.write_text(json.dumps(document))
    fields = {"image_root": str(root / "val2014"), "records_key": "images", "join_records_key": "annotations",
              "join_left_key": "id", "join_right_key": "image_id", "join_many": "on", "join_column": "captions",
              "label_origin": "human", "task_name": "captioning"}
    return Written(path, "json", shas), fields


def coco_captions_check(samples: list[Sample], w: Written) -> None:
    assert [images_of(s) for s in samples] == [[w.shas["391895"]], [w.shas["522418"]]]
    for sample, captions in zip(samples, COCO_CAPTIONS.values(), strict=True):
        assert [t["assistant"] for t in sample.turns] == captions
        assert all(t["user"] in CAPTION_INSTRUCTIONS for t in sample.turns)


# --- VQAv2 questions + annotations ----------------------------------------------------------------------------

def vqav2_release_files(root: Path) -> tuple[Written, dict[str, str]]:
    shas = {str(i): write_jpeg(root / "val2014" / f"COCO_val2014_{i:012d}.jpg", n + 3)
            for n, i in enumerate([393225, 262148])}

    def answers(*texts: str) -> list[dict[str, Any]]:
        return [{"answer": t, "answer_confidence": "yes", "answer_id": i + 1} for i, t in enumerate(texts)]

    questions = {"info": {"description": "VQA v2"}, "task_type": "Open-Ended", "data_type": "mscoco",
                 "license": {"name": "CC BY 4.0"}, "data_subtype": "val2014", "questions": [
                     {"image_id": 393225, "question": "What is this photo taken looking through?", "question_id": 393225000},
                     {"image_id": 262148, "question": "Is the sky blue?", "question_id": 262148000},
                 ]}
    annotations = {"info": {"description": "VQA v2"}, "license": {"name": "CC BY 4.0"}, "data_subtype": "val2014",
                   "annotations": [
                       {"question_type": "is the", "multiple_choice_answer": "yes", "image_id": 262148,
                        "answer_type": "yes/no", "question_id": 262148000,
                        "answers": answers("yes", "yes", "yes", "no", "yes", "yes", "yes", "yes", "yes", "yes")},
                       {"question_type": "what is this", "multiple_choice_answer": "net", "image_id": 393225,
                        "answer_type": "other", "question_id": 393225000,
                        "answers": answers("net", "net", "netting", "net", "net", "net", "mesh", "net", "net", "net")},
                   ]}
    path = root / "v2_OpenEnded_mscoco_val2014_questions.json"
    path.write_text(json.dumps(questions))
    other = root / "v2_mscoco_val2014_annotations.json"
    other.write_text(json.dumps(annotations))
    fields = {"image_root": str(root / "val2014"), "join_location": str(other), "join_left_key": "question_id",
              "join_right_key": "question_id", "image_pattern": "COCO_val2014_{image_id:012d}.jpg",
              "label_origin": "human", "task_name": "vqa"}
    return Written(path, "json", shas), fields


def vqav2_release_check(samples: list[Sample], w: Written) -> None:
    assert [images_of(s) for s in samples] == [[w.shas["393225"]], [w.shas["262148"]]]
    assert [s.turns for s in samples] == [
        [{"user": "What is this photo taken looking through?", "assistant": "net"}],
        [{"user": "Is the sky blue?", "assistant": "yes"}],
    ]


# --- {"data": [...]} envelope (DocVQA) ---------------------------------------------------------------------------

def docvqa_envelope_files(root: Path) -> tuple[Written, dict[str, str]]:
    shas = {n: write_png(root / "documents" / f"{n}.png", i + 30) for i, n in enumerate(["pybv0228_81", "mxcj0037_2"])}
    document = {"dataset_name": "docvqa", "dataset_split": "val", "dataset_version": "1.0", "data": [
        {"questionId": 49153, "question": "What is the ‘actual’ value per 1000, during the year 1975?",
         "question_types": ["figure/diagram"], "image": "documents/pybv0228_81.png", "docId": 14465,
         "ucsf_document_id": "pybv0228", "ucsf_document_page_no": "81", "answers": ["0.28"], "data_split": "val"},
        {"questionId": 24580, "question": "What is name of university?", "question_types": ["layout"],
         "image": "documents/mxcj0037_2.png", "docId": 2724, "ucsf_document_id": "mxcj0037",
         "ucsf_document_page_no": "2", "answers": ["university of california", "University of California",
                                                   "university of california"], "data_split": "val"},
    ]}
    path = root / "val_v1.0.json"
    path.write_text(json.dumps(document))
    return Written(path, "json", shas), {"label_origin": "human", "task_name": "document_vqa"}


def docvqa_envelope_check(samples: list[Sample], w: Written) -> None:
    assert [images_of(s) for s in samples] == [[w.shas["pybv0228_81"]], [w.shas["mxcj0037_2"]]]
    assert [s.turns for s in samples] == [
        [{"user": "What is the ‘actual’ value per 1000, during the year 1975?", "assistant": "0.28"}],
        [{"user": "What is name of university?", "assistant": "university of california"}],
    ]


@dataclass(frozen=True)
class Published:
    name: str
    files: Callable[[Path], tuple[Written, dict[str, str]]]
    check: Callable[[list[Sample], Written], None]
    category: str
    records_key: str  # what the source's page must show as stored (filled in when it was obvious)
    rejected: int = 0  # error rows the ingest must report (the join's leftovers)


PUBLISHED = [
    Published("ScienceQA problems", scienceqa_problems_files, scienceqa_problems_check, Subset.Category.SCIENCE, "*"),
    Published("COCO captions 2014", coco_captions_files, coco_captions_check, Subset.Category.CAPTIONING, "images",
              rejected=1),
    Published("VQAv2 val", vqav2_release_files, vqav2_release_check, Subset.Category.GENERAL_VQA, "questions"),
    Published("DocVQA val", docvqa_envelope_files, docvqa_envelope_check, Subset.Category.OCR_QA, "data"),
]


def register(client: Client, layout: Published, written: Written, fields: dict[str, str]) -> Source:
    data = {"name": layout.name, "location": str(written.file), "format": written.format,
            "origin": "https://example.org/dataset", "license": "CC BY 4.0", **fields}
    preview = client.post("/sources/new/preview/", data, headers={"HX-Request": "true"}).content.decode()
    assert 'id="source-preview-errors"' not in preview and 'class="preview-record"' in preview, preview[:3000]
    response = client.post("/sources/new/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    return Source.objects.get(name=layout.name)


@pytest.mark.parametrize("layout", PUBLISHED, ids=[p.files.__name__.removesuffix("_files") for p in PUBLISHED])
def test_a_published_layout_goes_from_files_to_samples_without_edits(celery_worker_real, curator_client, tmp_path,
                                                                     layout):
    written, fields = layout.files(tmp_path)
    source = register(curator_client, layout, written, fields)
    assert source.records_key == layout.records_key
    assert (source.label_origin, source.task_name) == (fields["label_origin"], fields["task_name"])

    ingest = wait_job(source, job_kinds.INGEST.key)
    source.refresh_from_db()
    errors = list(ingest.errors.values_list("message", flat=True))
    assert len(errors) == layout.rejected, errors
    assert source.status == Source.Status.READY and source.row_count >= 2
    page = curator_client.get(f"/sources/{source.pk}/").content.decode()
    assert 'id="source-label-origin">Human-written' in page
    if source.has_join:
        assert 'id="source-join"' in page and ingest.result["join"]["matched_rows"] == source.row_count

    suggest = wait_job(source, job_kinds.SUGGEST_MAPPING.key)
    suggestion = Mapping.objects.get(pk=suggest.result["mapping_id"])
    missing = [r["text"] for r in suggestion.reasons if r["column"] is None and r["role"] != "note"]
    assert not missing and suggest.result["valid"], (missing, suggestion.reasons)
    html = curator_client.get(f"/sources/{source.pk}/mapping/").content.decode()
    assert 'id="spec-errors"' not in html and 'class="error row-error"' not in html
    accepted = curator_client.post(f"/sources/{source.pk}/mapping/accept/", form_data(html, "mapping-editor"))
    assert accepted.status_code == 302, accepted.content.decode()[:3000]
    suggestion.refresh_from_db()
    assert suggestion.status == Mapping.Status.ACCEPTED  # the suggestion itself: no edit was needed

    apply = wait_job(suggestion, job_kinds.APPLY_MAPPING.key)
    assert apply.error_count == 0, list(apply.errors.values_list("message", flat=True))
    samples = list(Sample.objects.filter(source=source).order_by("row_number"))
    assert len(samples) == source.row_count
    layout.check(samples, written)
    subset = Subset.objects.get(pk=suggestion.subset_id)
    assert subset.category == layout.category


def test_coco_annotations_of_unknown_images_are_reported_with_counts_and_examples(celery_worker_real, curator_client,
                                                                                   tmp_path):
    written, fields = coco_captions_files(tmp_path)
    source = register(curator_client, PUBLISHED[1], written, fields)
    ingest = wait_job(source, job_kinds.INGEST.key)
    join = ingest.result["join"]
    assert (join["left_rows"], join["matched_rows"], join["right_rows"], join["right_unmatched"]) == (2, 2, 11, 1)
    assert join["right_unmatched_examples"] == ["999999"]
    error = JobError.objects.get(job=ingest)
    assert "1 image_id value(s)" in error.message and "999999" in error.message
