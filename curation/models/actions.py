"""GUI actions: versioned action schemas with typed parameters, per-source action mappings, samples' actions."""
from django.conf import settings
from django.db import models

from curation.models.samples import Sample
from curation.models.sources import Source


class ActionSchema(models.Model):
    """One version of a named action space; editing writes a new version and the newest active one is used."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUPERSEDED = "superseded", "Superseded"

    name = models.CharField(max_length=100)
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    description = models.TextField(blank=True)
    note = models.CharField(max_length=300, blank=True, help_text="What changed in this version.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="actionschema_unique_version"),
            models.UniqueConstraint(fields=["name"], condition=models.Q(status="active"), name="actionschema_one_active"),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class ActionDefinition(models.Model):
    """One action of a schema version (click, scroll, type, ...)."""

    schema = models.ForeignKey(ActionSchema, on_delete=models.CASCADE, related_name="actions")
    name = models.CharField(max_length=100)
    description = models.CharField(max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["schema", "position", "name"]
        constraints = [models.UniqueConstraint(fields=["schema", "name"], name="actiondefinition_unique_name")]

    def __str__(self) -> str:
        return f"{self.schema}: {self.name}"


class ActionParameter(models.Model):
    """A typed parameter of an action: coordinates and points are normalised to [0, 1] of the image."""

    class Type(models.TextChoices):
        COORDINATE = "coordinate", "Coordinate (x or y, [0, 1])"
        POINT = "point", "Point [x, y]"
        FLOAT = "float", "Number"
        INT = "int", "Whole number"
        STRING = "string", "Text"
        BOOL = "bool", "True / false"
        ENUM = "enum", "One of the choices"
        KEYS = "keys", "List of key names"

    action = models.ForeignKey(ActionDefinition, on_delete=models.CASCADE, related_name="parameters")
    name = models.CharField(max_length=100)
    type = models.CharField(max_length=16, choices=Type.choices)
    required = models.BooleanField(default=True)
    default = models.JSONField(null=True, blank=True)
    minimum = models.FloatField(null=True, blank=True)
    maximum = models.FloatField(null=True, blank=True)
    choices = models.JSONField(default=list, blank=True)
    description = models.CharField(max_length=300, blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["action", "position", "name"]
        constraints = [
            models.UniqueConstraint(fields=["action", "name"], name="actionparameter_unique_name"),
            models.CheckConstraint(
                condition=models.Q(minimum__isnull=True) | models.Q(maximum__isnull=True) | models.Q(minimum__lte=models.F("maximum")),
                name="actionparameter_range_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action.name}.{self.name}: {self.type}"


class ActionMapping(models.Model):
    """One version of how a source's action signatures map to a schema: suggested, then decided by a curator.

    `signatures` is what the suggestion found ([{signature, syntax, count, examples}]); `rules` maps each
    signature to {target, params, coords} (curation/actions/convert.py), target null = cannot be mapped.
    """

    class Status(models.TextChoices):
        SUGGESTED = "suggested", "Suggested"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Rejected"
        SUPERSEDED = "superseded", "Superseded"

    source = models.ForeignKey(Source, on_delete=models.CASCADE, related_name="action_mappings")
    version = models.PositiveIntegerField()
    schema = models.ForeignKey(ActionSchema, on_delete=models.PROTECT, related_name="mappings")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SUGGESTED)
    signatures = models.JSONField(default=list, blank=True)
    rules = models.JSONField(default=dict, blank=True)
    reasons = models.JSONField(default=dict, blank=True, help_text="Signature -> why the suggester proposed its rule.")
    engine = models.CharField(max_length=200, blank=True, help_text="The suggester that proposed it, or empty if edited by hand.")
    turns_scanned = models.PositiveBigIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    reject_reason = models.TextField(blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["source", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["source", "version"], name="actionmapping_unique_version"),
            models.UniqueConstraint(fields=["source"], condition=models.Q(status="accepted"), name="actionmapping_one_accepted"),
        ]

    def __str__(self) -> str:
        return f"{self.source} actions v{self.version} ({self.status})"


class SampleActionTurn(models.Model):
    """An assistant turn whose actions were applied: the text as it was (parsed once) and the canonical text."""

    sample = models.ForeignKey(Sample, on_delete=models.CASCADE, related_name="action_turns")
    turn = models.PositiveSmallIntegerField()
    raw = models.TextField(help_text="The assistant text before actions were applied; re-applies read this.")
    canonical = models.TextField()
    mapping = models.ForeignKey(ActionMapping, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["sample", "turn"], name="sampleactionturn_unique_turn")]

    def __str__(self) -> str:
        return f"{self.sample_id} turn {self.turn}"


class SampleAction(models.Model):
    """One action of a sample's assistant turn, structured: schema name, typed params, validation state, reason."""

    class State(models.TextChoices):
        VALID = "valid", "Valid"
        INVALID = "invalid", "Failed validation"
        UNMAPPED = "unmapped", "Unknown action"

    sample = models.ForeignKey(Sample, on_delete=models.CASCADE, related_name="actions")
    turn = models.PositiveSmallIntegerField()
    position = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=100)
    params = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=16, choices=State.choices)
    reason = models.CharField(max_length=500, blank=True)
    signature = models.CharField(max_length=300)
    raw = models.TextField()
    canonical = models.TextField()
    mapping = models.ForeignKey(ActionMapping, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["sample", "turn", "position"]
        constraints = [models.UniqueConstraint(fields=["sample", "turn", "position"], name="sampleaction_unique_position")]
        indexes = [
            models.Index(fields=["sample"], condition=~models.Q(state="valid"), name="sampleaction_failed"),
        ]

    def __str__(self) -> str:
        return f"{self.sample_id}[{self.turn}.{self.position}] {self.canonical}"
