"""Labels of registered things for templates: the registries hold them, models keep only the key.

{% load labels %} then {{ job.kind|job_kind_label }}, {{ queue.kind|review_kind_label }},
{{ export.format|export_format_label }}.
"""
from django import template

from curation.exporters.registry import format_label
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
