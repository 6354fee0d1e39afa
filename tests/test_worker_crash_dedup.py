"""Workers killed with SIGKILL in the middle of a copy-detection scan: once in an embedding batch (gpu queue), once
in a leak search batch (cpu queue). The batch and its parent show as stalled, `manage.py job retry` of the parent
sends the batch again, the other worker resumes it, the scan finishes, and its vectors, pairs and review items equal
those of an uncrashed scan, each once (issue 13 item 6)."""
import random
import time

import numpy as np
import pytest
from django.core.management import call_command
from PIL import Image, ImageDraw

from curation.engines.sscd import embedding_engine, preprocess
from curation.models import (
    DuplicatePair,
    DuplicateScan,
    ImageEmbedding,
    Job,
    JobAttempt,
    ReviewItem,
    SampleImage,
    Subset,
)
from curation.models import Image as StoredImage
from curation.services import job_kinds
from curation.services.benchmarks import benchmark_register
from curation.services.dedup import dedup_scan_start
from curation.services.embeddings import vectors_unpack
from curation.services.images import image_file_path
from curation.services.jobs import job_run_here
from tests.curation.dedup.helpers import stored
from tests.curation.dedup.nearcopy_set import PHOTOS, _photo, edits
from tests.factories import mapping_make, sample_make, source_make, subset_make
from tests.jobs import broker_purge
from tests.workers import crash_workers, wait_until

DRAWINGS = 160
QUEUES = [job_kinds.EMBED_BATCH.queue, job_kinds.DEDUP_SEARCH_BATCH.queue]  # gpu, cpu


def _subset(name: str, images: list[Image.Image]) -> Subset:
    subset = subset_make(name=name)
    source = source_make()
    mapping_make(source=source, subset=subset)
    for n, image in enumerate(images):
        sample_make(subset=subset, source=source, images=[stored(image)], row_number=n)
    return subset


