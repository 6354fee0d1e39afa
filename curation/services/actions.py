"""GUI action services: schema versions, a source's action mapping (suggest, edit, accept, reject, apply), stats.

Suggest scans the assistant turns of a source's samples once, groups the actions found by signature and
proposes a rule for each (rules; an OpenAI-compatible model when one is configured). A curator edits and
accepts; apply converts every action under the accepted rules, rewrites each assistant turn to its canonical
calls and stores the structured actions (SampleAction) beside it, keeping the text as it was (SampleActionTurn)
so a re-apply under a new version parses the original again, never the rewritten text.
"""
from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import Any

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from curation.actions.convert import Rule, RuleError, action_convert, rule_from_dict
from curation.actions.parser import ParsedAction, parse_actions
from curation.actions.schema import (
    UNIFIED_SCHEMA_NAME,
    ParamSpec,
    SchemaSpec,
    schema_spec_from_dict,
    unified_schema_spec,
)
from curation.actions.suggest import RULES_ENGINE, RULES_VERSION, Observation, rules_suggest_all
from curation.engines.chat import LLMError, chat, llm_config
from curation.errors import ApplicationError
from curation.models import (
    ActionDefinition,
    ActionMapping,
    ActionParameter,
    ActionSchema,
    Job,
    Sample,
    SampleAction,
    SampleActionTurn,
    SampleImage,
    Source,
    Subset,
)
from curation.services import job_kinds
from curation.services.actors import Actor, actor_user
from curation.services.decisions import decision_record
from curation.services.jobs import job_create, job_enqueue, job_progress

# Samples read and written per batch by suggest and apply.
ACTION_BATCH_SIZE = 500
# Examples kept per signature: shown to the curator, and given to the suggester to pick the coordinate convention.
EXAMPLES_SHOWN = 3
EXAMPLES_KEPT = 25
# Failed samples listed on a subset's page and in its API stats.
FAILED_SHOWN = 50
SUGGEST_ENGINES = ("auto", "rules", "llm")


class ActionMappingError(ApplicationError):
    code = "action_mapping"
    status = 409


# --- schemas ---


def action_schema_active(*, name: str = UNIFIED_SCHEMA_NAME) -> ActionSchema:
    """The active version of a schema; the unified space is seeded again (as version 1) when no version of it exists."""
    schema = ActionSchema.objects.filter(name=name, status=ActionSchema.Status.ACTIVE).first()
    if schema is None and name == UNIFIED_SCHEMA_NAME and not ActionSchema.objects.filter(name=name).exists():
        schema = action_schema_seed_unified()
    if schema is None:
        raise ActionMappingError(f"no active action schema {name!r}", status=404)
    return schema


def action_schema_seed_unified() -> ActionSchema:
    """The unified desktop + mobile space as version 1 (migration 0006 seeds the same from a frozen copy)."""
    with transaction.atomic():
        schema, created = ActionSchema.objects.get_or_create(
            name=UNIFIED_SCHEMA_NAME, version=1,
            defaults={"status": ActionSchema.Status.ACTIVE, "note": "seeded",
                      "description": "One action space for desktop and mobile GUI agents; coordinates are shares of the image in [0, 1]."},
        )
        if created:
            _schema_rows(schema, unified_schema_spec())
    return schema


def action_schema_spec(*, schema: ActionSchema) -> SchemaSpec:
    """The schema rows as a SchemaSpec (two queries)."""
    definitions = list(ActionDefinition.objects.filter(schema=schema).order_by("position", "name"))
    params: dict[int, list[ActionParameter]] = defaultdict(list)
    for param in ActionParameter.objects.filter(action__schema=schema).order_by("position", "name"):
        params[param.action_id].append(param)
    raw = {"actions": [
        {"name": d.name, "description": d.description, "params": [
            {k: v for k, v in {
                "name": p.name, "type": p.type, "required": p.required, "default": p.default, "minimum": p.minimum,
                "maximum": p.maximum, "choices": p.choices or None, "description": p.description or None,
            }.items() if v is not None}
            for p in params[d.pk]
        ]}
        for d in definitions
    ]}
    return schema_spec_from_dict(raw, name=schema.name, version=schema.version)


def _schema_rows(schema: ActionSchema, spec: SchemaSpec) -> None:
    for i, action in enumerate(spec.actions.values()):
        definition = ActionDefinition.objects.create(schema=schema, name=action.name, description=action.description[:300], position=i)
        ActionParameter.objects.bulk_create([_param_row(definition, j, p) for j, p in enumerate(action.params)])


