"""The export extension point: formats, filters and column providers, each registered by name.

A new check adds one class and one decorator here, never edits to the exporter:
- an ExportFilter narrows the Sample queryset and says how many samples it excluded and why;
- a ColumnProvider adds per-sample fields to every format (Parquet columns, JSON keys);
- an ExportFormat writes the records to files.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, TypeVar

from django.db.models import QuerySet

from curation.errors import ApplicationError

if TYPE_CHECKING:
    from curation.exporters.records import ExportRecord
    from curation.models import Sample


class ExportConfigError(ApplicationError, ValueError):
    """An export request names something unknown or gives invalid parameters; the message is for the curator."""

    code = "invalid_export"
    status = 400

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message, extra={"field": field})
        self.field = field


# --- parameters, validated the same way for every filter (and shown as form inputs by the export page) ---

ParamKind = Literal["choices", "ids", "int"]


@dataclass(frozen=True)
class Param:
    """One parameter of a filter: a list of choices, a list of object ids, or one integer."""

    name: str
    label: str
    kind: ParamKind
    help: str = ""
    # (value, label) pairs; for "ids" the values are the ids as strings. Called at validation time.
    choices: Callable[[], list[tuple[str, str]]] | None = None
    minimum: int | None = None
    maximum: int | None = None

    def clean(self, value: Any) -> Any:
        if self.kind == "int":
            return self._clean_int(value)
        if isinstance(value, str | int):
            value = [value]
        if not isinstance(value, list | tuple) or not value:
            raise ExportConfigError(f"{self.label}: give a non-empty list", field=self.name)
        allowed = {str(v) for v, _ in (self.choices() if self.choices else [])}
        cleaned: set[Any] = set()
        for item in value:
            if isinstance(item, bool) or not isinstance(item, str | int):
                raise ExportConfigError(f"{self.label}: {item!r} is not a valid value", field=self.name)
            if str(item) not in allowed:
                raise ExportConfigError(f"{self.label}: {item!r} is not one of the allowed values", field=self.name)
            cleaned.add(int(item) if self.kind == "ids" else str(item))
        # Sorted, so the same request always stores (and the manifest always shows) the same params.
        return sorted(cleaned)

    def _clean_int(self, value: Any) -> int:
        if isinstance(value, bool):
            raise ExportConfigError(f"{self.label}: give a whole number", field=self.name)
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ExportConfigError(f"{self.label}: give a whole number", field=self.name) from None
        if self.minimum is not None and number < self.minimum:
            raise ExportConfigError(f"{self.label}: must be at least {self.minimum}", field=self.name)
        if self.maximum is not None and number > self.maximum:
            raise ExportConfigError(f"{self.label}: must be at most {self.maximum}", field=self.name)
        return number


# --- filters ---


class ExportFilter:
    """Narrows the samples of an export. Subclasses set the class attributes and implement apply()."""

    name: ClassVar[str]
    label: ClassVar[str]
    description: ClassVar[str] = ""
    params: ClassVar[tuple[Param, ...]] = ()
    # Params used when an export does not mention this filter; None means the filter is off by default.
    default: ClassVar[dict[str, Any] | None] = None

    def clean(self, raw: Any) -> dict[str, Any]:
        if not isinstance(raw, Mapping):
            raise ExportConfigError(f"{self.label}: parameters must be an object", field=self.name)
        known = {p.name for p in self.params}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ExportConfigError(f"{self.label}: unknown parameter(s) {', '.join(unknown)}", field=self.name)
        cleaned = {}
        for param in self.params:
            if param.name not in raw:
                raise ExportConfigError(f"{self.label}: {param.label} is required", field=self.name)
            try:
                cleaned[param.name] = param.clean(raw[param.name])
            except ExportConfigError as exc:
                raise ExportConfigError(str(exc), field=f"{self.name}.{param.name}") from None
        return cleaned

    def apply(self, samples: QuerySet[Sample], params: dict[str, Any]) -> QuerySet[Sample]:
        raise NotImplementedError

    def reasons(self, excluded: QuerySet[Sample], params: dict[str, Any]) -> dict[str, int]:
        """How many of the excluded samples were excluded for which reason (for the manifest and card)."""
        count = excluded.count()
        return {self.describe(params): count} if count else {}

    def describe(self, params: dict[str, Any]) -> str:
        """The filter in words, e.g. 'decision state in accepted, pending'."""
        parts = []
        for param in self.params:
            value = params[param.name]
            shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
            parts.append(f"{param.label.lower()}: {shown}")
        return f"{self.label} ({'; '.join(parts)})" if parts else self.label


# --- column providers ---

ColumnType = Literal["int64", "float64", "string", "bool", "list<int64>", "list<float64>", "list<string>"]


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    description: str = ""


class ColumnProvider:
    """Adds per-sample fields to every format.

    Subclasses set the attributes and implement values() (one sample's fields from its Sample row) or,
    for one-to-many data kept in other tables (ratings per turn per axis, hard negatives per positive,
    actions per turn), batch_values(), which gets a whole batch of sample rows and reads the other table
    once for their ids.
    """

    name: ClassVar[str]
    label: ClassVar[str]
    description: ClassVar[str] = ""
    # Always included (the FineVision layout's own columns) or chosen per export.
    default: ClassVar[bool] = False
    columns: ClassVar[tuple[Column, ...]] = ()
    # The Sample fields values() reads (passed to QuerySet.values()).
    sample_fields: ClassVar[tuple[str, ...]] = ()

    def values(self, sample: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def batch_values(self, samples: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
        """Each sample's fields by sample id ("pk" of each row); every sample of the batch must be present."""
        return {sample["pk"]: self.values(sample) for sample in samples}

    def summary(self, samples: QuerySet[Sample]) -> dict[str, Any] | None:
        """Results of the check behind these columns, for the manifest and card; may name 'engines'."""
        return None


# --- formats ---


@dataclass(frozen=True)
class WrittenFile:
    """A file an exporter wrote, relative to the export folder; sha256/size are known for content-addressed images."""

    name: str
    kind: str  # ExportFile.Kind value
    size: int | None = None
    sha256: str | None = None


class FileSink(Protocol):
    def add(self, written: WrittenFile) -> None: ...


@dataclass(frozen=True)
class SubsetPart:
    """One subset as an export sees it: its name, the folder-safe slug and its category."""

    id: int
    name: str
    slug: str
    category: str


@dataclass
class ExportContext:
    """What a format writer knows about the export it writes."""

    root: Path
    title: str
    subsets: list[SubsetPart]
    columns: list[ColumnProvider]
    sink: FileSink
    extra: dict[str, Any] = field(default_factory=dict)


class FormatWriter(Protocol):
    def begin_subset(self, part: SubsetPart) -> None: ...

    def write(self, record: ExportRecord) -> None: ...

    def end_subset(self) -> None: ...

    def close(self) -> None: ...


class ExportFormat:
    """A file format: opens a writer for an export folder; may add files (a dataset card) once the manifest exists."""

    name: ClassVar[str]
    label: ClassVar[str]
    description: ClassVar[str] = ""

    def open(self, context: ExportContext) -> FormatWriter:
        raise NotImplementedError

    def finalize(self, context: ExportContext, manifest: dict[str, Any]) -> None:
        """Write files that need the finished manifest (e.g. a README.md card); report them to context.sink."""


# --- the registries ---

FORMATS: dict[str, ExportFormat] = {}
FILTERS: dict[str, ExportFilter] = {}
COLUMNS: dict[str, ColumnProvider] = {}

F = TypeVar("F", bound=type[ExportFormat])
X = TypeVar("X", bound=type[ExportFilter])
C = TypeVar("C", bound=type[ColumnProvider])


def _register(registry: dict[str, Any], cls: type, kind: str) -> None:
    name = getattr(cls, "name", "")
    if not name or not name.replace("_", "").isalnum():
        raise ValueError(f"{kind} {cls.__name__} needs a name of letters, digits and underscores")
    if name in registry and type(registry[name]) is not cls:
        raise ValueError(f"{kind} {name!r} is registered twice")
    registry[name] = cls()


def register_format(cls: F) -> F:
    _register(FORMATS, cls, "format")
    return cls


def register_filter(cls: X) -> X:
    _register(FILTERS, cls, "filter")
    return cls


def register_column(cls: C) -> C:
    _register(COLUMNS, cls, "column provider")
    return cls


def format_label(name: str) -> str:
    """The registered format's label; the bare name for a format no longer registered."""
    registered = FORMATS.get(name)
    return registered.label if registered is not None else name


def format_get(name: str) -> ExportFormat:
    try:
        return FORMATS[name]
    except KeyError:
        raise ExportConfigError(f"unknown format {name!r}; choose one of {', '.join(sorted(FORMATS))}", field="format") from None


def filters_clean(raw: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Validated params of every filter that will run, in registration order: the ones named plus the defaults."""
    raw = dict(raw or {})
    unknown = sorted(set(raw) - set(FILTERS))
    if unknown:
        raise ExportConfigError(f"unknown filter(s) {', '.join(unknown)}; known: {', '.join(FILTERS)}", field="filters")
    cleaned: dict[str, dict[str, Any]] = {}
    for name, export_filter in FILTERS.items():
        if name in raw and raw[name] is not None:
            cleaned[name] = export_filter.clean(raw[name])
        elif export_filter.default is not None:
            cleaned[name] = export_filter.clean(export_filter.default)
    return cleaned


def columns_clean(names: Iterable[str] | None) -> list[str]:
    """The optional column providers asked for, validated; the default providers are always added by columns_for()."""
    names = list(names or [])
    unknown = sorted(set(names) - set(COLUMNS))
    if unknown:
        raise ExportConfigError(f"unknown column provider(s) {', '.join(unknown)}; known: {', '.join(COLUMNS)}", field="columns")
    return [name for name in COLUMNS if name in names and not COLUMNS[name].default]


def columns_for(names: Iterable[str]) -> list[ColumnProvider]:
    """Default providers first, then the chosen ones, in registration order (a fixed column order)."""
    chosen = set(names)
    return [provider for name, provider in COLUMNS.items() if provider.default or name in chosen]
