"""Versioned schema mappings from a source's raw rows to samples of a subset."""
from django.conf import settings
from django.db import models

from curation.models.samples import Subset
from curation.models.sources import Source


class Mapping(models.Model):
    """One version of how a source's rows become samples: suggested by a worker, decided by a curator."""

    class Status(models.TextChoices):
        SUGGESTED = "suggested", "Suggested"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"
        SUPERSEDED = "superseded", "Superseded"

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="mappings")
    version = models.PositiveIntegerField()
    spec = models.JSONField(help_text="The declarative mapping spec (curation.mapping.spec).")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SUGGESTED)
    engine = models.CharField(max_length=200, blank=True, help_text="The suggester that proposed it, or empty if written by hand.")
    confidence = models.FloatField(null=True, blank=True)
    reasons = models.JSONField(default=list, blank=True)
    subset = models.ForeignKey(Subset, null=True, blank=True, on_delete=models.SET_NULL, related_name="mappings")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    reject_reason = models.TextField(blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        permissions = [("decide_mapping", "Can accept, edit or reject mappings")]
        ordering = ["source", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["source", "version"], name="mapping_unique_version"),
            models.UniqueConstraint(
                fields=["source"], condition=models.Q(status="accepted"), name="mapping_one_accepted_per_source"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} v{self.version} ({self.status})"


class MappingStagedRow(models.Model):
    """A row as one mapping version maps it, built before the swap into samples.

    Apply writes these first (idempotently, keyed on mapping and row); only a complete build is
    swapped into Sample in one transaction, so a crash midway leaves the previous samples intact.
    """

    # Scratch rows written by COPY in bulk: no foreign key check per row (deleting a mapping still deletes its
    # staged rows, through Django's cascade) and no index of its own (the unique constraint starts with it).
    mapping = models.ForeignKey(Mapping, on_delete=models.CASCADE, related_name="staged_rows", db_constraint=False,
                                db_index=False)
    row_number = models.PositiveBigIntegerField()
    turns = models.JSONField()
    image_shas = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["mapping", "row_number"], name="mappingstagedrow_unique_row"),
        ]

    def __str__(self) -> str:
        return f"{self.mapping_id}#{self.row_number}"
