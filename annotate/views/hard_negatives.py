"""Pages: hard negatives of a subset. Start a Generation -> Verification -> Correction run (ratio, attributes,
engine), follow its progress, see the per-attribute counts; and the subset page's panel of validity figures."""
from django import forms
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_http_methods

from annotate.requests import AppRequest
from annotate.views.home import HTMX_STOP_POLLING
from curation.engines import hardneg_lexicon as lex
from curation.models import HardNegative, ReviewQueue, Subset
from curation.services.hard_negative_stats import hard_negative_summary
from curation.services.hard_negatives import (
    DEFAULT_RATIO,
    ENGINES,
    MAX_RATIO,
    REVIEW_KIND,
    HardNegativeError,
    hard_negatives_start,
)

PAGE = "annotate/hard_negatives.html"
PANEL = "annotate/hard_negative_panel.html#stats"
LIST_SIZE = 50


class GenerateForm(forms.Form):
    ratio = forms.IntegerField(min_value=1, max_value=MAX_RATIO, initial=DEFAULT_RATIO, label="Negatives per positive")
    attributes = forms.MultipleChoiceField(choices=lex.ATTRIBUTES, initial=list(lex.DEFAULT_ATTRIBUTES),
                                           widget=forms.CheckboxSelectMultiple, label="Attributes to target")
    engine = forms.ChoiceField(choices=[("builtin", "Built-in (lexicon and rules, no model)"), ("llm", "LLM/VLM endpoint")],
                               initial="builtin", label="Agents")


def _context(request: AppRequest, subset: Subset, form: GenerateForm | None = None) -> dict:
    summary = hard_negative_summary(subset=subset)
    queue = ReviewQueue.objects.filter(kind=REVIEW_KIND, subset=subset).first()
    return {
        "subset": subset,
        "summary": summary,
        "form": form or GenerateForm(),
        "queue": queue,
        "negatives": HardNegative.objects.filter(subset=subset).order_by("pk")[:LIST_SIZE],
        "can_start": request.user.has_perm("curation.change_subset"),
        "can_work": request.user.has_perm("curation.review_item"),
        "engines": ENGINES,
    }


@login_required
@permission_required("curation.view_subset", raise_exception=True)
@require_http_methods(["GET", "POST"])
def hard_negatives_page(request: AppRequest, subset_id: int) -> HttpResponse:
    subset = get_object_or_404(Subset, pk=subset_id)
    if request.method == "POST":
        if not request.user.has_perm("curation.change_subset"):
            return HttpResponse("You need the curation.change_subset permission.", status=403)
        form = GenerateForm(request.POST)
        if form.is_valid():
            try:
                hard_negatives_start(subset=subset, by=request.user, ratio=form.cleaned_data["ratio"],
                                     attributes=form.cleaned_data["attributes"], engine=form.cleaned_data["engine"])
            except HardNegativeError as exc:
                form.add_error(None, exc.message)
            else:
                return redirect("hard_negatives", subset_id=subset.pk)
        return render(request, PAGE, _context(request, subset, form), status=400)
    if request.htmx and request.GET.get("part") == "run":
        context = _context(request, subset)
        response = render(request, f"{PAGE}#run", context)
        job = context["summary"].job
        if job is None or job.is_finished:
            response.status_code = HTMX_STOP_POLLING
        return response
    return render(request, PAGE, _context(request, subset))


@login_required
@permission_required("curation.view_subset", raise_exception=True)
@require_GET
def hard_negative_panel(request: AppRequest, subset_id: int) -> HttpResponse:
    subset = get_object_or_404(Subset, pk=subset_id)
    if not request.htmx:
        return redirect(f"/subsets/{subset.pk}/#hard-negatives-{subset.pk}")
    context = _context(request, subset)
    response = render(request, PANEL, context)
    job = context["summary"].job
    if job is None or job.is_finished:
        response.status_code = HTMX_STOP_POLLING
    return response


@login_required
@permission_required("curation.view_subset", raise_exception=True)
@require_GET
def hard_negative_detail(request: AppRequest, negative_id: int) -> HttpResponse:
    """One negative with its whole agent trace (each agent's input, output, verdict and round), for audit."""
    negative = get_object_or_404(HardNegative.objects.select_related("subset", "sample", "image", "reviewed_by"), pk=negative_id)
    return render(request, "annotate/hard_negative_detail.html", {"negative": negative, "steps": negative.steps.all()})


urlpatterns = [
    path("subsets/<int:subset_id>/hard-negatives/", hard_negatives_page, name="hard_negatives"),
    path("subsets/<int:subset_id>/hard-negatives/panel/", hard_negative_panel, name="hard_negative_panel"),
    path("hard-negatives/<int:negative_id>/", hard_negative_detail, name="hard_negative_detail"),
]
