"""The columns a source's rows have and the types seen in each, kept while rows stream past."""
from typing import Any

from curation.ingest.records import is_image_ref

# A source with more distinct top-level keys than this is described by its first ones only.
MAX_COLUMNS = 500
# Row shapes remembered so that a row like one seen before costs one lookup.
MAX_SHAPES = 1024
TYPE_NAMES = {str: "string", int: "integer", float: "float", bool: "boolean", type(None): "null", list: "list", dict: "object"}
TYPE_ORDER = ("image", "image[]", "string", "integer", "float", "boolean", "list", "object", "null")


def value_type(value: Any) -> str:
    if isinstance(value, list) and value and all(is_image_ref(v) for v in value):
        return "image[]"
    if is_image_ref(value):
        return "image"
    return TYPE_NAMES.get(type(value), "object")


class ColumnTypes:
    """Per column, the Python types seen (cheap to record per row) and, where rows held images, "image"/"image[]"."""

    def __init__(self) -> None:
        self.seen: dict[str, set[Any]] = {}
        # (keys, their value types) of rows already recorded: most rows of a source share a handful of shapes.
        self._shapes: set[tuple[tuple[str, ...], tuple[type, ...]]] = set()

    def observe(self, data: dict[str, Any], *, has_images: bool = True) -> None:
        """Record a row's types; has_images=False (no image references possible) skips looking for them."""
        if not has_images:
            shape = (tuple(data), tuple(map(type, data.values())))
            if shape in self._shapes:
                return
            if len(self._shapes) < MAX_SHAPES:
                self._shapes.add(shape)
        seen = self.seen
        for key, value in data.items():
            kinds = seen.get(key)
            if kinds is None:
                if len(seen) >= MAX_COLUMNS:
                    continue
                kinds = seen[key] = set()
            kinds.add(value_type(value) if has_images and type(value) in (list, dict) else type(value))

    def as_dict(self) -> dict[str, str]:
        """Column -> its types joined by '|', e.g. {"image": "image", "caption": "string|null"}."""
        result = {}
        for key, kinds in self.seen.items():
            names = {kind if isinstance(kind, str) else TYPE_NAMES.get(kind, "object") for kind in kinds}
            result[key] = "|".join(name for name in TYPE_ORDER if name in names)
        return result
