"""{% load charts %}: charts built in the template from a value the page already has ({{ eigenvalues|spectrum_chart }})."""
from django import template

from annotate.charts import Chart
from annotate.charts import spectrum_chart as _spectrum_chart

register = template.Library()


@register.filter
def spectrum_chart(eigenvalues: list[float]) -> Chart | None:
    return _spectrum_chart(list(eigenvalues or []))
