"""Rating runs: one row per turn per axis with the judge's name and version, the minima cache, runs
safe to repeat, a second judge kept beside the first, human ratings and the agreement between them."""
import pytest
from django.core.management import call_command

from curation.engines.base import Availability
from curation.engines.judges import AxisRating
from curation.engines.judges_builtin import BuiltinJudge
from curation.models import Job, RatedTurn, Rating, Sample, SampleRating
from curation.services.jobs import job_claim, job_create
from curation.services.ratings import (
    JudgeRef,
    rating_human_write,
    ratings_rate_samples,
    ratings_run,
    ratings_use_judge,
)
from curation.services.ratings_report import (
    samples_with_minimum,
    subset_agreement,
    subset_distributions,
    subset_ratings_summary,
    weighted_kappa,
)

pytestmark = pytest.mark.django_db


class FixedJudge:
    """A judge that gives every turn the same scores (stands in for a second engine)."""

    name, version, needs_images = "fixed-judge", "1", False

    def __init__(self, scores=None, fail_axis=None):
        self.scores = scores or {"formatting": 3, "relevance": 3, "visual_dependency": 3, "image_correspondence": 3}
        self.fail_axis = fail_axis
        self.calls = 0

    def available(self):
        return Availability(True)

    def rate(self, turns):
        self.calls += len(turns)
        out = []
        for _ in turns:
            rated = {axis: AxisRating(score, f"fixed {score}") for axis, score in self.scores.items()}
            if self.fail_axis:
                rated[self.fail_axis] = AxisRating(None, error="the endpoint kept answering 503")
            out.append(rated)
        return out


def _job(subset, judge="builtin"):
    job = job_create(kind="rate_quality", target=subset, params={"judge": judge})
    return job_claim(job_id=job.pk)


def test_a_run_stores_one_row_per_turn_per_axis_and_the_minima(rating_subset):
    job = _job(rating_subset)
    totals = ratings_run(job=job)
    assert totals == {"samples": 3, "turns": 4, "ratings": 16, "failed": 0}
    judge = BuiltinJudge()
    rows = Rating.objects.filter(sample__subset=rating_subset)
    assert set(rows.values_list("engine", "engine_version", "job_id")) == {(judge.name, judge.version, job.pk)}
    first = Sample.objects.filter(subset=rating_subset).order_by("pk").first()
    scores = dict(rows.filter(sample=first, turn=1).values_list("axis", "score"))
    assert scores["formatting"] == 1 and scores["image_correspondence"] is None  # an empty answer; no VLM
    minima = dict(SampleRating.objects.filter(sample=first).values_list("axis", "minimum"))
    assert minima["formatting"] == 1 and minima["image_correspondence"] is None
    assert RatedTurn.objects.filter(sample__subset=rating_subset).count() == 4
    assert job.result["engine"] == judge.name


def test_running_twice_rates_nothing_twice_and_another_judge_keeps_both(rating_subset):
    ratings_run(job=_job(rating_subset))
    again = ratings_run(job=_job(rating_subset))
    assert again["turns"] == 0 and Rating.objects.count() == 16
    fixed = FixedJudge()
    ratings_run(job=_job(rating_subset), judge=fixed)
    assert Rating.objects.count() == 32 and fixed.calls == 4
    # The last judge's minima are current; the first judge can be made current again.
    assert set(SampleRating.objects.values_list("engine", flat=True)) == {"fixed-judge"}
    builtin = BuiltinJudge()
    ratings_use_judge(subset=rating_subset, judge=JudgeRef(builtin.name, builtin.version))
    assert set(SampleRating.objects.values_list("engine", flat=True)) == {builtin.name}


def test_axes_a_judge_could_not_rate_are_rejected_rows_and_rated_by_the_next_run(rating_subset):
    job = _job(rating_subset, "builtin")
    samples = list(Sample.objects.filter(subset=rating_subset).order_by("pk"))
    counts = ratings_rate_samples(judge=FixedJudge(fail_axis="relevance"), samples=samples, job=job)
    assert counts["failed"] == 4 and counts["ratings"] == 12
    job.refresh_from_db()
    assert job.error_count == 4 and "503" in job.errors.first().message
    retry = FixedJudge()
    assert ratings_rate_samples(judge=retry, samples=samples)["ratings"] == 4
    assert Rating.objects.filter(engine="fixed-judge", axis="relevance").count() == 4


