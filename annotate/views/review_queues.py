"""Curator pages of review queues: fill a subset's queue (all or a spot check), configure a queue, and
the review panel of a subset page (acceptance rate with its 95% interval)."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods, require_POST

from annotate.errors import form_add_error
from annotate.flash import UNFINISHED, flash_job
from annotate.htmx import HTMX_STOP_POLLING
from annotate.requests import AppRequest
from annotate.review_forms import QueueFillForm, QueueSettingsForm
from curation.errors import ApplicationError
from curation.models import ReviewQueue, Subset
from curation.review.selectors import queue_progress, subset_review_summary
from curation.services.review import review_queue_configure
from curation.services.review_fill import review_fill_start

PANEL_STATS = "annotate/subset_review_panel.html#stats"


def _panel_context(request: AppRequest, subset: Subset, fill_form: QueueFillForm | None = None) -> dict:
    summary = subset_review_summary(subset=subset)
    if fill_form is None:
        initial = {"subset": subset.pk, "kind": "sample", "percent": 100, "seed": 1}
        if summary.queue is not None:
            initial["overlap"] = f"{summary.queue.overlap_rate * 100:g}"
        fill_form = QueueFillForm(initial=initial)
    return {
        "subset": subset,
        "summary": summary,
        "fill_form": fill_form,
        "can_configure": request.user.has_perm("curation.change_reviewqueue"),
        "can_work": request.user.has_perm("curation.review_item"),
    }


@login_required
@permission_required("curation.view_subset", raise_exception=True)
def subset_review_panel(request: AppRequest, subset_id: int) -> HttpResponse:
    subset = get_object_or_404(Subset, pk=subset_id)
    if not request.htmx:  # the panel lives on the subset page
        return redirect(f"/subsets/{subset.pk}/#subset-review-{subset.pk}")
    context = _panel_context(request, subset)
    response = render(request, PANEL_STATS, context)
    job = context["summary"].fill_job
    if job is None or job.is_finished:
        response.status_code = HTMX_STOP_POLLING
    return response


@login_required
@permission_required("curation.change_reviewqueue", raise_exception=True)
@require_POST
def review_queue_fill_view(request: AppRequest) -> HttpResponse:
    form = QueueFillForm(request.POST)
    subset = None
    if form.is_valid():
        subset = form.cleaned_data["subset"]
        try:
            job = review_fill_start(
                kind=form.cleaned_data["kind"],
                subset=subset,
                fraction=form.cleaned_data["percent"],
                seed=form.cleaned_data["seed"],
                overlap_rate=form.cleaned_data["overlap"],
                by=request.user,
            )
        except ApplicationError as exc:
            form_add_error(form, exc)
        else:
            if not request.htmx:
                flash_job(request, job=job, text="Filling the review queue.", states=UNFINISHED)
                return redirect("job_detail", job.pk)
    if subset is None:
        subset_id = request.POST.get("subset", "")
        subset = get_object_or_404(Subset, pk=int(subset_id)) if subset_id.isdigit() else None
    if subset is None:
        return HttpResponse("Choose a subset.", status=400)
    if not request.htmx and form.errors:
        messages.error(request, "; ".join(str(e) for errs in form.errors.values() for e in errs))
        return redirect("review_home")
    status = 400 if form.errors else 200
    response = render(request, PANEL_STATS, _panel_context(request, subset, form if form.errors else None), status=status)
    if not form.errors:
        response["HX-Trigger"] = "subset-changed"  # the subset page's panels (approval, pipeline) refresh on it
    return response


@login_required
@permission_required("curation.change_reviewqueue", raise_exception=True)
@require_http_methods(["GET", "POST"])
def review_queue_settings(request: AppRequest, queue_id: int) -> HttpResponse:
    queue = get_object_or_404(ReviewQueue.objects.select_related("subset"), pk=queue_id)
    if request.method == "POST":
        form = QueueSettingsForm(request.POST)
        if form.is_valid():
            try:
                review_queue_configure(
                    queue=queue,
                    by=request.user,
                    name=form.cleaned_data["name"],
                    instructions=form.cleaned_data["instructions"],
                    overlap_rate=form.cleaned_data["overlap"],
                    active=form.cleaned_data["active"],
                    assignees=form.cleaned_data["assignees"],
                )
            except ApplicationError as exc:
                form_add_error(form, exc)
            else:
                messages.success(request, f"Saved the settings of '{queue.name}'.")
                return redirect("review_queue_settings", queue.pk)
    else:
        form = QueueSettingsForm(
            initial={
                "name": queue.name,
                "instructions": queue.instructions,
                "overlap": f"{queue.overlap_rate * 100:g}",
                "active": queue.active,
                "assignees": list(queue.assignees.all()),
            }
        )
    context = {"queue": queue, "form": form, "progress": queue_progress(queue)}
    return render(request, "annotate/review_queue_settings.html", context)


urlpatterns = [
    path("review/queues/fill/", review_queue_fill_view, name="review_queue_fill"),
    path("review/queues/<int:queue_id>/settings/", review_queue_settings, name="review_queue_settings"),
    path("review/subsets/<int:subset_id>/panel/", subset_review_panel, name="subset_review_panel"),
]
