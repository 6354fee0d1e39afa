"""Pages: quality ratings of a subset. The panel (run a judge, progress, histograms and thresholds beside
FineVision's published figures, judge-versus-human agreement, queue turns for human rating) and the
sample browser filtered by minimum rating per axis, showing each turn's four ratings, judge and reason."""
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from annotate.requests import AppRequest
from annotate.views.home import HTMX_STOP_POLLING
from curation.engines.judges_registry import JUDGES, judge_availability
from curation.errors import ApplicationError
from curation.models import Sample, SampleImage, Subset
from curation.models.ratings import RATING_AXES, RatingAxis
from curation.review.rating import RATING_KIND_KEY
from curation.services.ratings import JudgeRef, ratings_start, ratings_use_judge
from curation.services.ratings_report import (
    samples_ratings_table,
    samples_with_minimum,
    subset_ratings_summary,
)
from curation.services.review import ReviewError
from curation.services.review_fill import review_fill_start

PAGE = "annotate/ratings.html"
SAMPLES_PAGE = "annotate/rated_samples.html"
SAMPLES_PER_PAGE = 20


class RateForm(forms.Form):
    judge = forms.ChoiceField(choices=[(key, choice.label) for key, choice in JUDGES.items()])


class HumanQueueForm(forms.Form):
    percent = forms.FloatField(min_value=0.01, max_value=100, initial=10, label="Share of judged turns (%)")
    seed = forms.IntegerField(initial=1, help_text="The same seed picks the same turns.")


class JudgeForm(forms.Form):
    engine = forms.CharField(max_length=200)
    version = forms.CharField(max_length=100, required=False)


def _judge_from(data: Any) -> JudgeRef | None:
    form = JudgeForm(data)
    return JudgeRef(form.cleaned_data["engine"], form.cleaned_data["version"]) if form.is_valid() else None


def _panel_context(request: AppRequest, subset: Subset, judge: JudgeRef | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "subset": subset,
        "summary": subset_ratings_summary(subset=subset, judge=judge),
        "judges_here": judge_availability(),
        "rate_form": extra.pop("rate_form", None) or RateForm(initial={"judge": "builtin"}),
        "queue_form": extra.pop("queue_form", None) or HumanQueueForm(),
        "can_run": request.user.has_perm("curation.change_subset"),
        "can_queue": request.user.has_perm("curation.change_reviewqueue"),
        "can_review": request.user.has_perm("curation.review_item"),
        **extra,
    }


def _panel(request: AppRequest, subset: Subset, *, judge: JudgeRef | None = None, **extra: Any) -> HttpResponse:
    context = _panel_context(request, subset, judge, **extra)
    response = render(request, f"{PAGE}#panel", context)
    if request.GET.get("poll") and not context["summary"].running:
        response.status_code = HTMX_STOP_POLLING
    return response


def _answer(request: AppRequest, subset: Subset, *, error: str = "", success: str = "", **extra: Any) -> HttpResponse:
    """HTMX gets the panel with the outcome in it; a plain form post goes back to the ratings page."""
    if request.htmx:
        return _panel(request, subset, notice={"error": bool(error), "text": error or success}, **extra)
    messages.add_message(request, messages.ERROR if error else messages.SUCCESS, error or success)
    return redirect("subset_ratings", subset_id=subset.pk)


@login_required
@permission_required("curation.view_subset", raise_exception=True)
@require_GET
def subset_ratings(request: AppRequest, subset_id: int) -> HttpResponse:
    subset = get_object_or_404(Subset, pk=subset_id)
    judge = _judge_from(request.GET)
    if request.htmx and request.GET.get("part") == "panel":
        return _panel(request, subset, judge=judge)
    return render(request, PAGE, _panel_context(request, subset, judge))


@login_required
@permission_required("curation.change_subset", raise_exception=True)
@require_POST
def subset_ratings_start(request: AppRequest, subset_id: int) -> HttpResponse:
    subset = get_object_or_404(Subset, pk=subset_id)
    form = RateForm(request.POST)
    if not form.is_valid():
        return _answer(request, subset, error="Choose a judge.", rate_form=form)
    try:
        ratings_start(subset=subset, judge=form.cleaned_data["judge"], by=request.user)
    except ApplicationError as exc:
        return _answer(request, subset, error=str(exc), rate_form=form)
    return _answer(request, subset, success=f"Rating started with the {JUDGES[form.cleaned_data['judge']].label} judge; the bar below follows it.")