def test_distributions_thresholds_and_the_minimum_filter(rating_subset):
    ratings_run(job=_job(rating_subset))
    judge = BuiltinJudge()
    ref = JudgeRef(judge.name, judge.version)
    formatting = subset_distributions(subset=rating_subset, judge=ref)[0]
    assert formatting.axis == "formatting" and formatting.turns == 4 and sum(formatting.histogram.values()) == 4
    assert formatting.samples_rated == 3 and formatting.samples_below[2] == 1
    assert formatting.bars[3]["finevision"] == 77.5  # FineVision: 77.5% of turns at 4
    correspondence = subset_distributions(subset=rating_subset, judge=ref)[3]
    assert correspondence.turns == 0 and correspondence.empty == 4
    kept = samples_with_minimum(samples=Sample.objects.filter(subset=rating_subset), minima={"formatting": 2})
    assert kept.count() == 2
    assert samples_with_minimum(samples=Sample.objects.all(), minima={"image_correspondence": 2}).count() == 0


def test_human_ratings_sit_beside_the_judges_and_agreement_is_weighted_kappa(rating_subset, reviewer, second_reviewer):
    ratings_run(job=_job(rating_subset), judge=FixedJudge({"formatting": 4, "relevance": 2, "visual_dependency": 5, "image_correspondence": 3}))
    samples = list(Sample.objects.filter(subset=rating_subset).order_by("pk"))
    rating_human_write(sample=samples[0], turn=0, scores={"formatting": 4, "relevance": 5, "visual_dependency": 5, "image_correspondence": 3}, by=reviewer)
    rating_human_write(sample=samples[1], turn=0, scores={"formatting": 3, "relevance": 2, "visual_dependency": 1, "image_correspondence": 3}, by=reviewer)
    before = rating_human_write(sample=samples[1], turn=0, scores={"formatting": 4}, by=reviewer)
    assert before["formatting"] == 3  # a change of mind replaces the person's own rating
    rating_human_write(sample=samples[1], turn=0, scores={"formatting": 5}, by=second_reviewer)
    agreement = {a.axis: a for a in subset_agreement(subset=rating_subset, judge=JudgeRef("fixed-judge", "1"))}
    assert agreement["formatting"].pairs == 3 and agreement["formatting"].confusion[3][3] == 2 and agreement["formatting"].confusion[3][4] == 1
    assert agreement["relevance"].exact == 0.5
    # The judge always said 4: it agrees no better than chance, whatever its exact agreement.
    assert agreement["formatting"].kappa == pytest.approx(0.0)
    summary = subset_ratings_summary(subset=rating_subset)
    assert summary.human_turns == 2 and summary.judge == JudgeRef("fixed-judge", "1")
    # Humans never change the minima cache.
    assert set(SampleRating.objects.values_list("engine", flat=True)) == {"fixed-judge"}


def test_weighted_kappa_matches_known_values():
    assert weighted_kappa([(1, 1), (2, 2), (3, 3), (4, 4), (5, 5)]) == pytest.approx(1.0)
    assert weighted_kappa([(1, 5), (5, 1)]) == pytest.approx(-1.0)
    # Near misses cost less than far ones.
    near = weighted_kappa([(1, 2), (2, 3), (3, 4), (4, 5), (5, 5), (1, 1)])
    far = weighted_kappa([(1, 5), (2, 5), (3, 1), (4, 1), (5, 5), (1, 1)])
    assert near > far
    assert weighted_kappa([]) is None


def test_the_command_rates_a_subset_in_process(rating_subset, capsys):
    call_command("rate_quality", rating_subset.name, "--judge", "builtin", "--now")
    out = capsys.readouterr().out
    assert "rated 4 turns of 3 samples (16 ratings, 0 failed" in out
    job = Job.objects.get(kind="rate_quality")
    assert job.state == Job.State.SUCCEEDED and Rating.objects.count() == 16


def test_the_command_refuses_a_judge_that_cannot_run_here(rating_subset, settings):
    from django.core.management.base import CommandError

    settings.FINECURATE_LLM_BASE_URL = ""
    with pytest.raises(CommandError, match="cannot run here: no endpoint is configured"):
        call_command("rate_quality", str(rating_subset.pk), "--judge", "chat")
