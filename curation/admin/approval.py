from django.contrib import admin

from curation.models import ApprovalPolicy


@admin.register(ApprovalPolicy)
class ApprovalPolicyAdmin(admin.ModelAdmin):
    """Admins set, per team, which approval checks its subsets need (curation/services/approval.py lists them)."""

    list_display = ["__str__", "required_checks", "spot_check_share", "spot_check_minimum", "spot_check_acceptance",
                    "export_decisions", "updated_by", "updated_at"]
    readonly_fields = ["updated_by", "updated_at"]

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)
