"""The landing page, the live progress of any job, and its Retry and Cancel buttons."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from annotate.htmx import HTMX_STOP_POLLING
from annotate.requests import AppRequest
from curation.models import Job, Source, Subset
from curation.services.jobs import (
    JobNotRetryable,
    JobNotYours,
    job_can_manage,
    job_can_retry,
    job_cancel,
    job_children_progress,
    job_retry,
    job_status_text,
)


@login_required
@require_GET
def home(request: AppRequest) -> HttpResponse:
    context = {
        "sources": Source.objects.order_by("-created_at")[:10],
        "subsets": Subset.objects.order_by("name")[:10],
        "jobs": Job.objects.select_related("created_by").order_by("-created_at")[:10],
    }
    return render(request, "annotate/home.html", context)


@login_required
@require_GET
def job_detail(request: AppRequest, job_id: int) -> HttpResponse:
    job = get_object_or_404(Job.objects.select_related("created_by", "parent"), pk=job_id)
    children = job_children_progress(parent=job)
    if request.htmx:
        part = "children" if request.GET.get("part") == "children" else "progress"
        response = render(request, f"annotate/job.html#{part}", {"job": job, "children": children})
        if job.is_finished and (part == "progress" or not children or children.unfinished == 0):
            response.status_code = HTMX_STOP_POLLING
        return response
    can_manage = job_can_manage(job=job, by=request.user)
    context = {
        "job": job,
        "status_text": job_status_text(job),
        "errors": job.errors.all()[:200],
        "attempts": job.attempt_rows.all(),
        "children": children,
        "can_retry": can_manage and job_can_retry(job),
        "can_cancel": can_manage and not job.is_finished,
    }
    return render(request, "annotate/job.html", context)


def _managed_job(request: AppRequest, job_id: int) -> Job:
    job = get_object_or_404(Job, pk=job_id)
    if not job_can_manage(job=job, by=request.user):
        raise PermissionDenied("only curators, admins and the job's creator may retry or cancel it")
    return job


@login_required
@require_POST
def job_retry_view(request: AppRequest, job_id: int) -> HttpResponse:
    job = _managed_job(request, job_id)
    try:
        job = job_retry(job=job, by=request.user)
    except (JobNotRetryable, JobNotYours) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Job #{job.pk} is queued again (attempt {job.attempts + 1}); a worker resumes it.")
    return redirect("job_detail", job.pk)


@login_required
@require_POST
def job_cancel_view(request: AppRequest, job_id: int) -> HttpResponse:
    job = _managed_job(request, job_id)
    was_running = job.state == Job.State.RUNNING and not job.is_stalled
    if job_cancel(job=job, by=request.user):
        if was_running:
            messages.success(request, f"Job #{job.pk} is cancelled; its worker stops after the batch it is on.")
        else:
            messages.success(request, f"Job #{job.pk} is cancelled.")
    else:
        messages.error(request, f"Job #{job.pk} was not cancelled: it had already {job.get_state_display().lower()}.")
    return redirect("job_detail", job.pk)


urlpatterns = [
    path("", home, name="home"),
    path("jobs/<int:job_id>/", job_detail, name="job_detail"),
    path("jobs/<int:job_id>/retry/", job_retry_view, name="job_retry"),
    path("jobs/<int:job_id>/cancel/", job_cancel_view, name="job_cancel"),
]
