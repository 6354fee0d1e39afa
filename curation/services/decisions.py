"""The audit trail: every human decision is one appended Decision row, never an update."""
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from curation.models import Decision, Job, ReviewItem
from curation.services.actors import Actor, actor_user


def decision_record(
    *,
    actor: Actor,
    target: models.Model,
    verdict: str,
    reason: str = "",
    note: str = "",
    before: Any = None,
    after: Any = None,
    item: ReviewItem | None = None,
    job: Job | None = None,
) -> Decision:
    return Decision.objects.create(
        actor=actor_user(actor),
        target_type=ContentType.objects.get_for_model(target),
        target_id=str(target.pk),
        verdict=verdict,
        reason=reason[:200],
        note=note,
        before=before,
        after=after,
        item=item,
        job=job,
    )


def decision_build(
    *,
    actor: Actor,
    target_type: ContentType,
    target_id: str,
    verdict: str,
    reason: str = "",
    note: str = "",
    before: Any = None,
    after: Any = None,
    item: ReviewItem | None = None,
    job: Job | None = None,
) -> Decision:
    """An unsaved row, for services that append decisions in bulk (bulk_create)."""
    return Decision(
        actor=actor_user(actor),
        target_type=target_type,
        target_id=target_id,
        verdict=verdict,
        reason=reason[:200],
        note=note,
        before=before,
        after=after,
        item=item,
        job=job,
    )
