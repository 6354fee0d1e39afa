"""mapping_apply: idempotent, batched, per-row failures kept, and a re-map swaps samples atomically."""
import base64
import io

import pytest
from django.db import IntegrityError, transaction
from PIL import Image as PILImage

from curation.mapping.spec import spec_from_dict
from curation.models import Job, JobError, Mapping, MappingStagedRow, Sample, SampleImage, Subset
from curation.services import job_kinds, mapping_build
from curation.services.mapping import mapping_accept, mapping_create_version
from curation.services.samples import samples_swap_in
from tests.curation.mapping import layouts
from tests.factories import image_bytes
from workers.tasks.mapping import apply_mapping

pytestmark = pytest.mark.django_db

QA = {"mode": "template", "pairs": [{"user": "{question}", "assistant": "{answer}"}]}


def qa_spec(subset="trivia", turns=None, filters=()):
    return {"subset": {"name": subset, "category": "text_only"}, "images": [], "turns": turns or QA,
            "filters": list(filters)}


def accept_and_apply(source, spec, by) -> tuple[Mapping, Job]:
    mapping = mapping_create_version(source=source, spec=spec_from_dict(spec, check=False), by=by)
    job = mapping_accept(mapping=mapping, by=by)
    apply_mapping.run(job.pk)
    job.refresh_from_db()
    mapping.refresh_from_db()
    return mapping, job


def samples_of(source):
    return list(Sample.objects.filter(source=source).order_by("row_number"))


@pytest.fixture
def trivia():
    return layouts.source_with_rows("trivia", [
        {"question": f"Question {n}?", "answer": f"Answer {n}."} for n in range(7)
    ])


def test_applying_twice_gives_the_same_samples_with_the_same_ids(trivia, curator, monkeypatch):
    monkeypatch.setattr(mapping_build, "APPLY_BATCH_SIZE", 3)  # several batches
    mapping, job = accept_and_apply(trivia, qa_spec(), curator)
    assert job.state == Job.State.SUCCEEDED and job.result["samples"] == 7 and job.done == 7 and job.total == 7
    first = [(s.pk, s.turns) for s in samples_of(trivia)]
    again = Job.objects.create(kind=job_kinds.APPLY_MAPPING.key, target_type=job.target_type, target_id=job.target_id)
    apply_mapping.run(again.pk)
    again.refresh_from_db()
    assert again.state == Job.State.SUCCEEDED and again.result["removed"] == 0
    assert [(s.pk, s.turns) for s in samples_of(trivia)] == first
    assert Subset.objects.get(name="trivia").sample_count == 7
    assert not MappingStagedRow.objects.exists()


def test_a_new_version_replaces_the_sources_samples_keeping_ids_of_rows_that_stay(trivia, curator):
    v1, _ = accept_and_apply(trivia, qa_spec(), curator)
    before = {s.row_number: s.pk for s in samples_of(trivia)}
    Sample.objects.filter(source=trivia, row_number=1).update(status=Sample.Status.ACCEPTED)
    turns = {"mode": "template", "pairs": [{"user": "Q: {question}", "assistant": "{answer}"}]}
    v2, job = accept_and_apply(trivia, qa_spec(turns=turns, filters=[{"column": "question", "op": "not_in",
                                                                       "value": ["Question 6?"]}]), curator)
    timings = job.result.pop("timings")
    assert job.result == {"mapping_id": v2.pk, "version": v2.version, "subset_id": v2.subset_id, "rows": 7,
                          "samples": 6, "filtered": 1, "rejected": 0, "warned": 0, "removed": 1}
    assert {"read", "map", "stage", "swap", "swap.commit"} <= set(timings) and all(t >= 0 for t in timings.values())
    assert all(name in {"read", "map", "stage", "swap"} or name.startswith("swap.") for name in timings)
    samples = samples_of(trivia)
    assert [s.row_number for s in samples] == [0, 1, 2, 3, 4, 5]
    assert all(s.mapping_id == v2.pk and s.turns[0]["user"].startswith("Q: ") for s in samples)
    assert {s.row_number: s.pk for s in samples} == {n: before[n] for n in range(6)}
    assert samples[1].status == Sample.Status.PENDING  # new turns: the earlier review no longer applies
    v1.refresh_from_db()
    assert v1.status == Mapping.Status.SUPERSEDED and v2.applied_at is not None
    assert Subset.objects.get(name="trivia").sample_count == 6