def _param_row(definition: ActionDefinition, position: int, p: ParamSpec) -> ActionParameter:
    return ActionParameter(action=definition, position=position, name=p.name, type=p.type, required=p.required,
                           default=p.default, minimum=p.minimum, maximum=p.maximum, choices=list(p.choices),
                           description=p.description[:300])


def action_schema_create_version(*, schema: ActionSchema, spec: dict[str, Any], by: Actor, note: str = "") -> ActionSchema:
    """Save an edited schema as the next version, active in place of the current one (SchemaSpecError lists problems)."""
    parsed = schema_spec_from_dict(spec, name=schema.name)
    with transaction.atomic():
        current = ActionSchema.objects.select_for_update().filter(name=schema.name, status=ActionSchema.Status.ACTIVE).first()
        before = action_schema_spec(schema=current).to_dict() if current else None
        latest = ActionSchema.objects.filter(name=schema.name).order_by("-version").first()
        ActionSchema.objects.filter(name=schema.name, status=ActionSchema.Status.ACTIVE).update(status=ActionSchema.Status.SUPERSEDED)
        created = ActionSchema.objects.create(
            name=schema.name, version=(latest.version if latest else 0) + 1, status=ActionSchema.Status.ACTIVE,
            description=schema.description, note=(note or f"edited from version {schema.version}")[:300],
            created_by=actor_user(by),
        )
        _schema_rows(created, parsed)
        decision_record(actor=actor_user(by), target=created, verdict="edit", note=created.note, before=before,
                        after=parsed.to_dict())
    return created


# --- reading a source's actions ---


def _image_sizes(sample_ids: list[int]) -> dict[int, tuple[int, int]]:
    rows = SampleImage.objects.filter(sample_id__in=sample_ids, position=0).values_list("sample_id", "image__width", "image__height")
    return {sid: (w, h) for sid, w, h in rows}


def _raw_turns(samples: list[Sample]) -> dict[int, dict[int, str]]:
    """Each sample's assistant texts as they were before any apply (kept in SampleActionTurn), else as they are."""
    kept: dict[int, dict[int, str]] = defaultdict(dict)
    for sid, turn, raw in SampleActionTurn.objects.filter(sample__in=samples).values_list("sample_id", "turn", "raw"):
        kept[sid][turn] = raw
    out: dict[int, dict[int, str]] = {}
    for sample in samples:
        texts: dict[int, str] = {}
        for i, turn in enumerate(sample.turns or []):
            text = kept[sample.pk].get(i, turn.get("assistant") if isinstance(turn, dict) else None)
            if isinstance(text, str):
                texts[i] = text
        out[sample.pk] = texts
    return out


def _sample_batches(source: Source) -> Any:
    last = 0
    while True:
        batch = list(Sample.objects.filter(source=source, pk__gt=last).order_by("pk").only("pk", "turns")[:ACTION_BATCH_SIZE])
        if not batch:
            return
        yield batch
        last = batch[-1].pk


def _observe(source: Source, job: Job | None) -> tuple[dict[str, Observation], list[dict[str, Any]], int]:
    observations: dict[str, Observation] = {}
    shown: dict[str, list[dict[str, Any]]] = defaultdict(list)
    turns = 0
    done = 0
    total = Sample.objects.filter(source=source).count()
    for batch in _sample_batches(source):
        sizes = _image_sizes([s.pk for s in batch])
        for sample_id, texts in _raw_turns(batch).items():
            for text in texts.values():
                turns += 1
                for action in parse_actions(text):
                    obs = observations.setdefault(action.signature, Observation(action.signature, action.syntax))
                    obs.count += 1
                    size = sizes.get(sample_id)
                    if len(obs.examples) < EXAMPLES_KEPT:
                        obs.examples.append(action)
                        obs.image_sizes.append(size)
                    if len(shown[action.signature]) < EXAMPLES_SHOWN:
                        shown[action.signature].append({"raw": action.raw, "sample": sample_id,
                                                        "image_size": list(size) if size else None})
        done += len(batch)
        if job is not None:
            job_progress(job=job, done=done, total=total)
    ordered = sorted(observations.values(), key=lambda o: (-o.count, o.signature))
    signatures = [{"signature": o.signature, "syntax": o.syntax, "count": o.count, "examples": shown[o.signature]}
                  for o in ordered]
    return {o.signature: o for o in ordered}, signatures, turns


# --- suggestion ---


