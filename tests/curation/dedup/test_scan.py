"""A scan end to end on a real worker: embed (gpu queue), search, verify, pairs, clusters, review queues."""
import pytest

from curation.models import BenchmarkImage, DuplicatePair, DuplicateScan, ImageEmbedding, Job, ReviewItem
from curation.services.benchmarks import (
    benchmark_register,
    contamination_for_benchmark,
    contamination_for_subset,
)
from curation.services.dedup import DedupInvalid, dedup_scan_start
from curation.services.diversity import subset_diversity
from curation.services.subsets import subset_open_checks
from tests.curation.dedup.helpers import benchmark_folder, photo_subset
from tests.jobs import job_wait_finished


def _wait_scan(scan: DuplicateScan, seconds: float = 240) -> DuplicateScan:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        scan.refresh_from_db()
        if scan.state in (DuplicateScan.State.DONE, DuplicateScan.State.FAILED):
            return scan
        time.sleep(0.2)
    raise AssertionError(f"scan still {scan.state}")


@pytest.mark.worker
def test_duplicates_and_leaks_are_found_verified_and_queued(celery_worker_real, curator, tmp_path):
    subset, samples = photo_subset()

    scan = _wait_scan(dedup_scan_start(kind="duplicate", subsets=[subset], by=curator))
    assert scan.state == DuplicateScan.State.DONE, scan.message
    flagged = DuplicatePair.objects.filter(kind="duplicate", flagged=True)
    assert {(p.a_sample_id, p.b_sample_id) for p in flagged} == {(samples["astronaut"].pk, samples["astronaut_jpeg"].pk)}
    pair = flagged.get()
    assert pair.verified and pair.verify_score and pair.evidence["inliers"] >= 15 and pair.evidence["points"]
    assert pair.engine.startswith("sscd-int8-onnx") and pair.verifier.startswith("orb-ransac")
    assert pair.cluster == pair.pk
    # The stereo pair is a candidate (similar embedding) but not a copy.
    stereo = DuplicatePair.objects.get(a_sample=samples["moto_left"], b_sample=samples["moto_right"])
    assert not stereo.flagged and stereo.similarity > 0.5
    # Embedding ran as batches of the gpu-queue kind, each vector stored once with the engine's name.
    assert Job.objects.filter(kind="embed_batch", state="succeeded").exists()
    assert ImageEmbedding.objects.filter(engine="sscd-int8-onnx").count() == 6
    assert ReviewItem.objects.filter(kind="duplicate", subset=subset).count() == 1
    assert any(c.code == "duplicate_pairs_open" for c in subset_open_checks(subset=subset))

    bench, job = benchmark_register(name="RocketBench", mode="folder", path=str(benchmark_folder(tmp_path)), by=curator)
    assert job_wait_finished(job, 60).state == Job.State.SUCCEEDED
    assert BenchmarkImage.objects.filter(benchmark=bench).count() == 2
    leak_scan = _wait_scan(dedup_scan_start(kind="leak", subsets=[subset], benchmarks=[bench], by=curator))
    assert leak_scan.state == DuplicateScan.State.DONE, leak_scan.message
    leaks = DuplicatePair.objects.filter(kind="leak", flagged=True)
    assert [p.a_sample_id for p in leaks] == [samples["rocket_crop"].pk]
    rate = contamination_for_subset(subset=subset)
    assert rate["flagged"] == 1 and rate["confirmed"] == 0 and rate["rate_before"] == pytest.approx(1 / 6)
    assert contamination_for_benchmark(benchmark=bench)["flagged"] == 1
    # A second run re-finds the same pairs without duplicating them (upserts on natural keys); vectors are reused.
    again = _wait_scan(dedup_scan_start(kind="duplicate", subsets=[subset], by=curator))
    assert again.state == DuplicateScan.State.DONE
    assert DuplicatePair.objects.filter(kind="duplicate", flagged=True).count() == 1
    assert not Job.objects.filter(kind="embed_batch", params__scan=again.pk).exists()

    diversity = subset_diversity(subset=subset, engine="sscd-int8-onnx")
    assert diversity.images == 6 and 1 < diversity.effective_rank <= 6 and 1 < diversity.participation_ratio <= 6


def test_leak_check_needs_a_benchmark(db, curator):
    subset, _ = photo_subset()
    with pytest.raises(DedupInvalid, match="benchmark"):
        dedup_scan_start(kind="leak", subsets=[subset], by=curator)
    with pytest.raises(DedupInvalid, match="thresholds"):
        dedup_scan_start(kind="duplicate", subsets=[subset], threshold=0.5, verify_threshold=0.9, by=curator)
