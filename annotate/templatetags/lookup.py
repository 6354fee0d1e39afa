"""`dict|get_item:key`: a mapping's value for a key held in a variable (templates cannot subscript)."""
from typing import Any

from django import template

register = template.Library()


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    return mapping.get(key, "") if hasattr(mapping, "get") else ""
