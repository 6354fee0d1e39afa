"""Template filters of hard-negative pages: the negative cut into changed / unchanged pieces.

The template escapes every piece and wraps the changed ones in <mark>; no dataset text is ever marked safe.
"""
import json

from django import template

from curation.engines.hardneg import change_spans

register = template.Library()


@register.filter
def negative_spans(negative: object) -> list[tuple[str, bool]]:
    """(text, changed) pieces of a HardNegative's text against what it contradicts (its fact)."""
    return change_spans(str(getattr(negative, "fact", "")), str(getattr(negative, "text", "")))


@register.filter
def pretty_json(value: object) -> str:
    """A trace step's input or output as indented JSON text (the template escapes it)."""
    return json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True)
