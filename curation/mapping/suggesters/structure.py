"""Facts every suggester may rely on, read from the sampled values (not guessed from names).

A column holding stored image references is an image column whatever it is called; a list of
{from, value} messages is a conversation. These facts are shared by the rule and model suggesters.
"""
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from curation.ingest.records import IMAGE_KEY
from curation.mapping.spec import ConversationStyle

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff")
BASE64_IMAGE = re.compile(r"^(data:image/[a-z]+;base64,|iVBORw0KGgo|/9j/|R0lGOD|UklGR)")
# Share of non-empty sampled values that must agree before a fact is taken as true of the column.
AGREEMENT = 0.8

CONVERSATION_KEYS: dict[ConversationStyle, tuple[set[str], str]] = {
    "from_value": ({"from", "value"}, "LLaVA/ShareGPT messages with 'from' and 'value'"),
    "role_content": ({"role", "content"}, "OpenAI-style messages with 'role' and 'content'"),
    "user_assistant": ({"user", "assistant"}, "Cauldron-style turns with 'user' and 'assistant'"),
}


@dataclass
class ColumnFacts:
    name: str
    declared_type: str
    kind: str  # see _kind_of
    present: int  # sampled rows with a non-empty value
    sampled: int
    avg_chars: float = 0.0
    avg_items: float = 0.0
    dict_keys: set[str] = field(default_factory=set)
    has_nested_images: bool = False
    single_letters: bool = False
    style: ConversationStyle = "from_value"  # conversation style, when kind == "conversation"
    style_text: str = ""

    @property
    def share_present(self) -> float:
        return self.present / self.sampled if self.sampled else 0.0


def column_facts(columns: dict[str, str], rows: list[dict[str, Any]]) -> dict[str, ColumnFacts]:
    names = list(columns) or list(dict.fromkeys(k for row in rows for k in row))
    return {name: _facts(name, columns.get(name, ""), [_decode(row.get(name)) for row in rows]) for name in names}


def _decode(value: Any) -> Any:
    # Lists and objects kept as JSON text in a text column (CSV, some Parquet files) are read as what they are.
    if isinstance(value, str) and value[:1] in "[{" and value.rstrip()[-1:] in "]}":
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | dict) and not value)


def _is_image_ref(value: Any) -> bool:
    return isinstance(value, dict) and IMAGE_KEY in value


def _contains_image_ref(value: Any) -> bool:
    if _is_image_ref(value):
        return True
    if isinstance(value, dict):
        return any(_contains_image_ref(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_image_ref(v) for v in value)
    return False


def _kind_of(value: Any) -> str:
    if _is_image_ref(value):
        return "image"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        if value.lower().endswith(IMAGE_EXTENSIONS) and "\n" not in value and len(value) < 500:
            return "image_path"
        if BASE64_IMAGE.match(value) and len(value) > 100:
            return "image_bytes"
        return "text"
    if isinstance(value, dict):
        if isinstance(value.get("bytes"), str) and BASE64_IMAGE.match(value["bytes"]):
            return "image_bytes"
        return "dict"
    if isinstance(value, list):
        inner = [v for v in value if not _empty(v)]
        if not inner:
            return "list_empty"
        kinds = Counter(_kind_of(v) for v in inner)
        top, count = kinds.most_common(1)[0]
        if count < len(inner):
            return "list_mixed"
        return {"image": "image_list", "image_path": "image_path_list", "image_bytes": "image_bytes_list"}.get(
            top, f"list_{top}"
        )
    return "other"


def _facts(name: str, declared: str, values: list[Any]) -> ColumnFacts:
    present = [v for v in values if not _empty(v)]
    facts = ColumnFacts(name=name, declared_type=declared, kind="empty", present=len(present), sampled=len(values))
    if not present:
        return facts
    kinds = Counter(_kind_of(v) for v in present)
    kind, count = kinds.most_common(1)[0]
    # list_empty values say nothing about what the column holds when other rows have items.
    if kind == "list_empty" and len(kinds) > 1:
        kind, count = kinds.most_common(2)[1]
    facts.kind = kind if count >= AGREEMENT * len(present) else "mixed"
    texts = [v for v in present if isinstance(v, str)]
    facts.avg_chars = sum(len(t) for t in texts) / len(texts) if texts else 0.0
    lists = [v for v in present if isinstance(v, list)]
    facts.avg_items = sum(len(v) for v in lists) / len(lists) if lists else 0.0
    facts.has_nested_images = facts.kind not in ("image", "image_list") and any(_contains_image_ref(v) for v in present)
    facts.single_letters = bool(texts) and all(re.fullmatch(r"\(?[A-Za-z]\)?\.?", t.strip()) for t in texts)
    if facts.kind == "list_dict":
        key_sets = [set(d) for v in lists for d in v if isinstance(d, dict)]
        facts.dict_keys = set.intersection(*key_sets) if key_sets else set()
        for style, (keys, text) in CONVERSATION_KEYS.items():
            if keys <= facts.dict_keys:
                facts.kind, facts.style, facts.style_text = "conversation", style, text
                break
    elif facts.kind == "dict":
        key_sets = [set(v) for v in present if isinstance(v, dict)]
        facts.dict_keys = set.intersection(*key_sets)
    return facts
