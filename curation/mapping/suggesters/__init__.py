"""Suggesters behind one interface: rules, the offline text model, and an LLM endpoint when configured.

`suggest(profile, engine)` runs them, validates every proposal exactly as a curator's edit is validated,
and returns the one to show with what the others said.
"""
from dataclasses import dataclass, field
from typing import Any

from curation.mapping.spec import SpecError, spec_check, spec_from_dict
from curation.mapping.suggesters.base import (
    Reason,
    SourceProfile,
    Suggester,
    Suggestion,
    SuggestionFailed,
    UnknownSuggester,
)
from curation.mapping.suggesters.embedding import EmbeddingSuggester
from curation.mapping.suggesters.llm import LLMSuggester
from curation.mapping.suggesters.rules import RuleSuggester

ENGINES = ("auto", "rules", "embedding", "llm")


def suggesters() -> dict[str, Suggester]:
    return {"llm": LLMSuggester(), "rules": RuleSuggester(), "embedding": EmbeddingSuggester()}


@dataclass
class Outcome:
    chosen: Suggestion
    tried: list[dict[str, Any]] = field(default_factory=list)


def suggestion_validate(suggestion: Suggestion, *, columns: dict[str, str]) -> Suggestion:
    """Check the proposed spec like a human's (a JSON proposal is read first); errors make confidence 0."""
    try:
        if suggestion.spec is None:
            suggestion.spec = spec_from_dict(suggestion.proposed or {}, columns=columns)
        else:
            suggestion.spec = spec_check(suggestion.spec, columns=columns)
    except SpecError as exc:
        suggestion.errors = exc.errors
        suggestion.confidence = 0.0
        return suggestion
    suggestion.errors = []
    return suggestion


def suggest(profile: SourceProfile, *, engine: str = "auto") -> Outcome:
    """Run one engine, or in 'auto' the LLM (if configured), then the rules, then the text model,
    stopping at the first valid proposal that has evidence for every role."""
    if engine not in ENGINES:
        raise UnknownSuggester(f"unknown suggester {engine!r} (choose from {', '.join(ENGINES)})")
    available = suggesters()
    order = [engine] if engine != "auto" else [n for n in ("llm", "rules", "embedding") if available[n].available()]
    tried: list[dict[str, Any]] = []
    proposals: list[Suggestion] = []
    for name in order:
        suggester = available[name]
        if not suggester.available():
            raise SuggestionFailed(f"the {name} suggester is not available here")
        try:
            proposal = suggestion_validate(suggester.suggest(profile), columns=profile.columns)
        except SuggestionFailed as exc:
            if engine != "auto":
                raise
            tried.append({"engine": name, "failed": str(exc)})
            continue
        tried.append({"engine": proposal.engine, "confidence": proposal.confidence, "errors": proposal.errors,
                      "missing": proposal.missing_roles})
        proposals.append(proposal)
        if proposal.is_valid and not proposal.missing_roles:
            break
    if not proposals:
        raise SuggestionFailed("; ".join(str(t.get("failed")) for t in tried) or "no suggester could run")
    # Without a complete proposal, show the one that got furthest: valid first, then fewest missing roles.
    chosen = min(proposals, key=lambda p: (not p.is_valid, len(p.missing_roles), -p.confidence))
    for other in tried:
        if other.get("engine") != chosen.engine:
            chosen.reasons.append(Reason(role="note", column=None, text=_tried_text(other)))
    return Outcome(chosen=chosen, tried=tried)


def _tried_text(tried: dict[str, Any]) -> str:
    if "failed" in tried:
        return f"suggester {tried['engine']} could not run: {tried['failed']}"
    missing = tried.get("missing") or []
    if missing:
        return f"suggester {tried['engine']} found no evidence for: {', '.join(map(str, missing))}"
    errors = tried.get("errors") or []
    return f"suggester {tried['engine']} proposed a spec that is not valid: {'; '.join(map(str, errors))[:500]}"


__all__ = ["ENGINES", "Outcome", "SourceProfile", "Suggestion", "SuggestionFailed", "UnknownSuggester", "suggest", "suggestion_validate"]
