"""Mapping services: start a suggestion, save an edited version, accept (queues apply) or reject it.

The worker side (mapping_suggest, mapping_apply) is in services/mapping_build.py and the live preview in
services/mapping_preview.py; both are re-exported here so callers have one place to import from.
"""
from typing import Any

from django.db import transaction
from django.utils import timezone

from curation.mapping.spec import spec_parse, spec_to_dict
from curation.mapping.suggesters import ENGINES
from curation.models import Job, Mapping, Source, Subset
from curation.services.actors import Actor, actor_user
from curation.services.decisions import decision_record
from curation.services.jobs import job_create, job_enqueue
from curation.services.mapping_build import mapping_apply, mapping_next_version, mapping_suggest
from curation.services.mapping_preview import PreviewRow, mapping_preview, mapping_preview_pick

__all__ = [
    "MappingStateError",
    "PreviewRow",
    "mapping_accept",
    "mapping_apply",
    "mapping_apply_start",
    "mapping_create_version",
    "mapping_preview",
    "mapping_preview_pick",
    "mapping_reject",
    "mapping_suggest",
    "mapping_suggest_start",
]


class MappingStateError(ValueError):
    """The version is not in a state that allows this (e.g. accepting a rejected version)."""


def mapping_suggest_start(*, source: Source, by: Actor, engine: str = "auto") -> Job:
    if engine not in ENGINES:
        raise ValueError(f"unknown suggester {engine!r} (choose from {', '.join(ENGINES)})")
    if source.status != Source.Status.READY:
        raise MappingStateError(f"source {source.name} is {source.get_status_display().lower()}; "
                                "suggest a mapping once it is ingested")
    with transaction.atomic():
        job = job_create(kind=Job.Kind.SUGGEST_MAPPING, target=source, params={"engine": engine}, created_by=actor_user(by), total=1)
        job_enqueue(job=job)
    return job


def mapping_create_version(
    *, source: Source, spec: dict[str, Any], by: Actor, based_on: Mapping | None = None
) -> Mapping:
    """Save a curator's edited spec as a new suggested version (validated: SpecError lists every problem)."""
    canonical = spec_to_dict(spec_parse(spec, columns=source.columns))
    with transaction.atomic():
        Source.objects.select_for_update().filter(pk=source.pk).first()
        note = f"edited from version {based_on.version}" if based_on else "written by hand"
        mapping = Mapping.objects.create(
            source=source, version=mapping_next_version(source=source), spec=canonical,
            status=Mapping.Status.SUGGESTED, engine="", confidence=None,
            reasons=[{"role": "note", "column": None, "text": note, "confidence": 0.0}],
            created_by=actor_user(by),
        )
        decision_record(actor=actor_user(by), target=mapping, verdict="edit", note=note,
                        before=based_on.spec if based_on else None, after=canonical)
    return mapping


def mapping_accept(*, mapping: Mapping, by: Actor, subset_name: str | None = None, enqueue: bool = True) -> Job:
    """Accept a suggested version: it supersedes the accepted one, gets its subset, and its apply job is made
    (and queued, unless `enqueue` is False: a command then runs it in its own process)."""
    with transaction.atomic():
        mapping = Mapping.objects.select_for_update().select_related("source").get(pk=mapping.pk)
        source = mapping.source
        if mapping.status != Mapping.Status.SUGGESTED:
            raise MappingStateError(f"version {mapping.version} is {mapping.get_status_display().lower()}; "
                                    "only a suggested version can be accepted")
        spec = spec_to_dict(spec_parse(mapping.spec, columns=source.columns))
        if subset_name and subset_name.strip() and subset_name.strip() != spec["subset"]["name"]:
            spec["subset"]["name"] = subset_name.strip()
            spec = spec_to_dict(spec_parse(spec, columns=source.columns))
        subset, _ = Subset.objects.get_or_create(
            name=spec["subset"]["name"], defaults={"category": spec["subset"]["category"]}
        )
        if subset.status == Subset.Status.APPROVED:
            raise MappingStateError(f"subset {subset.name} is approved; its samples cannot change until it is reopened")
        previous = Mapping.objects.select_for_update().filter(source=source, status=Mapping.Status.ACCEPTED).first()
        if previous is not None:
            Mapping.objects.filter(pk=previous.pk).update(status=Mapping.Status.SUPERSEDED)
        before = {"status": mapping.status, "spec": mapping.spec,
                  "accepted_version": previous.version if previous else None}
        mapping.status = Mapping.Status.ACCEPTED
        mapping.spec = spec
        mapping.subset = subset
        mapping.decided_by = actor_user(by)
        mapping.decided_at = timezone.now()
        mapping.save(update_fields=["status", "spec", "subset", "decided_by", "decided_at"])
        decision_record(actor=actor_user(by), target=mapping, verdict="accept", before=before,
                        after={"status": mapping.status, "spec": spec, "subset": subset.name},
                        note=f"supersedes version {previous.version}" if previous else "")
        return mapping_apply_start(mapping=mapping, by=by, enqueue=enqueue)


def mapping_apply_start(*, mapping: Mapping, by: Actor, enqueue: bool = True) -> Job:
    """The apply job of the accepted version, queued for a worker unless `enqueue` is False."""
    if mapping.status != Mapping.Status.ACCEPTED:
        raise MappingStateError(f"version {mapping.version} is {mapping.get_status_display().lower()}; "
                                "only the accepted version can be applied")
    with transaction.atomic():
        job = job_create(kind=Job.Kind.APPLY_MAPPING, target=mapping, params={"version": mapping.version},
                         created_by=actor_user(by), total=mapping.source.row_count or None)
        if enqueue:
            job_enqueue(job=job)
    return job


def mapping_reject(*, mapping: Mapping, by: Actor, reason: str) -> Mapping:
    reason = (reason or "").strip()
    if not reason:
        raise MappingStateError("say why the mapping is rejected")
    with transaction.atomic():
        mapping = Mapping.objects.select_for_update().get(pk=mapping.pk)
        if mapping.status != Mapping.Status.SUGGESTED:
            raise MappingStateError(f"version {mapping.version} is {mapping.get_status_display().lower()}; "
                                    "only a suggested version can be rejected")
        mapping.status = Mapping.Status.REJECTED
        mapping.reject_reason = reason
        mapping.decided_by = actor_user(by)
        mapping.decided_at = timezone.now()
        mapping.save(update_fields=["status", "reject_reason", "decided_by", "decided_at"])
        decision_record(actor=actor_user(by), target=mapping, verdict="reject", reason=reason, note=reason,
                        before={"status": Mapping.Status.SUGGESTED}, after={"status": Mapping.Status.REJECTED})
    return mapping
