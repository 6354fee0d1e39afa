"""Exporters: the formats, filters and column providers an export is made of (see registry.py).

Importing the package registers the built-in ones; a new check adds a module and imports it here.
"""
from curation.exporters import actions, columns, copies, filters, hard_negatives, llava, parquet, webdataset  # noqa: F401  (registration)
from curation.exporters.registry import FORMATS


def format_choices() -> list[tuple[str, str]]:
    """(name, label) of every registered format, for choice fields and the OpenAPI enum."""
    return [(name, export_format.label) for name, export_format in FORMATS.items()]
