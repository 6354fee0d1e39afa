"""Labels of registered things for templates: the registries hold them, models keep only the key.

{% load labels %} then {{ job.kind|job_kind_label }}, {{ queue.kind|review_kind_label }},
{{ export.format|export_format_label }}; {{ job|job_title }} names a job for what it acts on.
"""
from django import template
from django.urls import reverse

from curation.exporters.registry import format_label
from curation.models import Job
from curation.review.kinds import kind_label
from curation.services.job_kinds import job_kind_label as _job_kind_label

register = template.Library()


@register.filter
def job_kind_label(key: str) -> str:
    return _job_kind_label(key)


@register.filter
def review_kind_label(key: str) -> str:
    return kind_label(key)


@register.filter
def export_format_label(name: str) -> str:
    return format_label(name)


@register.filter
def job_title(job: Job) -> str:
    """'Ingest source my-llava-5', 'Apply mapping version 2 of my-llava-5': the kind and what it acts on."""
    label = _job_kind_label(job.kind)
    name = job_target_name(job)
    return f"{label}: {name}" if name else label


@register.filter
def job_target_name(job: Job) -> str:
    """'my-llava-5', 'version 2 of my-llava-5': what the job acts on, as a person names it ('' for no target)."""
    target = job.target
    if target is None:
        return ""
    source = getattr(target, "source", None)
    if hasattr(target, "version") and source is not None:  # a mapping
        return f"version {target.version} of {source.name}"
    return getattr(target, "name", "") or str(target)


# Where a job's target lives, by model: the URL name and how to get its arguments (and a query, for a mapping version).
_TARGET_PAGES = {
    "source": ("source_detail", lambda t: [t.pk], lambda t: ""),
    "subset": ("subset_detail", lambda t: [t.pk], lambda t: ""),
    "export": ("export_detail", lambda t: [t.pk], lambda t: ""),
    "benchmark": ("benchmark_detail", lambda t: [t.pk], lambda t: ""),
    "reviewqueue": ("review_work", lambda t: [t.pk], lambda t: ""),
    "mapping": ("mapping_page", lambda t: [t.source_id], lambda t: f"?version={t.version}"),
    "actionmapping": ("action_mapping_page", lambda t: [t.source_id], lambda t: f"?version={t.version}"),
}


@register.filter
def job_target_url(job: Job) -> str:
    """The page of what the job acts on ('' when it has no page of its own)."""
    target = job.target
    page = _TARGET_PAGES.get(type(target)._meta.model_name) if target is not None else None
    if page is None:
        return ""
    name, args, query = page
    return reverse(name, args=args(target)) + query(target)