def test_a_build_stopped_midway_leaves_the_previous_samples_live(trivia, curator):
    v1, _ = accept_and_apply(trivia, qa_spec(), curator)
    v2 = mapping_create_version(source=trivia, spec=spec_from_dict(qa_spec(turns={"mode": "template", "pairs": [
        {"user": "Q: {question}", "assistant": "{answer}"}]})), by=curator)
    job = mapping_accept(mapping=v2, by=curator)
    # Only the build runs (as if the worker died before the swap): nothing live changes.
    mapping_build._build(spec=spec_from_dict(v2.spec), mapping=v2, source=trivia, job=job)
    assert MappingStagedRow.objects.filter(mapping=v2).count() == 7
    assert {s.mapping_id for s in samples_of(trivia)} == {v1.pk}
    # The redelivered job builds again from scratch and swaps.
    apply_mapping.run(job.pk)
    assert {s.mapping_id for s in samples_of(trivia)} == {v2.pk}
    assert not MappingStagedRow.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_swap_that_fails_rolls_back_entirely(trivia, curator):
    v1, _ = accept_and_apply(trivia, qa_spec(), curator)
    v2 = mapping_create_version(source=trivia, spec=spec_from_dict(qa_spec()), by=curator)
    mapping_accept(mapping=v2, by=curator)
    MappingStagedRow.objects.create(mapping=v2, row_number=0, turns=[{"user": "x", "assistant": "y"}])
    # A staged row naming an image that is not stored: the database refuses at commit.
    MappingStagedRow.objects.create(mapping=v2, row_number=1, turns=[{"user": "x", "assistant": "y"}],
                                    image_shas=["0" * 64])
    with pytest.raises(IntegrityError), transaction.atomic():
        samples_swap_in(mapping=Mapping.objects.get(pk=v2.pk), subset=Subset.objects.get(name="trivia"))
    assert {s.mapping_id for s in samples_of(trivia)} == {v1.pk} and len(samples_of(trivia)) == 7
    assert Subset.objects.get(name="trivia").sample_count == 7


def test_rows_that_cannot_be_mapped_are_rejected_with_reasons_and_the_rest_applied(curator):
    source = layouts.source_with_rows("half-broken", [
        {"question": "Fine?", "answer": "Yes."}, {"question": "Empty answer?", "answer": ""},
        {"question": ["a", "list"], "answer": "x"}, {"question": "Also fine?", "answer": "Yes."},
    ])
    mapping, job = accept_and_apply(source, qa_spec(subset="half"), curator)
    assert job.state == Job.State.SUCCEEDED and job.error_count == 2 and job.result["samples"] == 2
    errors = {e.row_number: e.message for e in JobError.objects.filter(job=job)}
    assert errors[1] == "turn 1: {answer}: the value is empty"
    assert "{question} holds a list" in errors[2]
    assert [s.row_number for s in samples_of(source)] == [0, 3]


def test_when_every_row_fails_the_job_fails_and_the_previous_samples_stay(trivia, curator):
    v1, _ = accept_and_apply(trivia, qa_spec(), curator)
    broken = qa_spec()
    broken["images"] = [{"column": "question", "kind": "bytes"}]  # valid spec, but no row holds image bytes there
    v2 = mapping_create_version(source=trivia, spec=spec_from_dict(broken, check=False), by=None)
    job = mapping_accept(mapping=v2, by=curator)
    apply_mapping.run(job.pk)
    job.refresh_from_db()
    assert job.state == Job.State.FAILED and "every one of the 7 rows was rejected" in job.message
    assert job.error_count == 7
    assert {s.mapping_id for s in samples_of(trivia)} == {v1.pk}


def test_a_superseded_version_is_not_applied(trivia, curator):
    v1 = mapping_create_version(source=trivia, spec=spec_from_dict(qa_spec()), by=curator)
    old_job = mapping_accept(mapping=v1, by=curator)
    v2 = mapping_create_version(source=trivia, spec=spec_from_dict(qa_spec()), by=curator)
    new_job = mapping_accept(mapping=v2, by=curator)
    apply_mapping.run(old_job.pk)
    old_job.refresh_from_db()
    assert old_job.state == Job.State.FAILED and "is superseded, not accepted" in old_job.message
    assert not Sample.objects.exists()
    apply_mapping.run(new_job.pk)
    assert {s.mapping_id for s in samples_of(trivia)} == {v2.pk}


def test_remapping_into_another_subset_moves_the_samples_and_recounts_both(trivia, curator):
    accept_and_apply(trivia, qa_spec(subset="first-home"), curator)
    assert Subset.objects.get(name="first-home").sample_count == 7
    accept_and_apply(trivia, qa_spec(subset="second-home"), curator)
    assert Subset.objects.get(name="first-home").sample_count == 0
    assert Subset.objects.get(name="second-home").sample_count == 7
    assert set(Sample.objects.values_list("subset__name", flat=True)) == {"second-home"}


