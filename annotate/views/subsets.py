"""Pages: subsets. The list, and a subset's page: statistics, what is still open, approve or reopen, samples."""
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.contenttypes.models import ContentType
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from annotate.requests import AppRequest
from curation.models import Decision, Export, Sample, SampleImage, Source, Subset
from curation.services.subsets import (
    SubsetNotApprovable,
    subset_approve,
    subset_open_checks,
    subset_reopen,
    subset_running_jobs,
    subset_stats,
    subsets_with_counts,
)
from curation.subset_labels import subset_labels_for, subset_task_names, subsets_filter_labels

SAMPLES_PER_PAGE = 20
# The sample-review area adds its panel to the subset page through this template, when it is installed.
REVIEW_PANEL_TEMPLATE = "annotate/subset_review_panel.html"


class ReopenForm(forms.Form):
    reason = forms.CharField(max_length=200, required=False, help_text="Why it goes back to draft (kept in the audit trail).")


def _get_subset(subset_id: int) -> Subset:
    return get_object_or_404(Subset.objects.select_related("approved_by"), pk=subset_id)


def _optional_template(name: str) -> str | None:
    try:
        get_template(name)
    except TemplateDoesNotExist:
        return None
    return name


def _samples_page(subset: Subset, after: int | None) -> tuple[list[Sample], int | None]:
    samples = Sample.objects.filter(subset=subset).select_related("source")
    if after is not None:
        samples = samples.filter(pk__gt=after)
    images = SampleImage.objects.order_by("position")
    page = list(samples.order_by("pk").prefetch_related(Prefetch("sample_images", queryset=images))[: SAMPLES_PER_PAGE + 1])
    next_after = page[SAMPLES_PER_PAGE - 1].pk if len(page) > SAMPLES_PER_PAGE else None
    return page[:SAMPLES_PER_PAGE], next_after


def _approval_context(subset: Subset) -> dict[str, Any]:
    return {
        "subset": subset,
        "checks": subset_open_checks(subset=subset),
        "jobs": subset_running_jobs(subset=subset),
        "reopen_form": ReopenForm(),
    }


@login_required
@permission_required("curation.view_subset", raise_exception=True)
@require_GET
def subset_list(request: AppRequest) -> HttpResponse:
    subsets = subsets_with_counts()
    status = request.GET.get("status", "")
    if status in Subset.Status.values:
        subsets = subsets.filter(status=status)
    labels = request.GET.get("labels", "")
    labels = labels if labels in Source.LabelOrigin.values else ""
    task = request.GET.get("task", "").strip()
    subsets = subsets_filter_labels(subsets, label_origin=labels, task=task)
    rows = list(subsets)
    facts = subset_labels_for(subset_ids=[s.pk for s in rows])
    for row in rows:
        row.labels = facts.get(row.pk)  # type: ignore[attr-defined]  # shown beside the counts
    return render(request, "annotate/subset_list.html", {
        "subsets": rows, "status": status, "statuses": Subset.Status.choices,
        "labels": labels, "label_origins": Source.LabelOrigin.choices, "task": task, "tasks": subset_task_names(),
    })


@login_required
@permission_required("curation.view_subset", raise_exception=True)
@require_GET
def subset_detail(request: AppRequest, subset_id: int) -> HttpResponse:
    subset = _get_subset(subset_id)
    after = request.GET.get("after", "")
    samples, next_after = _samples_page(subset, int(after) if after.isdigit() else None)
    if request.htmx and request.GET.get("part") == "samples":
        return render(request, "annotate/subset_detail.html#samples", {"subset": subset, "samples": samples, "next_after": next_after})
    if request.htmx and request.GET.get("part") == "approval":
        return render(request, "annotate/subset_detail.html#approval", _approval_context(subset))
    history = Decision.objects.filter(
        target_type=ContentType.objects.get_for_model(Subset), target_id=str(subset.pk)
    ).select_related("actor")[:20]
    context = {
        **_approval_context(subset),
        "stats": subset_stats(subset=subset),
        "samples": samples,
        "next_after": next_after,
        "exports": Export.objects.filter(subsets=subset).select_related("created_by")[:20],
        "history": history,
        "review_panel_template": _optional_template(REVIEW_PANEL_TEMPLATE),
    }
    return render(request, "annotate/subset_detail.html", context)


@login_required
@permission_required("curation.approve_subset", raise_exception=True)
@require_POST
def subset_approve_view(request: AppRequest, subset_id: int) -> HttpResponse:
    subset = _get_subset(subset_id)
    try:
        subset = subset_approve(subset=subset, by=request.user)
    except SubsetNotApprovable as exc:
        return _after_change(request, subset, messages.ERROR, str(exc))
    return _after_change(request, subset, messages.SUCCESS, f"{subset.name} is approved for export.")


@login_required
@permission_required("curation.approve_subset", raise_exception=True)
@require_POST
def subset_reopen_view(request: AppRequest, subset_id: int) -> HttpResponse:
    subset = _get_subset(subset_id)
    form = ReopenForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        subset = subset_reopen(subset=subset, by=request.user, reason=reason)
    except SubsetNotApprovable as exc:
        return _after_change(request, subset, messages.ERROR, str(exc))
    return _after_change(request, subset, messages.SUCCESS, f"{subset.name} is back to draft.")


def _after_change(request: AppRequest, subset: Subset, level: int, text: str) -> HttpResponse:
    """HTMX gets the approval panel with the outcome in it; a plain form post is redirected to the page."""
    if request.htmx:
        context = {**_approval_context(_get_subset(subset.pk)), "notice": {"error": level == messages.ERROR, "text": text}}
        return render(request, "annotate/subset_detail.html#approval", context)
    messages.add_message(request, level, text)
    return redirect("subset_detail", subset_id=subset.pk)


urlpatterns = [
    path("subsets/", subset_list, name="subset_list"),
    path("subsets/<int:subset_id>/", subset_detail, name="subset_detail"),
    path("subsets/<int:subset_id>/approve/", subset_approve_view, name="subset_approve"),
    path("subsets/<int:subset_id>/reopen/", subset_reopen_view, name="subset_reopen"),
]
