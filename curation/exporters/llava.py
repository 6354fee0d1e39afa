"""LLaVA-style JSONL (one conversation per line) plus an images folder named by content.

data.jsonl lines: {"id", "image": path or [paths] (absent when text-only), "conversations":
[{"from": "human", "value": "<image>\\n..."}, {"from": "gpt", "value": ...}], "subset", "source", columns...}.
Images are stored once each under images/<sha256[:2]>/<sha256>.<ext>.
"""
import io
import json
import os
import shutil
from collections.abc import Callable
from typing import IO, Any

import orjson

from curation.exporters.files import HashingFile
from curation.exporters.records import ExportRecord, ImageRef
from curation.exporters.registry import ExportContext, ExportFormat, SubsetPart, WrittenFile, register_format

DATA_FILE = "data.jsonl"
IMAGE_TOKEN = "<image>"  # noqa: S105  (the LLaVA image placeholder, not a secret)


def llava_conversations(record: ExportRecord) -> list[dict[str, str]]:
    """Human/gpt turns; the first human turn gets one <image> token per image it does not already mention."""
    conversations = []
    for turn in record.turns:
        conversations.append({"from": "human", "value": turn["user"]})
        conversations.append({"from": "gpt", "value": turn["assistant"]})
    mentioned = sum(c["value"].count(IMAGE_TOKEN) for c in conversations if c["from"] == "human")
    missing = len(record.images) - mentioned
    if missing > 0:
        if not conversations:
            conversations.append({"from": "human", "value": ""})
        first = conversations[0]
        first["value"] = (IMAGE_TOKEN + "\n") * missing + first["value"]
    return conversations


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class LlavaWriter:
    def __init__(self, context: ExportContext):
        self.context = context
        self.column_names = [c.name for p in context.columns for c in p.columns]
        self._images_init(context)
        self._hashed = HashingFile(context.root / DATA_FILE)
        self._file: IO[Any] = io.BufferedWriter(self._hashed)
        # orjson writes the same bytes as json.dumps(ensure_ascii=False, separators=(",", ":")) for strings,
        # integers, booleans and nulls, several times faster; floats it would write differently (1e+16, NaN).
        floats = any("float" in c.type for p in context.columns for c in p.columns)
        self._dumps: Callable[[Any], bytes] = _json_bytes if floats else orjson.dumps

    def begin_subset(self, part: SubsetPart) -> None:
        del part

    def write(self, record: ExportRecord) -> None:
        line: dict[str, Any] = {"id": str(record.sample_id)}
        paths = [self._store_image(ref) for ref in record.images]
        if len(paths) == 1:
            line["image"] = paths[0]
        elif paths:
            line["image"] = paths
        line["conversations"] = llava_conversations(record)
        line["subset"] = record.subset.name
        line["source"] = record.source
        for name in self.column_names:
            line[name] = record.columns.get(name)
        self._file.write(self._dumps(line) + b"\n")

    def end_subset(self) -> None:
        pass

    def close(self) -> None:
        self._file.close()
        self.context.sink.add(self._hashed.written(name=DATA_FILE, kind="data"))

    def _images_init(self, context: ExportContext) -> None:
        """What _store_image needs (a writer of another file that stores images the same way calls this too)."""
        self._root = str(context.root).rstrip("/")
        self._folders: set[str] = set()

    def _store_image(self, ref: ImageRef) -> str:
        name = f"images/{ref.sha256[:2]}/{ref.filename}"
        folder = name.rpartition("/")[0]
        if folder not in self._folders:
            (self.context.root / folder).mkdir(parents=True, exist_ok=True)
            self._folders.add(folder)  # at most 256 of them
        target = f"{self._root}/{name}"
        # The folder itself remembers which images are written, so memory does not grow with the export.
        try:
            os.link(ref.path, target)  # stored images never change: a hard link saves the copy
        except FileExistsError:
            return name  # written for an earlier sample
        except FileNotFoundError:
            raise ref.missing() from None
        except OSError:
            shutil.copyfile(ref.path, target)  # another filesystem, or links not allowed
        self.context.sink.add(WrittenFile(name=name, kind="image", size=ref.size, sha256=ref.sha256))
        return name


@register_format
class LlavaFormat(ExportFormat):
    name = "llava_jsonl"
    label = "LLaVA JSONL + images"
    description = "data.jsonl with LLaVA conversations (human/gpt, <image> tokens) and an images/ folder."

    def open(self, context: ExportContext) -> LlavaWriter:
        return LlavaWriter(context)