def test_other_sources_in_the_same_subset_are_untouched(trivia, curator):
    other = layouts.source_with_rows("more-trivia", [{"question": "Other?", "answer": "Yes."}])
    accept_and_apply(other, qa_spec(subset="shared"), curator)
    accept_and_apply(trivia, qa_spec(subset="shared"), curator)
    accept_and_apply(trivia, qa_spec(subset="shared", filters=[{"column": "question", "op": "equals",
                                                                 "value": "Question 0?"}]), curator)
    shared = Subset.objects.get(name="shared")
    assert shared.sample_count == 2 and Sample.objects.filter(source=other).count() == 1


def test_an_approved_subset_is_not_changed_by_a_swap(trivia, curator):
    v1, _ = accept_and_apply(trivia, qa_spec(), curator)
    v2 = mapping_create_version(source=trivia, spec=spec_from_dict(qa_spec()), by=curator)
    job = mapping_accept(mapping=v2, by=curator)
    Subset.objects.filter(name="trivia").update(status=Subset.Status.APPROVED, approved_at="2026-01-01T00:00:00Z")
    apply_mapping.run(job.pk)
    job.refresh_from_db()
    assert job.state == Job.State.FAILED and "is approved" in job.message
    assert {s.mapping_id for s in samples_of(trivia)} == {v1.pk}


def test_image_paths_relative_to_the_source_folder_and_base64_bytes_are_stored(curator, tmp_path):
    folder = tmp_path / "vqa"
    (folder / "imgs").mkdir(parents=True)
    (folder / "imgs" / "red.png").write_bytes(image_bytes(color=(255, 0, 0)))
    buffer = io.BytesIO()
    PILImage.new("RGB", (4, 4), (0, 0, 255)).save(buffer, format="PNG")
    blue = base64.b64encode(buffer.getvalue()).decode()
    source = layouts.source_with_rows("paths", [
        {"file": "imgs/red.png", "raw": f"data:image/png;base64,{blue}", "question": "Colours?", "answer": "red, blue"},
        {"file": "imgs/missing.png", "raw": None, "question": "Colours?", "answer": "?"},
        {"file": "../../../etc/passwd.png", "raw": None, "question": "Colours?", "answer": "?"},
    ], location=str(folder / "data.jsonl"))
    spec = qa_spec(subset="paths")
    spec["images"] = [{"column": "file", "kind": "path"}, {"column": "raw", "kind": "bytes"}]
    _, job = accept_and_apply(source, spec, curator)
    sample = Sample.objects.get(source=source)
    images = list(SampleImage.objects.filter(sample=sample).select_related("image").order_by("position"))
    assert [(i.image.width, i.image.format) for i in images] == [(8, "PNG"), (4, "PNG")]
    errors = {e.row_number: e.message for e in JobError.objects.filter(job=job)}
    assert "image file not found" in errors[1] and "outside the allowed data roots" in errors[2]


def _links(source):
    return {s.row_number: list(SampleImage.objects.filter(sample=s).order_by("position").values_list("image_id", flat=True))
            for s in samples_of(source)}


@pytest.fixture
def two_images():
    return layouts.source_with_rows("pairs", [
        {"left": "$img", "right": "$img" if n % 3 else None, "question": f"Same {n}?", "answer": "no"} for n in range(6)
    ])


def test_a_remap_that_changes_the_images_rewrites_exactly_the_links_that_differ(two_images, curator):
    rows = {r.row_number: r.data for r in two_images.rows.all()}
    left = {n: data["left"]["$image"] for n, data in rows.items()}
    right = {n: data["right"]["$image"] for n, data in rows.items() if data["right"]}

    def spec(*columns):
        return {**qa_spec(subset="pairs"), "images": [{"column": c, "kind": "auto"} for c in columns]}

    accept_and_apply(two_images, spec("left"), curator)
    assert _links(two_images) == {n: [left[n]] for n in rows}
    ids = {n: list(SampleImage.objects.filter(sample__source=two_images, sample__row_number=n).values_list("pk", flat=True))
           for n in rows}
    accept_and_apply(two_images, spec("left", "right"), curator)
    assert _links(two_images) == {n: [left[n], *([right[n]] if n in right else [])] for n in rows}
    # The first image of every row stayed where it was: its link row was kept, not deleted and written again.
    assert all(SampleImage.objects.filter(pk=ids[n][0], position=0).exists() for n in rows)
    accept_and_apply(two_images, spec("right", "left"), curator)
    assert _links(two_images) == {n: [*([right[n]] if n in right else []), left[n]] for n in rows}
    accept_and_apply(two_images, spec("right"), curator)
    assert _links(two_images) == {n: [right[n]] if n in right else [] for n in rows}
    assert [s.image_count for s in samples_of(two_images)] == [len(v) for _, v in sorted(_links(two_images).items())]
