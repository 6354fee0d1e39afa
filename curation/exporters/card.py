"""The dataset card (README.md) of a Parquet export, in the Hugging Face card format.

A YAML header with the configs (one per subset), the features and the licenses, then statistics,
sources and the results of every check that ran. It holds no time or export id, so two exports of the
same data carry the same card.
"""
import re
from typing import Any

import yaml

from curation.exporters.registry import ExportContext
from curation.exporters.schema import yaml_features

# License identifiers the Hugging Face Hub knows; anything else is declared as "other" and named in the table.
HUB_LICENSES = {
    "afl-3.0", "agpl-3.0", "apache-2.0", "artistic-2.0", "bsd-2-clause", "bsd-3-clause", "bsl-1.0", "c-uda",
    "cc-by-2.0", "cc-by-2.5", "cc-by-3.0", "cc-by-4.0", "cc-by-nc-2.0", "cc-by-nc-3.0", "cc-by-nc-4.0",
    "cc-by-nc-nd-4.0", "cc-by-nc-sa-2.0", "cc-by-nc-sa-3.0", "cc-by-nc-sa-4.0", "cc-by-nd-4.0", "cc-by-sa-3.0",
    "cc-by-sa-4.0", "cc0-1.0", "cdla-permissive-2.0", "cdla-sharing-1.0", "gpl-2.0", "gpl-3.0", "lgpl-3.0",
    "llama2", "llama3", "mit", "mpl-2.0", "odbl", "odc-by", "openrail", "pddl", "unknown", "wtfpl",
}


def hub_license(text: str) -> str:
    """'CC BY 4.0' -> 'cc-by-4.0', 'Apache 2.0' -> 'apache-2.0'; empty -> 'unknown'; anything else -> 'other'."""
    if not text.strip():
        return "unknown"
    candidate = re.sub(r"[\s_]+", "-", text.strip().lower()).replace("license", "").strip("-")
    candidate = re.sub(r"-+", "-", candidate)
    return candidate if candidate in HUB_LICENSES else "other"


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ").strip()


def card_header(context: ExportContext, manifest: dict[str, Any]) -> dict[str, Any]:
    parts = context.extra.get("parquet_parts", [])
    licenses = sorted({hub_license(s["license"]) for s in manifest["sources"]}) or ["unknown"]
    return {
        "license": licenses[0] if len(licenses) == 1 else licenses,
        "task_categories": ["image-text-to-text"],
        "tags": ["finecurate", "vision-language"],
        "configs": [
            {"config_name": p["slug"], "data_files": [{"split": "train", "path": f"data/{p['slug']}/train-*.parquet"}]}
            for p in parts
        ],
        "dataset_info": [
            {
                "config_name": p["slug"],
                "features": yaml_features(context.columns),  # one copy per config: no YAML anchors in the card
                "splits": [{"name": "train", "num_examples": p["rows"]}],
                "download_size": p["bytes"],
            }
            for p in parts
        ],
    }


def card_render(*, context: ExportContext, manifest: dict[str, Any]) -> str:
    header = yaml.safe_dump(card_header(context, manifest), sort_keys=False, allow_unicode=True, width=1000)
    counts = manifest["counts"]
    lines = [
        "---",
        header.rstrip("\n"),
        "---",
        "",
        f"# {context.title}",
        "",
        f"Exported with FineCurate {manifest['finecurate']['version']} in the FineVision layout: `images` "
        "(a list of images), `texts` (a list of `{user, assistant}` turns), `source`, and the per-turn quality "
        "ratings `<axis>_ratings` with their minimum `<axis>_min` (null until a sample is rated).",
        "",
        "```python",
        "from datasets import load_dataset",
        f'ds = load_dataset("path/to/this/folder", "{context.subsets[0].slug if context.subsets else "default"}", split="train")',
        "```",
        "",
        "## Statistics",
        "",
        f"{counts['out']:,} samples exported of {counts['in']:,} in the chosen subsets ({counts['excluded']:,} excluded).",
        "",
        "| config | subset | category | samples in | samples out |",
        "| --- | --- | --- | ---: | ---: |",
    ]
    for s in manifest["subsets"]:
        lines.append(f"| {s['slug']} | {_cell(s['name'])} | {s['category']} | {s['samples_in']:,} | {s['samples_out']:,} |")
    lines += ["", "## Checks", ""]
    for f in manifest["filters"]:
        lines.append(f"- **{_cell(f['description'])}**: {f['excluded']:,} excluded")
        for reason, n in f["reasons"].items():
            lines.append(f"  - {_cell(reason)}: {n:,}")
    labels = {p.name: p.label for p in context.columns}
    for name, summary in manifest["checks"].items():
        lines.append(f"- **{labels.get(name, name)}**: {_summary_line(summary, counts['out'])}")
    if manifest["engines"]:
        lines.append("- **engines**: " + "; ".join(f"{k}: {', '.join(v) or '—'}" for k, v in manifest["engines"].items()))
    lines += ["", "## Sources", "", "| source | license | samples | origin | citation |", "| --- | --- | ---: | --- | --- |"]
    for s in manifest["sources"]:
        lines.append(
            f"| {_cell(s['name'])} | {_cell(s['license']) or 'unknown'} | {s['samples']:,} | {_cell(s['origin'])} | {_cell(s['citation'])} |"
        )
    lines += ["", "## Files", "", "| file | bytes | sha256 |", "| --- | ---: | --- |"]
    for f in manifest["files"]:
        lines.append(f"| {f['name']} | {f['size']:,} | `{f['sha256']}` |")
    return "\n".join(lines) + "\n"


def _summary_line(summary: dict[str, Any], total: int) -> str:
    parts = []
    if "rated" in summary:
        parts.append(f"{summary['rated']:,} of {total:,} samples rated")
    for axis, detail in summary.get("axes", {}).items():
        histogram = ", ".join(f"{k}: {v:,}" for k, v in detail.get("min_histogram", {}).items()) or "none"
        parts.append(f"{axis} min ({histogram})")
    return "; ".join(parts) if parts else _cell(summary)
