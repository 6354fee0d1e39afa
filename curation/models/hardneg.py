"""Hard-negative captions (FineGen): each negative with its positive and image, typed change record, FG-OVD level,
the engine that made it, the agents' trace (HardNegativeStep), the blind text check and the human review."""
from django.conf import settings
from django.db import models

from curation.models.samples import Sample, Subset
from curation.models.sources import Image


class HardNegative(models.Model):
    class Phase(models.TextChoices):
        GLOBAL = "global", "Global description"
        ATTRIBUTE = "attribute", "Attribute negative"
        ATOMIC = "atomic", "Atomic sub-fact"

    class Level(models.TextChoices):
        HARD = "hard", "Hard (1 attribute)"
        MEDIUM = "medium", "Medium (2 attributes)"
        EASY = "easy", "Easy (3 attributes)"
        TRIVIAL = "trivial", "Trivial (another caption)"

    class AgentVerdict(models.TextChoices):
        PASSED = "passed", "Passed the verifier"
        REJECTED = "rejected", "Rejected after the correction bound"

    class Review(models.TextChoices):
        PENDING = "pending", "Not reviewed"
        VALID = "valid", "Valid"
        INVALID = "invalid", "Invalid"
        EDITED = "edited", "Edited, valid"

    subset = models.ForeignKey(Subset, on_delete=models.CASCADE, related_name="hard_negatives")
    sample = models.ForeignKey(Sample, on_delete=models.CASCADE, related_name="hard_negatives")
    turn_index = models.PositiveSmallIntegerField(help_text="The turn whose assistant text is the positive caption.")
    image = models.ForeignKey(Image, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    positive = models.TextField(help_text="The caption as it was when the negative was made.")
    phase = models.CharField(max_length=16, choices=Phase.choices)
    fact = models.TextField(help_text="What the negative contradicts: the whole positive, or one atomic sub-fact of it.")
    slot = models.PositiveSmallIntegerField(help_text="Position of the candidate among the phase's candidates of this fact.")
    text = models.TextField()
    original_text = models.TextField(blank=True, help_text="The negative as generated, kept once a reviewer edits it.")
    changes = models.JSONField(default=list, help_text='[{"attribute": ..., "origin": ..., "target": ...}]')
    attribute = models.CharField(max_length=32, help_text="The target attribute (the first change's).")
    operation = models.CharField(max_length=32, blank=True, help_text="replace_attribute, swap_relation, change_count, ...")
    level = models.CharField(max_length=16, choices=Level.choices)
    engine_name = models.CharField(max_length=200)
    engine_version = models.CharField(max_length=100)
    agent_verdict = models.CharField(max_length=16, choices=AgentVerdict.choices)
    agent_reason = models.CharField(max_length=64, blank=True, help_text="The verifier's last reason when it rejected.")
    correction_rounds = models.PositiveSmallIntegerField(default=0)
    visual_check = models.CharField(max_length=16, help_text="'agent' when the verifier saw the image, 'reviewer' when it could not.")
    # Blind-solvability (text only): plausibility of positive and negative under the bundled text model.
    blind_positive_score = models.FloatField(null=True, blank=True)
    blind_negative_score = models.FloatField(null=True, blank=True)
    blind_engine = models.CharField(max_length=200, blank=True)
    review = models.CharField(max_length=16, choices=Review.choices, default=Review.PENDING)
    review_reason = models.CharField(max_length=32, blank=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    job = models.ForeignKey("curation.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sample_id", "turn_index", "phase", "fact", "slot"]
        constraints = [
            # The natural key: a rerun finds what it made before and never duplicates it.
            models.UniqueConstraint(fields=["sample", "turn_index", "phase", "fact", "slot"], name="hardnegative_natural_key"),
            models.CheckConstraint(condition=~models.Q(review="invalid") | ~models.Q(review_reason=""), name="hardnegative_invalid_has_reason"),
        ]
        indexes = [
            models.Index(fields=["subset", "attribute"], name="hardnegative_subset_attribute"),
            models.Index(fields=["subset", "id"], condition=models.Q(agent_verdict="passed"), name="hardnegative_passed"),
        ]

    def __str__(self) -> str:
        return f"hard negative {self.pk} of sample {self.sample_id} ({self.attribute}, {self.level})"

    @property
    def blind_prefers_positive(self) -> bool | None:
        if self.blind_positive_score is None or self.blind_negative_score is None:
            return None
        return self.blind_positive_score > self.blind_negative_score


class HardNegativeStep(models.Model):
    """One agent's turn in the loop that made a negative: its input, output, verdict and round (the audit trail)."""

    class Agent(models.TextChoices):
        GENERATOR = "generator", "Generator"
        VERIFIER = "verifier", "Verifier"
        CORRECTOR = "corrector", "Corrector"

    negative = models.ForeignKey(HardNegative, on_delete=models.CASCADE, related_name="steps")
    round = models.PositiveSmallIntegerField(help_text="0 = generation; 1..3 = correction rounds.")
    agent = models.CharField(max_length=16, choices=Agent.choices)
    engine = models.CharField(max_length=300)
    input = models.JSONField(default=dict)
    output = models.JSONField(default=dict)
    verdict = models.CharField(max_length=16, blank=True, help_text="pass / fail for the verifier; empty otherwise.")
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["negative_id", "round", "id"]
        constraints = [models.UniqueConstraint(fields=["negative", "round", "agent"], name="hardnegativestep_unique")]

    def __str__(self) -> str:
        return f"{self.agent} round {self.round} of negative {self.negative_id}"