def _llm_rules(observations: dict[str, Observation], spec: SchemaSpec) -> dict[str, tuple[Rule, str]]:
    """Rules proposed by the configured chat model, each checked like a curator's edit; bad ones are dropped."""
    config = llm_config()
    if config is None or not observations:
        return {}
    listing = [{"signature": s, "examples": [a.raw for a in o.examples[:EXAMPLES_SHOWN]],
                "image_sizes": [list(z) if z else None for z in o.image_sizes[:EXAMPLES_SHOWN]]}
               for s, o in observations.items()]
    prompt = (
        "Map each GUI action signature to an action of the target schema. Answer one JSON object "
        '{"rules": {"<signature>": {"target": "<action name or null>", "params": {"<param>": "<reference>"}, '
        '"coords": "pixels|relative|thousand"}}}. References: x (keyword argument), $0 (positional), $0[1] '
        "(element), [$0, $1] (a list), ='up' (a constant), $* (all positionals), abs:$0, updown:$0.\n"
        f"Schema: {json.dumps(spec.to_dict())}\nSignatures: {json.dumps(listing)}"
    )
    reply = chat([{"role": "user", "content": prompt}], config=config, json_mode=True)
    try:
        proposed = json.loads(reply).get("rules", {})
    except (ValueError, AttributeError) as exc:
        raise LLMError(f"the model's answer is not the JSON asked for: {exc}") from exc
    out: dict[str, tuple[Rule, str]] = {}
    for signature, raw in (proposed.items() if isinstance(proposed, dict) else []):
        if signature not in observations:
            continue
        try:
            out[signature] = (rule_from_dict(raw, schema=spec, where=signature), f"proposed by {config.engine_name}")
        except RuleError:
            continue
    return out


def action_mapping_suggest_start(*, source: Source, by: Actor, engine: str = "auto") -> Job:
    if engine not in SUGGEST_ENGINES:
        raise ActionMappingError(f"unknown suggester {engine!r} (choose from {', '.join(SUGGEST_ENGINES)})", status=400)
    if not Sample.objects.filter(source=source).exists():
        raise ActionMappingError(f"source {source.name} has no samples yet: apply its mapping first")
    with transaction.atomic():
        job = job_create(kind=job_kinds.SUGGEST_ACTIONS.key, target=source, params={"engine": engine},
                         created_by=actor_user(by), total=Sample.objects.filter(source=source).count())
        job_enqueue(job=job)
    return job


def _next_version(source: Source) -> int:
    latest = ActionMapping.objects.filter(source=source).order_by("-version").values_list("version", flat=True).first()
    return (latest or 0) + 1


def action_mapping_suggest(*, source: Source, engine: str = "auto", job: Job | None = None, by: Actor = None) -> ActionMapping:
    """Scan the source's actions and save a suggested mapping version with a rule (or 'cannot map') per signature."""
    schema = action_schema_active()
    spec = action_schema_spec(schema=schema)
    observations, signatures, turns = _observe(source, job)
    rules: dict[str, dict[str, Any]] = {}
    reasons: dict[str, str] = {}
    engines = {f"{RULES_ENGINE}@{RULES_VERSION}"}
    proposed: dict[str, tuple[Rule, str]] = {}
    if engine in ("auto", "llm") and llm_config() is not None:
        proposed = _llm_rules(observations, spec)
        config = llm_config()
        if proposed and config is not None:
            engines.add(f"{config.name}@{config.version}")
    elif engine == "llm":
        raise ActionMappingError("no LLM endpoint is configured (set FINECURATE_LLM_BASE_URL)", status=400)
    by_rules = rules_suggest_all(observations, schema=spec)
    for signature in observations:
        rule, reason = proposed[signature] if signature in proposed else (by_rules[signature].rule, by_rules[signature].reason)
        rules[signature] = rule.to_dict()
        reasons[signature] = reason
    with transaction.atomic():
        Source.objects.select_for_update().filter(pk=source.pk).first()
        mapping = ActionMapping.objects.create(
            source=source, version=_next_version(source), schema=schema, signatures=signatures, rules=rules,
            reasons=reasons, engine=", ".join(sorted(engines)), turns_scanned=turns, created_by=actor_user(by),
        )
    if job is not None:
        job.result = {"mapping": mapping.pk, "version": mapping.version, "signatures": len(signatures),
                      "unmapped": sum(1 for r in rules.values() if not r["target"])}
    return mapping


# --- decisions ---


