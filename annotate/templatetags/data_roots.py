"""{% load data_roots %}{% data_root_picker "location" %}: the allowed data roots and a browser that picks a path
under them into the form field of that name (kind="folder" picks folders only; opened=False shows a button first)."""
from typing import Any

from django import template

from curation.selectors_data_roots import data_roots

register = template.Library()


@register.inclusion_tag("annotate/data_roots.html#picker")
def data_root_picker(target: str, kind: str = "any", opened: bool = True) -> dict[str, Any]:
    return {"target": target, "kind": kind, "opened": opened, "roots": data_roots(), "folder": None, "error": None}
