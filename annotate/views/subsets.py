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
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_POST

from annotate.requests import AppRequest
from curation.models import Decision, Export, Sample, SampleImage, Source, Subset
from curation.services.approval import approval_evaluate, user_may_override
from curation.services.pipeline_stages import subset_pipeline
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
# Sent after any action that changes a subset's state; the subset page's panels refresh on it.
SUBSET_CHANGED_EVENT = "subset-changed"
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


class ApproveForm(forms.Form):
    override_reason = forms.CharField(
        max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}),
        label="Approve over the failing checks because",
        help_text="Admins only: the reason is kept in the audit trail with the checks it overrode.",
    )


# Where a stage's or check's action leads, by the page name the services give.
def _action_urls(subset: Subset) -> dict[str, str]:
    return {
        "sources": "#sources",
        "review": f"#subset-review-{subset.pk}",
        "approval": "#approval",
        "open": "#approval",
        "export": f"{reverse('export_new')}?subsets={subset.pk}",
        "copies": reverse("subset_copies", args=[subset.pk]),
        "ratings": reverse("subset_ratings", args=[subset.pk]),
        "hard_negatives": reverse("hard_negatives", args=[subset.pk]),
        "actions": f"#subset-actions-{subset.pk}",
    }


def _approval_context(subset: Subset, user: Any = None) -> dict[str, Any]:
    states = approval_evaluate(subset=subset)
    blocking = [state for state in states if state.blocking]
    return {
        "subset": subset,
        "checks": subset_open_checks(subset=subset),
        "approval_checks": states,
        "blocking": blocking,
        "may_override": user_may_override(user),
        "jobs": subset_running_jobs(subset=subset),
        "reopen_form": ReopenForm(),
        "approve_form": ApproveForm(),
        "action_urls": _action_urls(subset),
    }


def _pipeline_context(subset: Subset) -> dict[str, Any]:
    return {"subset": subset, "pipeline": subset_pipeline(subset=subset), "action_urls": _action_urls(subset)}


def _history(subset: Subset) -> list[Decision]:
    return list(
        Decision.objects.filter(target_type=ContentType.objects.get_for_model(Subset), target_id=str(subset.pk))
        .select_related("actor")[:20]
    )


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
    subset_rows = list(subsets)
    facts = subset_labels_for(subset_ids=[s.pk for s in subset_rows])
    for row in subset_rows:
        row.labels = facts.get(row.pk)  # type: ignore[attr-defined]  # shown beside the counts
    rows = [(subset, subset_pipeline(subset=subset)) for subset in subset_rows]
    stage_labels = [stage.label for stage in rows[0][1]] if rows else []
    return render(request, "annotate/subset_list.html", {
        "rows": rows, "stage_labels": stage_labels, "status": status, "statuses": Subset.Status.choices,
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
        return render(request, "annotate/subset_detail.html#approval", _approval_context(subset, request.user))
    if request.htmx and request.GET.get("part") == "pipeline":
        return render(request, "annotate/subset_detail.html#pipeline", _pipeline_context(subset))
    if request.htmx and request.GET.get("part") == "history":
        return render(request, "annotate/subset_detail.html#history", {"subset": subset, "history": _history(subset)})
    history = _history(subset)
    context = {
        **_approval_context(subset, request.user),
        **_pipeline_context(subset),
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
    form = ApproveForm(request.POST)
    reason = form.cleaned_data["override_reason"] if form.is_valid() else ""
    try:
        subset = subset_approve(subset=subset, by=request.user, override_reason=reason)
    except SubsetNotApprovable as exc:
        return _after_change(request, subset, messages.ERROR, str(exc))
    over = " over the failing checks (the reason is in the history)" if reason.strip() else ""
    return _after_change(request, subset, messages.SUCCESS, f"{subset.name} is approved for export{over}.")


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
        fresh = _get_subset(subset.pk)
        context = {**_approval_context(fresh, request.user), "notice": {"error": level == messages.ERROR, "text": text}}
        response = render(request, "annotate/subset_detail.html#approval", context)
        if level != messages.ERROR:
            # Every panel that depends on the subset's state (pipeline, history) listens for this one event.
            response["HX-Trigger"] = SUBSET_CHANGED_EVENT
        return response
    messages.add_message(request, level, text)
    return redirect("subset_detail", subset_id=subset.pk)


urlpatterns = [
    path("subsets/", subset_list, name="subset_list"),
    path("subsets/<int:subset_id>/", subset_detail, name="subset_detail"),
    path("subsets/<int:subset_id>/approve/", subset_approve_view, name="subset_approve"),
    path("subsets/<int:subset_id>/reopen/", subset_reopen_view, name="subset_reopen"),
]
