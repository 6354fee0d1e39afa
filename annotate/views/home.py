"""The landing page and the live progress of any job."""
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import path
from django.views.decorators.http import require_GET

from annotate.htmx import HTMX_STOP_POLLING
from annotate.requests import AppRequest
from curation.models import Job, Source, Subset


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
    job = get_object_or_404(Job, pk=job_id)
    if request.htmx:
        response = render(request, "annotate/job.html#progress", {"job": job})
        if job.is_finished:
            response.status_code = HTMX_STOP_POLLING
        return response
    errors = job.errors.all()[:200]
    return render(request, "annotate/job.html", {"job": job, "errors": errors})


urlpatterns = [
    path("", home, name="home"),
    path("jobs/<int:job_id>/", job_detail, name="job_detail"),
]