def _drawing(seed: int) -> Image.Image:
    """A small picture of random shapes: distinct from the others, cheap to store."""
    rng = random.Random(seed)
    image = Image.new("RGB", (96, 96), tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x, y = rng.randrange(80), rng.randrange(80)
        box = [x, y, x + rng.randrange(8, 40), y + rng.randrange(8, 40)]
        colour = tuple(rng.randrange(256) for _ in range(3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=colour)
    return image


def _scan_run_here(scan: DuplicateScan) -> DuplicateScan:
    """Run the scan's jobs in this process, one after the other, as an uncrashed worker would."""
    while True:
        scan.refresh_from_db()
        if scan.state in (DuplicateScan.State.DONE, DuplicateScan.State.FAILED):
            return scan
        job = Job.objects.filter(state=Job.State.QUEUED, params__scan=scan.pk).order_by("pk").first()
        assert job is not None, f"scan {scan.pk} is {scan.state} with no job queued"
        job_run_here(job=job)


def _pairs(scan: DuplicateScan) -> dict[tuple, tuple]:
    rows = DuplicatePair.objects.filter(scan=scan).values_list(
        "kind", "a_sample_id", "a_image_id", "b_sample_id", "b_image_id", "benchmark_image_id",
        "similarity", "verify_score", "verified", "flagged",
    )
    return {row[:6]: row[6:] for row in rows}


def _wait_scan(scan: DuplicateScan, seconds: float = 40) -> DuplicateScan:
    wait_until(lambda: DuplicateScan.objects.get(pk=scan.pk).state in ("done", "failed"), seconds, "the scan to finish")
    scan.refresh_from_db()
    return scan


def _running_child(parent_id: int | None, kind: str) -> Job | None:
    return Job.objects.filter(parent_id=parent_id, kind=kind, state=Job.State.RUNNING).order_by("pk").first() if parent_id else None


@pytest.mark.worker
def test_a_worker_killed_mid_embedding_batch_is_resumed_by_a_retry_of_the_scan_with_every_vector_once(
    transactional_db, tmp_path, settings, curator, capsys
):

    broker_purge()
    subset = _subset("crash-embed", [_drawing(n) for n in range(DRAWINGS)])
    scan = dedup_scan_start(kind="duplicate", subsets=[subset], threshold=0.95, verify_threshold=0.9, by=curator)

    with crash_workers(tmp_path, settings, queues=QUEUES) as crash:
        batch = crash.catch_midway(lambda: _running_child(scan.embed_job_id, job_kinds.EMBED_BATCH.key), seconds=40)
        crash.kill_claimer(batch)
        assert 0 < ImageEmbedding.objects.count() < DRAWINGS  # the batches of vectors committed before the kill

        crash.wait_stalled(batch)
        parent = Job.objects.get(pk=scan.embed_job_id)
        assert parent.is_stalled  # nothing moves under the scan's embedding job any more
        capsys.readouterr()
        call_command("job", "stalled")
        listed = capsys.readouterr().out
        assert f"Embed image batch #{batch.pk} at {crash.done_at_kill}/{DRAWINGS}, batch of job #{parent.pk}" in listed
        assert f"Embed images #{parent.pk}" in listed and "2 stalled" in listed
        call_command("job", "show", str(parent.pk))
        assert "no heartbeat for" in capsys.readouterr().out
        call_command("job", "retry", str(parent.pk))  # retries the batch that lost its worker
        scan = _wait_scan(scan)
        crash.report("embed_batch")
    assert scan.state == DuplicateScan.State.DONE, scan.message
    batch.refresh_from_db()
    parent.refresh_from_db()
    assert batch.state == parent.state == Job.State.SUCCEEDED
    assert batch.attempts == 2 and batch.done == batch.total == DRAWINGS, (batch.done, batch.total)
    assert parent.done == parent.total == DRAWINGS
    outcomes = list(JobAttempt.objects.filter(job=batch).order_by("number").values_list("outcome", flat=True))
    assert outcomes == ["lost", "succeeded"]
    images = sorted(set(SampleImage.objects.filter(sample__subset=subset).values_list("image_id", flat=True)))
    stored_vectors = dict(ImageEmbedding.objects.values_list("image_id", "vector"))
    assert ImageEmbedding.objects.count() == len(stored_vectors) == len(images) == DRAWINGS

    # The vectors equal those the engine computes here, uncrashed (fp16 storage, other thread count: close, not equal).
    embedder = embedding_engine(scan.engine)
    fresh = embedder.embed([preprocess(image_file_path(image=image).read_bytes()) for image in
                            StoredImage.objects.filter(pk__in=images).order_by("pk")])
    assert np.allclose(vectors_unpack(stored_vectors[pk] for pk in images), fresh, atol=2e-3)
    # An uncrashed scan of the same subset finds the same pairs.
    found = _pairs(scan)
    again = _scan_run_here(dedup_scan_start(kind="duplicate", subsets=[subset], threshold=0.95, verify_threshold=0.9, by=curator))
    assert _pairs(again) == found and again.candidates == scan.candidates and again.flagged == scan.flagged


@pytest.mark.worker
def test_a_worker_killed_mid_leak_search_batch_is_resumed_by_a_retry_of_the_scan_with_every_pair_once(
    transactional_db, tmp_path, settings, curator, capsys
):

    broker_purge()
    originals = []
    corpus = []
    for name in PHOTOS[:9]:
        photo = _photo(name)
        photo.thumbnail((224, 224))
        originals.append((name, photo))
        corpus.extend(edits(photo).values())
    subset = _subset("crash-leak", corpus)
    folder = tmp_path / "bench"
    folder.mkdir()
    for name, photo in originals:
        photo.save(folder / f"{name}.png")
    bench, register = benchmark_register(name="CrashBench", mode="folder", path=str(folder), by=curator)
    assert job_run_here(job=register).state == Job.State.SUCCEEDED
    broker_purge()  # the registration ran here; its queued message is not for the workers
    scan = dedup_scan_start(kind="leak", subsets=[subset], benchmarks=[bench], verify_threshold=0.3, by=curator)

    with crash_workers(tmp_path, settings, queues=QUEUES) as crash:
        started = time.monotonic()
        batch = crash.catch_midway(
            lambda: _running_child(DuplicateScan.objects.get(pk=scan.pk).search_job_id, job_kinds.DEDUP_SEARCH_BATCH.key),
            seconds=60,
        )
        crash.kill_claimer(batch)
        assert not DuplicatePair.objects.exists()  # a batch upserts its pairs once it has verified them all

        crash.wait_stalled(batch)
        scan.refresh_from_db()
        parent = Job.objects.get(pk=scan.search_job_id)
        assert parent.is_stalled and scan.state == DuplicateScan.State.SEARCHING
        call_command("job", "retry", str(parent.pk))
        scan = _wait_scan(scan)
        crash.report(f"dedup_search_batch (embedding first took {crash.killed_at - started:.1f} s to reach the kill)")
    assert scan.state == DuplicateScan.State.DONE, scan.message
    batch.refresh_from_db()
    parent.refresh_from_db()
    assert batch.state == parent.state == Job.State.SUCCEEDED and batch.attempts == 2
    assert batch.done == batch.total and parent.done == parent.total
    outcomes = list(JobAttempt.objects.filter(job=batch).order_by("number").values_list("outcome", flat=True))
    assert outcomes == ["lost", "succeeded"]
    found = _pairs(scan)
    assert found and scan.flagged == sum(1 for values in found.values() if values[3])
    queued = ReviewItem.objects.filter(kind="leak", round=1)
    assert queued.count() == queued.values("target_id").distinct().count() == scan.flagged

    # An uncrashed scan of the same subset and benchmark finds the same pairs, counts and review items.
    again = _scan_run_here(dedup_scan_start(kind="leak", subsets=[subset], benchmarks=[bench], verify_threshold=0.3, by=curator))
    assert _pairs(again) == found
    assert (again.candidates, again.flagged) == (scan.candidates, scan.flagged)
    assert DuplicatePair.objects.count() == len(found)
    assert ReviewItem.objects.filter(kind="leak", round=1).count() == scan.flagged
