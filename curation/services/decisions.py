"""The audit trail: every human decision is one appended Decision row, never an update."""
from typing import Any

from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db import models

from curation.models import Decision, Job, ReviewItem
from curation.services.actors import actor_user


def decision_record(
    *,
    by: User | None,
    target: models.Model | tuple[ContentType, str],
    verdict: str,
    reason: str = "",
    note: str = "",
    before: Any = None,
    after: Any = None,
    item: ReviewItem | None = None,
    job: Job | None = None,
    save: bool = True,
) -> Decision:
    """One decision about a target (a row, or its (content type, id) when the row is not loaded).

    save=False returns the row unsaved, for a service that appends many at once with bulk_create.
    """
    if isinstance(target, tuple):
        target_type, target_id = target
    else:
        target_type, target_id = ContentType.objects.get_for_model(target), str(target.pk)
    decision = Decision(
        actor=actor_user(by),
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
    if save:
        decision.save(force_insert=True)
    return decision