@login_required
@permission_required("curation.change_subset", raise_exception=True)
@require_POST
def subset_ratings_use(request: AppRequest, subset_id: int) -> HttpResponse:
    subset = get_object_or_404(Subset, pk=subset_id)
    judge = _judge_from(request.POST)
    if judge is None:
        return _answer(request, subset, error="Name the judge whose ratings become current.")
    try:
        written = ratings_use_judge(subset=subset, judge=judge)
    except ApplicationError as exc:
        return _answer(request, subset, error=str(exc))
    return _answer(request, subset, success=f"{judge.label} is now the current judge ({written} minima written).", judge=judge)


@login_required
@permission_required("curation.change_reviewqueue", raise_exception=True)
@require_POST
def subset_ratings_queue(request: AppRequest, subset_id: int) -> HttpResponse:
    subset = get_object_or_404(Subset, pk=subset_id)
    form = HumanQueueForm(request.POST)
    if not form.is_valid():
        return _answer(request, subset, error="Give a share between 0.01 and 100% and a seed.", queue_form=form)
    try:
        review_fill_start(
            kind=RATING_KIND_KEY, subset=subset, fraction=form.cleaned_data["percent"] / 100, seed=form.cleaned_data["seed"],
            by=request.user,
        )
    except ReviewError as exc:
        return _answer(request, subset, error=exc.message, queue_form=form)
    return _answer(request, subset, success="Judged turns are being queued for human rating.")


class MinimumFilterForm(forms.Form):
    """At least this minimum on each axis (empty: no filter on that axis)."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        for axis in RATING_AXES:
            self.fields[axis] = forms.TypedChoiceField(
                choices=[("", "any"), *[(str(n), f"≥ {n}") for n in range(2, 6)]], coerce=int, empty_value=None,
                required=False, label=RatingAxis(axis).label,
            )

    def minima(self) -> dict[str, int]:
        if not self.is_valid():
            return {}
        return {axis: value for axis in RATING_AXES if (value := self.cleaned_data.get(axis))}


@login_required
@permission_required("curation.view_sample", raise_exception=True)
@require_GET
def subset_rated_samples(request: AppRequest, subset_id: int) -> HttpResponse:
    subset = get_object_or_404(Subset, pk=subset_id)
    form = MinimumFilterForm(request.GET)
    samples = samples_with_minimum(samples=Sample.objects.filter(subset=subset), minima=form.minima())
    after = request.GET.get("after", "")
    if after.isdigit():
        samples = samples.filter(pk__gt=int(after))
    images = SampleImage.objects.order_by("position")
    page = list(samples.select_related("source").prefetch_related(Prefetch("sample_images", queryset=images)).order_by("pk")[: SAMPLES_PER_PAGE + 1])
    next_after = page[SAMPLES_PER_PAGE - 1].pk if len(page) > SAMPLES_PER_PAGE else None
    page = page[:SAMPLES_PER_PAGE]
    table = samples_ratings_table(samples=page)
    rows = [{"sample": s, **table[s.pk]} for s in page]
    query = request.GET.copy()
    query.pop("after", None)
    context = {"subset": subset, "form": form, "rows": rows, "next_after": next_after, "query": query.urlencode()}
    if request.htmx and request.GET.get("part") == "rows":
        return render(request, f"{SAMPLES_PAGE}#rows", context)
    return render(request, SAMPLES_PAGE, context)


urlpatterns = [
    path("subsets/<int:subset_id>/ratings/", subset_ratings, name="subset_ratings"),
    path("subsets/<int:subset_id>/ratings/run/", subset_ratings_start, name="subset_ratings_start"),
    path("subsets/<int:subset_id>/ratings/use/", subset_ratings_use, name="subset_ratings_use"),
    path("subsets/<int:subset_id>/ratings/queue/", subset_ratings_queue, name="subset_ratings_queue"),
    path("subsets/<int:subset_id>/ratings/samples/", subset_rated_samples, name="subset_rated_samples"),
]
