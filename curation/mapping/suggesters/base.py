"""The one interface every suggester implements, and what it is given and gives back."""
from dataclasses import dataclass, field
from typing import Any, Protocol

from curation.errors import ApplicationError
from curation.mapping.spec import MappingSpec, spec_to_dict


@dataclass(frozen=True)
class SourceProfile:
    """What a suggester may look at: the source's name, layout, columns with types, and sampled rows."""

    name: str
    layout: str
    columns: dict[str, str]
    rows: list[dict[str, Any]]


@dataclass(frozen=True)
class Reason:
    """Why a role went to a column, or that no column had evidence for it (column is None)."""

    role: str
    column: str | None
    text: str
    confidence: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"role": self.role, "column": self.column, "text": self.text, "confidence": round(self.confidence, 3)}


@dataclass
class Suggestion:
    engine: str
    spec: MappingSpec | None  # None when the engine's proposal cannot be read as a spec (see `proposed`)
    confidence: float
    reasons: list[Reason] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # validation errors of the spec, if any
    proposed: dict[str, Any] | None = None  # an engine's JSON proposal (the LLM's), read by suggestion_validate

    def spec_json(self) -> dict[str, Any]:
        """What is stored on Mapping.spec: the canonical form, or the proposal as given when it is not a spec."""
        if self.spec is not None:
            return spec_to_dict(self.spec)
        return self.proposed or {}

    @property
    def missing_roles(self) -> list[str]:
        return [r.role for r in self.reasons if r.column is None and r.role != "note"]

    @property
    def is_valid(self) -> bool:
        return not self.errors


class SuggestionFailed(ApplicationError, RuntimeError):
    """The suggester could not run (e.g. its endpoint is down); the message says why."""

    code = "suggestion_failed"
    status = 502


class UnknownSuggester(ApplicationError, ValueError):
    """No suggester of that name exists."""

    code = "unknown_suggester"
    status = 400


class Suggester(Protocol):
    name: str

    def available(self) -> bool:
        """Whether this suggester can run here (its model or endpoint is configured)."""
        ...

    def suggest(self, profile: SourceProfile) -> Suggestion:
        """A proposed spec (validated by the caller) with confidence and reasons; SuggestionFailed if it cannot run."""
        ...
