from django.contrib import admin

from curation.models import Decision, ReviewItem, ReviewQueue


@admin.register(ReviewQueue)
class ReviewQueueAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "subset", "overlap_rate", "active"]
    list_filter = ["kind", "active"]
    filter_horizontal = ["assignees"]


@admin.register(ReviewItem)
class ReviewItemAdmin(admin.ModelAdmin):
    list_display = ["id", "queue", "kind", "state", "round", "assignee", "verdict", "decided_by", "decided_at"]
    list_filter = ["kind", "state", "round"]
    raw_id_fields = ["queue", "subset", "assignee", "decided_by"]
    show_full_result_count = False


@admin.register(Decision)
class DecisionAdmin(admin.ModelAdmin):
    """The audit trail is append-only: readable here, never editable or deletable."""

    list_display = ["created_at", "actor", "verdict", "reason", "target_type", "target_id"]
    list_filter = ["verdict", "target_type"]
    search_fields = ["target_id", "actor__username", "reason"]
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Decision._meta.concrete_fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
