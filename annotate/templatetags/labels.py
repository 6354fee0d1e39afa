"""Labels of registered things for templates: the registries hold them, models keep only the key.

{% load labels %} then {{ job.kind|job_kind_label }}, {{ queue.kind|review_kind_label }},
{{ export.format|export_format_label }}; {{ job|job_title }} names a job for what it acts on.
"""
from django import template

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
    target = job.target
    if target is None:
        return label
    source = getattr(target, "source", None)
    if hasattr(target, "version") and source is not None:  # a mapping
        return f"{label}: version {target.version} of {source.name}"
    name = getattr(target, "name", "") or str(target)
    return f"{label}: {name}"
