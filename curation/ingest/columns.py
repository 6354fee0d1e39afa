"""The columns a source's rows have and the types seen in each, kept while rows stream past."""
from typing import Any

from curation.ingest.records import is_image_ref

# A source with more distinct top-level keys than this is described by its first ones only.
MAX_COLUMNS = 500
TYPE_ORDER = ("image", "image[]", "string", "integer", "float", "boolean", "list", "object", "null")


def value_type(value: Any) -> str:
    if value is None:
        return "null"
    if is_image_ref(value):
        return "image"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "image[]" if value and all(is_image_ref(v) for v in value) else "list"
    return "object"


class ColumnTypes:
    def __init__(self) -> None:
        self.types: dict[str, set[str]] = {}

    def observe(self, data: dict[str, Any]) -> None:
        for key, value in data.items():
            seen = self.types.get(key)
            if seen is None:
                if len(self.types) >= MAX_COLUMNS:
                    continue
                seen = self.types[key] = set()
            seen.add(value_type(value))

    def as_dict(self) -> dict[str, str]:
        """Column -> its types joined by '|', e.g. {"image": "image", "caption": "string|null"}."""
        return {key: "|".join(t for t in TYPE_ORDER if t in seen) for key, seen in self.types.items()}
