"""The export filter drops confirmed leaks and the losing side of confirmed duplicates, and says why."""
from curation.exporters.copies import CopiesFilter
from curation.models import Benchmark, BenchmarkImage, DuplicatePair, Sample
from curation.services.subsets import subset_open_checks
from tests.factories import image_make, sample_make, source_make, subset_make


def _pair(kind, a, b=None, bench_image=None, status="open"):
    return DuplicatePair.objects.create(
        kind=kind, a_sample=a, a_image=a.images.first(), b_sample=b, b_image=b.images.first() if b else None,
        benchmark=bench_image.benchmark if bench_image else None, benchmark_image=bench_image,
        similarity=0.97, verify_score=1.0, verified=True, flagged=True, engine="sscd-int8-onnx", status=status,
    )


def test_confirmed_copies_are_dropped_with_reasons_and_open_ones_only_on_request(db):
    subset, source = subset_make(), source_make()
    s = [sample_make(subset=subset, source=source, images=[image_make()]) for _ in range(6)]
    bench = Benchmark.objects.create(name="B")
    bench_image = BenchmarkImage.objects.create(benchmark=bench, image=image_make())
    _pair("duplicate", s[0], s[1], status="keep_a")
    _pair("duplicate", s[2], s[3], status="keep_b")
    _pair("leak", s[4], bench_image=bench_image, status="leak")
    _pair("duplicate", s[0], s[5])  # flagged, not reviewed
    samples = Sample.objects.filter(subset=subset)
    f = CopiesFilter()

    kept = f.apply(samples, {"unreviewed": ["keep"]})
    assert set(kept.values_list("pk", flat=True)) == {s[0].pk, s[3].pk, s[5].pk}
    assert f.reasons(samples.exclude(pk__in=kept), {"unreviewed": ["keep"]}) == {
        "confirmed benchmark leak": 1,
        "confirmed near-duplicate, other copy kept": 2,
    }
    strict = f.apply(samples, {"unreviewed": ["drop"]})
    assert set(strict.values_list("pk", flat=True)) == {s[0].pk, s[3].pk}
    assert f.reasons(samples.exclude(pk__in=strict), {"unreviewed": ["drop"]})["flagged near-duplicate, not reviewed"] == 1
    # The open pair keeps the subset from being approved.
    assert "duplicate_pairs_open" in {c.code for c in subset_open_checks(subset=subset)}


def test_the_copy_approval_check_says_when_the_checks_have_not_run(db):
    from curation.services.approval import CHECKS, approval_policy_for

    subset, source = subset_make(), source_make()
    sample_make(subset=subset, source=source, images=[image_make()])
    assert not {c.code for c in subset_open_checks(subset=subset)} & {"duplicate_check_not_run", "leak_check_not_run"}
    result = CHECKS["copies_checked"].evaluate(subset, approval_policy_for(subset=subset))
    assert not result.passed and "has not run" in result.message