def action_mapping_create_version(*, based_on: ActionMapping, rules: dict[str, Any], by: Actor) -> ActionMapping:
    """A curator's edit of the rules, saved as a new suggested version (RuleError names the bad rule)."""
    spec = action_schema_spec(schema=based_on.schema)
    known = {s["signature"] for s in based_on.signatures}
    unknown = sorted(set(rules) - known)
    if unknown:
        raise RuleError(f"no such signature in this source: {', '.join(unknown)}")
    cleaned = {sig: rule_from_dict(raw, schema=spec, where=sig).to_dict() for sig, raw in rules.items()}
    merged = {**based_on.rules, **cleaned}
    with transaction.atomic():
        Source.objects.select_for_update().filter(pk=based_on.source_id).first()
        reasons = dict(based_on.reasons)
        for sig in cleaned:
            if cleaned[sig] != based_on.rules.get(sig):
                reasons[sig] = "edited by a curator"
        mapping = ActionMapping.objects.create(
            source_id=based_on.source_id, version=_next_version(based_on.source), schema=based_on.schema,
            signatures=based_on.signatures, rules=merged, reasons=reasons, engine="", turns_scanned=based_on.turns_scanned,
            created_by=actor_user(by),
        )
        decision_record(actor=actor_user(by), target=mapping, verdict="edit", note=f"edited from version {based_on.version}",
                        before=based_on.rules, after=merged)
    return mapping


def action_mapping_accept(*, mapping: ActionMapping, by: Actor) -> Job:
    """Accept a suggested version (it supersedes the accepted one) and queue its apply job."""
    with transaction.atomic():
        mapping = ActionMapping.objects.select_for_update().get(pk=mapping.pk)
        if mapping.status != ActionMapping.Status.SUGGESTED:
            raise ActionMappingError(f"version {mapping.version} is {mapping.get_status_display().lower()}; "
                                     "only a suggested version can be accepted")
        subsets = Subset.objects.filter(samples__source_id=mapping.source_id, status=Subset.Status.APPROVED).distinct()
        if subsets.exists():
            raise ActionMappingError(f"subset {subsets[0].name} is approved; reopen it before its actions change")
        previous = ActionMapping.objects.filter(source_id=mapping.source_id, status=ActionMapping.Status.ACCEPTED).first()
        if previous is not None:
            ActionMapping.objects.filter(pk=previous.pk).update(status=ActionMapping.Status.SUPERSEDED)
        mapping.status = ActionMapping.Status.ACCEPTED
        mapping.decided_by = actor_user(by)
        mapping.decided_at = timezone.now()
        mapping.save(update_fields=["status", "decided_by", "decided_at"])
        decision_record(actor=actor_user(by), target=mapping, verdict="accept", before={"status": "suggested"},
                        after={"status": "accepted", "rules": mapping.rules},
                        note=f"supersedes version {previous.version}" if previous else "")
        return action_mapping_apply_start(mapping=mapping, by=by)


def action_mapping_apply_start(*, mapping: ActionMapping, by: Actor) -> Job:
    if mapping.status != ActionMapping.Status.ACCEPTED:
        raise ActionMappingError(f"version {mapping.version} is {mapping.get_status_display().lower()}; "
                                 "only the accepted version can be applied")
    with transaction.atomic():
        job = job_create(kind=job_kinds.APPLY_ACTIONS.key, target=mapping, params={"version": mapping.version},
                         created_by=actor_user(by), total=Sample.objects.filter(source_id=mapping.source_id).count())
        job_enqueue(job=job)
    return job


def action_mapping_reject(*, mapping: ActionMapping, by: Actor, reason: str) -> ActionMapping:
    reason = (reason or "").strip()
    if not reason:
        raise ActionMappingError("say why the action mapping is rejected", status=400)
    with transaction.atomic():
        mapping = ActionMapping.objects.select_for_update().get(pk=mapping.pk)
        if mapping.status != ActionMapping.Status.SUGGESTED:
            raise ActionMappingError(f"version {mapping.version} is {mapping.get_status_display().lower()}; "
                                     "only a suggested version can be rejected")
        mapping.status = ActionMapping.Status.REJECTED
        mapping.reject_reason = reason
        mapping.decided_by = actor_user(by)
        mapping.decided_at = timezone.now()
        mapping.save(update_fields=["status", "reject_reason", "decided_by", "decided_at"])
        decision_record(actor=actor_user(by), target=mapping, verdict="reject", reason=reason, note=reason,
                        before={"status": "suggested"}, after={"status": "rejected"})
    return mapping


# --- apply ---


