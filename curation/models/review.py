"""The one review machinery: queues of items any kind of check can add, and the append-only audit trail."""
from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models

from curation.models.jobs import Job
from curation.models.samples import Subset


class ReviewQueue(models.Model):
    """Items of one kind (optionally of one subset) that reviewers work through."""

    # A key of the review kind registry (curation/review/kinds.py), which holds its label, form and effect.
    kind = models.CharField(max_length=32)
    subset = models.ForeignKey(Subset, null=True, blank=True, on_delete=models.CASCADE, related_name="review_queues")
    name = models.CharField(max_length=200)
    instructions = models.TextField(blank=True)
    overlap_rate = models.FloatField(default=0.0, help_text="Share of items (0-1) given to a second reviewer to measure agreement.")
    active = models.BooleanField(default=True)
    fill_fraction = models.FloatField(null=True, blank=True, help_text="Share of the subset last queued (1 = all of it).")
    fill_seed = models.IntegerField(null=True, blank=True, help_text="Seed of the last random fill, to reproduce it.")
    assignees = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="review_queues")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "name"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "subset"], name="reviewqueue_unique_kind_subset"),
            models.UniqueConstraint(fields=["kind"], condition=models.Q(subset__isnull=True), name="reviewqueue_unique_kind_global"),
            models.CheckConstraint(condition=models.Q(overlap_rate__gte=0, overlap_rate__lte=1), name="reviewqueue_overlap_0_1"),
        ]

    def __str__(self) -> str:
        return self.name


class ReviewItem(models.Model):
    """One thing to decide: a target object of the queue's kind, leased to one reviewer at a time."""

    class State(models.TextChoices):
        WAITING = "waiting", "Waiting for round 1"
        QUEUED = "queued", "Queued"
        CLAIMED = "claimed", "Claimed"
        DECIDED = "decided", "Decided"

    queue = models.ForeignKey(ReviewQueue, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=32)  # the queue's kind, kept here to filter items without a join
    subset = models.ForeignKey(Subset, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    target_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    target_id = models.CharField(max_length=64)
    target = GenericForeignKey("target_type", "target_id")
    round = models.PositiveSmallIntegerField(default=1, help_text="1 for the first review; 2 for the overlap review.")
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    priority = models.IntegerField(default=0)
    score = models.FloatField(null=True, blank=True, help_text="A kind-specific number to filter on (similarity, rating...).")
    attributes = models.JSONField(default=dict, blank=True, help_text="Kind-specific filterable facts (attribute, reason...).")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Round-2 items are never offered to the reviewer who decided round 1.
    excluded_reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    bulk_job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", help_text="The bulk decision that decided it, if any.")
    verdict = models.CharField(max_length=32, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        permissions = [("review_item", "Can claim and decide review items"), ("bulk_decide_item", "Can decide every item of a filter at once")]
        constraints = [
            models.UniqueConstraint(fields=["queue", "target_type", "target_id", "round"], name="reviewitem_unique_target_round"),
            models.CheckConstraint(
                condition=~models.Q(state="claimed") | models.Q(assignee__isnull=False, lease_expires_at__isnull=False),
                name="reviewitem_claim_has_lease",
            ),
            models.CheckConstraint(
                condition=~models.Q(state="decided") | ~models.Q(verdict=""), name="reviewitem_decided_has_verdict"
            ),
        ]
        indexes = [
            models.Index(fields=["queue", "-priority", "id"], condition=models.Q(state="queued"), name="reviewitem_queued"),
            models.Index(fields=["lease_expires_at"], condition=models.Q(state="claimed"), name="reviewitem_leased"),
            models.Index(fields=["target_type", "target_id"], name="reviewitem_target"),
            models.Index(fields=["decided_by", "decided_at"], name="reviewitem_decided_by"),
            models.Index(fields=["assignee", "queue"], condition=models.Q(state="claimed"), name="reviewitem_claims_by_user"),
            models.Index(fields=["queue", "state", "round"], name="reviewitem_queue_state"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} item {self.pk} ({self.state})"


class Decision(models.Model):
    """An append-only audit row: who decided what about which object, with the state before and after.

    Rows are only ever inserted (services/decisions.py); a change of mind is a new row.
    """

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="decisions")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    target_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    target_id = models.CharField(max_length=64)
    target = GenericForeignKey("target_type", "target_id")
    verdict = models.CharField(max_length=32, help_text="accept, reject, edit, approve, ...")
    reason = models.CharField(max_length=200, blank=True)
    note = models.TextField(blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    item = models.ForeignKey(ReviewItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="decisions")
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="decisions")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["target_type", "target_id", "created_at"], name="decision_target"),
            models.Index(fields=["actor", "created_at"], name="decision_actor"),
        ]

    def __str__(self) -> str:
        return f"{self.verdict} by {self.actor_id} on {self.target_type_id}:{self.target_id}"
