"""Approval policies: which checks a team requires before one of its subsets is approved for export."""
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models


def default_required_checks() -> list[str]:
    return ["licence", "spot_check", "open_items"]


def default_export_decisions() -> list[str]:
    return ["accepted"]


class ApprovalPolicy(models.Model):
    """A team's approval rules (the policy with no team is everyone else's); edited by admins."""

    team = models.OneToOneField(
        Group, null=True, blank=True, on_delete=models.CASCADE, related_name="approval_policy",
        help_text="The team whose subsets this policy governs; empty = the default policy.",
    )
    required_checks = models.JSONField(
        default=default_required_checks, blank=True,
        help_text="Keys of the approval checks that must pass (curation/services/approval.py lists them).",
    )
    spot_check_share = models.FloatField(default=0.02, help_text="Share of a subset's samples a spot-check reviews (0-1).")
    spot_check_minimum = models.PositiveIntegerField(default=50, help_text="At least this many samples (or all of a smaller subset).")
    spot_check_acceptance = models.FloatField(default=0.9, help_text="Lowest acceptable share of accepted samples (0-1).")
    export_decisions = models.JSONField(
        default=default_export_decisions, blank=True,
        help_text="Which sample decisions an export keeps unless the curator asks otherwise (accepted, pending, rejected).",
    )
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "approval policies"
        constraints = [
            models.UniqueConstraint(fields=["team"], condition=models.Q(team__isnull=True), name="approvalpolicy_one_default"),
            models.CheckConstraint(condition=models.Q(spot_check_share__gte=0, spot_check_share__lte=1), name="approvalpolicy_share_0_1"),
            models.CheckConstraint(
                condition=models.Q(spot_check_acceptance__gte=0, spot_check_acceptance__lte=1), name="approvalpolicy_acceptance_0_1"
            ),
        ]

    def __str__(self) -> str:
        return f"approval policy of {self.team.name}" if self.team else "default approval policy"
