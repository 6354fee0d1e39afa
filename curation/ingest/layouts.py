"""Recognise the public chat layouts a source's records follow, so a mapping can be suggested from them.

- LLaVA: `conversations` [{from, value}] (an `<image>` token marks where the image goes)
- Cauldron / FineVision: `images` and `texts` [{user, assistant}]
- ShareGPT / OpenAI: `messages` [{role, content}]
Anything else is a table of columns; an image folder is its own layout.
"""
from collections import Counter
from collections.abc import Iterable
from typing import Any

from curation.models import Source

# How many records the layout is judged on.
LAYOUT_SAMPLE_SIZE = 50


def _list_of_dicts_with(value: Any, keys: set[str]) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(item, dict) for item in value)
        and keys <= set(value[0])
    )


def record_layout(data: dict[str, Any]) -> str:
    """The layout one record follows."""
    if _list_of_dicts_with(data.get("conversations"), {"from", "value"}):
        return Source.Layout.LLAVA.value
    if _list_of_dicts_with(data.get("texts"), {"user", "assistant"}):
        return Source.Layout.CAULDRON.value
    if _list_of_dicts_with(data.get("messages"), {"role", "content"}):
        return Source.Layout.SHAREGPT.value
    return Source.Layout.TABLE.value


def layout_detect(records: Iterable[dict[str, Any]], *, format: str) -> str:
    """The layout most of the sampled records follow (an image folder is always IMAGEFOLDER)."""
    if format == Source.Format.IMAGEFOLDER:
        return Source.Layout.IMAGEFOLDER.value
    votes = Counter(record_layout(data) for data in records)
    if not votes:
        return Source.Layout.UNKNOWN.value
    return votes.most_common(1)[0][0]
