"""LLaVA-style JSONL (one conversation per line) plus an images folder named by content.

data.jsonl lines: {"id", "image": path or [paths] (absent when text-only), "conversations":
[{"from": "human", "value": "<image>\\n..."}, {"from": "gpt", "value": ...}], "subset", "source", columns...}.
Images are stored once each under images/<sha256[:2]>/<sha256>.<ext>.
"""
import io
import json
import os
import shutil
from typing import Any, TextIO

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


class LlavaWriter:
    def __init__(self, context: ExportContext):
        self.context = context
        self.column_names = [c.name for p in context.columns for c in p.columns]
        self._hashed = HashingFile(context.root / DATA_FILE)
        self._file: TextIO = io.TextIOWrapper(io.BufferedWriter(self._hashed), encoding="utf-8", newline="\n")

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
        self._file.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")))
        self._file.write("\n")

    def end_subset(self) -> None:
        pass

    def close(self) -> None:
        self._file.close()
        self.context.sink.add(self._hashed.written(name=DATA_FILE, kind="data"))

    def _store_image(self, ref: ImageRef) -> str:
        name = f"images/{ref.sha256[:2]}/{ref.filename}"
        target = self.context.root / name
        # The folder itself remembers which images are written, so memory does not grow with the export.
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(ref.path, target)  # stored images never change: a hard link saves the copy
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
