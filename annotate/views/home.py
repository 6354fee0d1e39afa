"""The landing page and the live progress of any job: both for people in a role; a job only for those who may see
what it worked on, and server paths in its messages only for those who register sources."""
import re
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.views.decorators.http import require_GET

from annotate.requests import AppRequest
from curation.models import Job, Source, Subset

# HTMX stops polling when a response has this status.
HTMX_STOP_POLLING = 286
# Who may read server paths in job messages: the people who register sources by path.
SEES_SERVER_PATHS = "curation.ingest_source"
# An absolute path (two components or more): /data/folder_src/evil.jsonl, /etc/passwd.
ABSOLUTE_PATH = re.compile(r"(?<![\w.:/])/(?:[^\s/,;:()'\"]+/)+[^\s/,;:()'\"]*")


def _view_permission(content_type: ContentType) -> str:
    return f"{content_type.app_label}.view_{content_type.model}"


def _jobs_visible_to(user) -> QuerySet[Job]:
    """Jobs without a target, and those whose target the user may view (a reviewer sees no export jobs)."""
    used = ContentType.objects.filter(pk__in=Job.objects.values("target_type").distinct())
    allowed = [ct.pk for ct in used if user.has_perm(_view_permission(ct))]
    return Job.objects.filter(Q(target_type__isnull=True) | Q(target_type__in=allowed))


def _get_job(request: AppRequest, job_id: int) -> Job:
    job = get_object_or_404(Job, pk=job_id)
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


@login_required
@permission_required("curation.view_job", raise_exception=True)
@require_GET
def home(request: AppRequest) -> HttpResponse:
    context = {
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
    if not request.user.has_perm(SEES_SERVER_PATHS):
        job.message = path_redact(job.message)
    if request.htmx:
        response = render(request, "annotate/job.html#progress", {"job": job})
        if job.is_finished:
            response.status_code = HTMX_STOP_POLLING
        return response
    errors = [ShownError(e.location, e.row_number, e.message) for e in job.errors.all()[:200]]
    result = str(job.result) if job.result else ""
    if not request.user.has_perm(SEES_SERVER_PATHS):
        errors = [ShownError(path_redact(e.location), e.row_number, path_redact(e.message)) for e in errors]
        result = path_redact(result)
    context = {"job": job, "errors": errors, "result": result}
    return render(request, "annotate/job.html", context)


urlpatterns = [
    path("", home, name="home"),
    path("jobs/<int:job_id>/", job_detail, name="job_detail"),
]
