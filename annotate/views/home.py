"""The landing page, the live progress of any job, and its Retry and Cancel buttons.

Both are for people in a role. A reviewer's home is their queues; a curator's the sources, subsets and jobs.
A job is shown only to those who may see what it worked on, and server paths in its messages only to those
who register sources.
"""
import re
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from annotate.flash import flash_job
from annotate.htmx import HTMX_STOP_POLLING
from annotate.requests import AppRequest
from annotate.templatetags.labels import job_title
from curation.models import Job, Source, Subset
from curation.review.selectors import queue_progress_many, queues_for_user
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

# Who may read server paths in job messages: the people who register sources by path.
SEES_SERVER_PATHS = "curation.ingest_source"
# An absolute path (two components or more): /data/folder_src/evil.jsonl, /etc/passwd.
ABSOLUTE_PATH = re.compile(r"(?<![\w.:/])/(?:[^\s/,;:()'\"]+/)+[^\s/,;:()'\"]*")


def _view_permission(content_type: ContentType) -> str:
    return f"{content_type.app_label}.view_{content_type.model}"


def _jobs_visible_to(user) -> QuerySet[Job]:  # type: ignore[no-untyped-def]
    """Jobs without a target, and those whose target the user may view (a reviewer sees no export jobs)."""
    used = ContentType.objects.filter(pk__in=Job.objects.values("target_type").distinct())
    allowed = [ct.pk for ct in used if user.has_perm(_view_permission(ct))]
    return Job.objects.filter(Q(target_type__isnull=True) | Q(target_type__in=allowed))


def _get_job(request: AppRequest, job_id: int) -> Job:
    job = get_object_or_404(Job.objects.select_related("created_by", "parent"), pk=job_id)
    if job.target_type is not None and not request.user.has_perm(_view_permission(job.target_type)):
        raise PermissionDenied
    return job


def path_redact(text: str) -> str:
    """Server paths as their last component only: '/srv/data/x/evil.jsonl' becomes '…/evil.jsonl'."""
    return ABSOLUTE_PATH.sub(lambda m: "…/" + m.group(0).rstrip("/").rsplit("/", 1)[-1], text)


@dataclass
class ShownError:
    location: str
    row_number: int | None
    message: str


def _result_lines(result: dict) -> list[tuple[str, str]]:
    """A job's result as (what, value) lines a person reads, not a Python dict."""
    lines = []
    for key, value in (result or {}).items():
        if isinstance(value, dict):
            shown = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in value.items())
        elif isinstance(value, list):
            shown = ", ".join(str(v) for v in value)
        else:
            shown = f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)
        lines.append((key.replace("_", " "), shown))
    return lines


@login_required
@permission_required("curation.view_job", raise_exception=True)
@require_GET
def home(request: AppRequest) -> HttpResponse:
    queues = queues_for_user(user=request.user)
    progress = queue_progress_many(queues, user=request.user)
    context = {
        # A reviewer starts from their queues; curators and admins from the sources and subsets.
        "reviewer_home": not request.user.has_perm(SEES_SERVER_PATHS),
        "queue_rows": progress,
        "waiting": sum(p.claimable or 0 for p in progress),
        "sources": Source.objects.order_by("-created_at")[:10],
        "subsets": Subset.objects.order_by("name")[:10],
        "jobs": _jobs_visible_to(request.user).select_related("created_by").order_by("-created_at")[:10],
    }
    return render(request, "annotate/home.html", context)


@login_required
@permission_required("curation.view_job", raise_exception=True)
@require_GET
def job_detail(request: AppRequest, job_id: int) -> HttpResponse:
    job = _get_job(request, job_id)
    redact = not request.user.has_perm(SEES_SERVER_PATHS)
    if redact:
        job.message = path_redact(job.message)
    children = job_children_progress(parent=job)
    if request.htmx:
        part = "children" if request.GET.get("part") == "children" else "progress"
        response = render(request, f"annotate/job.html#{part}", {"job": job, "children": children})
        if job.is_finished and (part == "progress" or not children or children.unfinished == 0):
            response.status_code = HTMX_STOP_POLLING
        return response
    errors = [ShownError(e.location, e.row_number, e.message) for e in job.errors.all()[:200]]
    result = _result_lines(job.result)
    if redact:
        errors = [ShownError(path_redact(e.location), e.row_number, path_redact(e.message)) for e in errors]
        result = [(what, path_redact(value)) for what, value in result]
    can_manage = job_can_manage(job=job, by=request.user)
    context = {
        "job": job,
        "status_text": job_status_text(job),
        "errors": errors,
        "result": result,
        "attempts": job.attempt_rows.all(),
        "children": children,
        "can_retry": can_manage and job_can_retry(job),
        "can_cancel": can_manage and not job.is_finished,
    }
    return render(request, "annotate/job.html", context)


def _managed_job(request: AppRequest, job_id: int) -> Job:
    job = _get_job(request, job_id)
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
        flash_job(request, job=job, text=f"{job_title(job)} is queued again (attempt {job.attempts + 1}); a worker resumes it.")
    return redirect("job_detail", job.pk)


@login_required
@require_POST
def job_cancel_view(request: AppRequest, job_id: int) -> HttpResponse:
    job = _managed_job(request, job_id)
    was_running = job.state == Job.State.RUNNING and not job.is_stalled
    if job_cancel(job=job, by=request.user):
        if was_running:
            messages.success(request, f"{job_title(job)} is cancelled; its worker stops after the batch it is on.")
        else:
            messages.success(request, f"{job_title(job)} is cancelled.")
    else:
        messages.error(request, f"{job_title(job)} was not cancelled: it had already {job.get_state_display().lower()}.")
    return redirect("job_detail", job.pk)


urlpatterns = [
    path("", home, name="home"),
    path("jobs/<int:job_id>/", job_detail, name="job_detail"),
    path("jobs/<int:job_id>/retry/", job_retry_view, name="job_retry"),
    path("jobs/<int:job_id>/cancel/", job_cancel_view, name="job_cancel"),
]
