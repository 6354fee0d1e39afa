"""Where an open check of a subset links to: the page builds the URL, the service only names the thing."""
from django import template
from django.urls import reverse

from curation.services.subsets import OpenCheck

register = template.Library()


@register.filter
def open_check_url(check: OpenCheck) -> str:
    if check.job_id is not None:
        return reverse("job_detail", args=[check.job_id])
    if check.source_id is not None:
        return reverse("source_detail", kwargs={"source_id": check.source_id})
    if check.code == "review_items_open":
        return reverse("review_home")
    return ""
