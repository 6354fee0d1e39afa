"""The registry of review kinds: what a capability writes to put its checks on the review machinery.

A kind is its decision form (verdicts, reasons, optional fields), a template partial that renders the
target, and an effect that applies a verdict to the target. Queues, leases, rounds, audit rows, bulk
decisions, pages and the API are the machinery's, shared by every kind.
"""
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar, cast

from django import forms
from django.contrib.auth.models import User
from django.db import models

from curation.errors import ApplicationError
from curation.models import Subset


class UnknownKind(ApplicationError, LookupError):
    """No kind of that name is registered."""

    code = "unknown_review_kind"
    status = 400


@dataclass(frozen=True)
class Reason:
    value: str
    label: str


@dataclass(frozen=True)
class Verdict:
    """One choice a reviewer can make; `outcome` is what agreement between two reviewers compares."""

    value: str
    label: str
    key: str
    outcome: str
    reasons: tuple[Reason, ...] = ()
    # False for verdicts that need per-item input (an edit), which a bulk decision cannot supply.
    bulk: bool = True
    style: str = ""

    @property
    def needs_reason(self) -> bool:
        return bool(self.reasons)


@dataclass(frozen=True)
class Change:
    """A before/after pair the machinery writes as one audit row."""

    verdict: str
    before: Any = None
    after: Any = None
    reason: str = ""


@dataclass
class EffectResult:
    """What an effect did to its target: the state before and after, and revisions made with it (edits)."""

    before: Any = None
    after: Any = None
    revisions: list[Change] = field(default_factory=list)


class DecisionForm(forms.Form):
    """Base of every kind's decision form: a verdict, a reason when the verdict needs one, and a note.

    A kind subclasses it, lists its `verdicts`, and may add fields (edits); `revision_fields` names the
    fields that change the target, which are refused where no effect is applied (the overlap round).
    """

    verdicts: ClassVar[tuple[Verdict, ...]] = ()
    revision_fields: ClassVar[tuple[str, ...]] = ()

    verdict = forms.ChoiceField(choices=())
    reason = forms.CharField(required=False, max_length=64)
    note = forms.CharField(required=False, max_length=2000, widget=forms.Textarea)

    def __init__(self, *args: Any, target: models.Model | None = None, allow_revisions: bool = True, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.target = target
        self.allow_revisions = allow_revisions
        cast(forms.ChoiceField, self.fields["verdict"]).choices = [(v.value, v.label) for v in self.verdicts]

    @classmethod
    def verdict_named(cls, value: str) -> Verdict | None:
        return next((v for v in cls.verdicts if v.value == value), None)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        verdict = self.verdict_named(cleaned.get("verdict", ""))
        if verdict is None:
            return cleaned
        reason = cleaned.get("reason", "")
        if verdict.needs_reason:
            allowed = {r.value for r in verdict.reasons}
            if reason not in allowed:
                labels = ", ".join(r.label for r in verdict.reasons)
                self.add_error("reason", f"Choose a reason to {verdict.label.lower()}: {labels}.")
        elif reason:
            # A reason left ticked from an earlier choice does not belong to this verdict.
            cleaned["reason"] = ""
        if not self.allow_revisions and self.revision_fields and verdict.value in self.revising_verdicts():
            self.add_error("verdict", "This is an overlap review for agreement: it records a verdict, not edits.")
        return cleaned

    @classmethod
    def revising_verdicts(cls) -> set[str]:
        """Verdicts that use the revision fields; subclasses with edits override it."""
        return set()


Effect = Callable[..., EffectResult]
BulkEffect = Callable[..., dict[str, tuple[Any, Any]]]


@dataclass(frozen=True)
class ReviewKind:
    """A kind of review item.

    effect(*, target, verdict, data, actor) -> EffectResult applies one verdict (data = the form's
    cleaned_data). The optional hooks make a kind faster or richer, never different:
    bulk_effect(*, target_ids, verdict, reason, actor) -> {target_id: (before, after)} applies a verdict
    to many targets at once; subset_targets(subset) lists the targets a subset's queue is filled with,
    facts(targets) -> {target_id: (score, attributes)} gives the filterable numbers of new items;
    prefetch(queryset) loads what the template shows; api_payload(target) describes the target in the API.
    """

    kind: str
    model: type[models.Model]
    form: type[DecisionForm]
    template: str
    effect: Effect
    bulk_effect: BulkEffect | None = None
    # Hooks take the kind's own model (Any here: a Sample kind's hooks take Samples).
    subset_targets: Callable[[Subset], models.QuerySet[Any]] | None = None
    facts: Callable[[Any], dict[str, tuple[float | None, dict[str, Any]]]] | None = None
    prefetch: Callable[[models.QuerySet[Any]], models.QuerySet[Any]] | None = None
    api_payload: Callable[[Any], dict[str, Any]] | None = None
    shortcuts: tuple[tuple[str, str], ...] = ()
    label: str = ""  # for people, e.g. "Sample review"; the key when empty

    @property
    def title(self) -> str:
        return self.label or self.kind

    @property
    def verdicts(self) -> tuple[Verdict, ...]:
        return self.form.verdicts

    def verdict(self, value: str) -> Verdict | None:
        return self.form.verdict_named(value)

    def outcome(self, verdict: str) -> str:
        found = self.verdict(verdict)
        return found.outcome if found is not None else verdict

    def bulk_verdicts(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.verdicts if v.bulk)

    def targets_by_id(self, ids: Iterable[str]) -> dict[str, models.Model]:
        queryset = self.model._default_manager.filter(pk__in=list(ids))
        if self.prefetch is not None:
            queryset = self.prefetch(queryset)
        return {str(obj.pk): obj for obj in queryset}

    def apply(self, *, target: models.Model, verdict: str, data: dict[str, Any], actor: User | None) -> EffectResult:
        return self.effect(target=target, verdict=verdict, data=data, actor=actor)


_REGISTRY: dict[str, ReviewKind] = {}


def kind_register(kind: ReviewKind) -> ReviewKind:
    if kind.kind in _REGISTRY and _REGISTRY[kind.kind] is not kind:
        raise ValueError(f"review kind {kind.kind!r} is registered twice")
    _REGISTRY[kind.kind] = kind
    return kind


def kind_label(name: str) -> str:
    """The registered kind's label; the bare key for a kind no longer registered."""
    registered = _REGISTRY.get(name)
    return registered.title if registered is not None else name


def kind_get(name: str) -> ReviewKind:
    try:
        return _REGISTRY[name]
    except KeyError as exc:
        raise UnknownKind(f"no review kind {name!r} is registered (known: {', '.join(sorted(_REGISTRY)) or 'none'})") from exc


def kinds_registered() -> list[ReviewKind]:
    return [_REGISTRY[name] for name in sorted(_REGISTRY)]