def action_turn_convert(
    text: str, *, rules: dict[str, Rule], spec: SchemaSpec, image_size: tuple[int, int] | None
) -> tuple[str, list[Any]]:
    """One assistant text: its canonical text (one call per line) and the converted actions; (text, []) without actions."""
    actions: list[ParsedAction] = parse_actions(text)
    if not actions:
        return text, []
    converted = [action_convert(a, rule=rules.get(a.signature), schema=spec, image_size=image_size) for a in actions]
    return "\n".join(c.canonical for c in converted), converted


def action_mapping_apply(*, mapping: ActionMapping, job: Job | None = None) -> dict[str, Any]:
    """Convert every action of the source's samples under the accepted rules; per batch, in one transaction.

    Safe to run twice: it reads the kept original text, replaces the batch's action rows and upserts its turns.
    """
    mapping = ActionMapping.objects.select_related("source", "schema").get(pk=mapping.pk)
    if mapping.status != ActionMapping.Status.ACCEPTED:
        raise ActionMappingError(f"version {mapping.version} is no longer the accepted one; nothing was applied")
    spec = action_schema_spec(schema=mapping.schema)
    rules = {sig: rule_from_dict(raw, schema=spec, where=sig) for sig, raw in mapping.rules.items()}
    counts: Counter[str] = Counter()
    done = 0
    total = Sample.objects.filter(source=mapping.source).count()
    for batch in _sample_batches(mapping.source):
        sizes = _image_sizes([s.pk for s in batch])
        raw_turns = _raw_turns(batch)
        turn_rows: list[SampleActionTurn] = []
        action_rows: list[SampleAction] = []
        changed: list[Sample] = []
        for sample in batch:
            turns = [dict(t) for t in sample.turns or []]
            for index, text in raw_turns[sample.pk].items():
                canonical, converted = action_turn_convert(text, rules=rules, spec=spec, image_size=sizes.get(sample.pk))
                if not converted:
                    continue
                turns[index]["assistant"] = canonical
                turn_rows.append(SampleActionTurn(sample=sample, turn=index, raw=text, canonical=canonical, mapping=mapping))
                for position, action in enumerate(converted):
                    counts[action.state] += 1
                    action_rows.append(SampleAction(
                        sample=sample, turn=index, position=position, name=action.name[:100], params=action.params,
                        state=action.state, reason=action.reason[:500], signature=action.signature[:300],
                        raw=action.raw, canonical=action.canonical, mapping=mapping,
                    ))
            if turns != sample.turns:
                sample.turns = turns
                changed.append(sample)
        with transaction.atomic():
            SampleAction.objects.filter(sample__in=batch).delete()
            SampleAction.objects.bulk_create(action_rows)
            SampleActionTurn.objects.bulk_create(turn_rows, update_conflicts=True, unique_fields=["sample", "turn"],
                                                 update_fields=["canonical", "mapping"])
            Sample.objects.bulk_update(changed, ["turns"])
        done += len(batch)
        if job is not None:
            job_progress(job=job, done=done, total=total)
    ActionMapping.objects.filter(pk=mapping.pk).update(applied_at=timezone.now())
    result = {"samples": done, "actions": sum(counts.values()), **{state: counts[state] for state in SampleAction.State.values}}
    if job is not None:
        job.result = result
    return result


# --- reading results ---


def subset_action_stats(*, subset: Subset) -> dict[str, Any]:
    """A subset's action distribution (per action, per state) and the samples whose actions failed, with reasons."""
    actions = SampleAction.objects.filter(sample__subset=subset)
    by_state = dict(actions.values_list("state").annotate(n=Count("id")).order_by())
    rows = actions.values("name").annotate(
        total=Count("id"), valid=Count("id", filter=Q(state="valid")), invalid=Count("id", filter=Q(state="invalid")),
        unmapped=Count("id", filter=Q(state="unmapped")),
    ).order_by("-total", "name")
    total = sum(by_state.values())
    failed = list(
        actions.exclude(state=SampleAction.State.VALID).order_by("sample_id", "turn", "position")
        .values("sample_id", "turn", "position", "name", "state", "reason", "raw", "canonical")[:FAILED_SHOWN]
    )
    return {
        "total": total,
        "valid": by_state.get("valid", 0),
        "invalid": by_state.get("invalid", 0),
        "unmapped": by_state.get("unmapped", 0),
        "valid_share": round(by_state.get("valid", 0) / total, 4) if total else None,
        "samples_with_actions": actions.values("sample_id").distinct().count(),
        "samples_failed": actions.exclude(state="valid").values("sample_id").distinct().count(),
        "distribution": list(rows),
        "failed": failed,
    }
