"""Admin of the review machinery: queues (assignees, progress), items, and the read-only audit trail."""
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.db.models import Count, Q
from django.db.models.query import QuerySet
from django.http import HttpRequest

from curation.models import Decision, ReviewItem, ReviewQueue
from curation.review.kinds import kinds_registered
from curation.services.review import review_queue_configure, review_queue_create
from curation.services.review_claims import review_release_expired


def _admin_user(request: HttpRequest) -> User:
    """The admin site only lets signed-in staff in."""
    assert isinstance(request.user, User)
    return request.user


class ReviewQueueForm(forms.ModelForm):
    """The admin's queue form: kinds from the registry; the save goes through the review queue services."""

    kind = forms.ChoiceField(choices=lambda: [(k.kind, k.title) for k in kinds_registered()])

    class Meta:
        model = ReviewQueue
        fields = ["kind", "subset", "name", "instructions", "overlap_rate", "active", "assignees"]


@admin.register(ReviewQueue)
class ReviewQueueAdmin(admin.ModelAdmin):
    form = ReviewQueueForm
    list_display = ["name", "kind", "subset", "overlap_rate", "active", "items_total", "items_decided", "items_open", "assignee_count"]
    list_filter = ["kind", "active"]
    search_fields = ["name", "subset__name"]
    filter_horizontal = ["assignees"]
    raw_id_fields = ["subset"]
    readonly_fields = ["created_by", "created_at", "fill_fraction", "fill_seed"]
    actions = ["open_queues", "close_queues", "release_lapsed_claims"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return (
            super()
            .get_queryset(request)
            .select_related("subset")
            .annotate(
                n_total=Count("items", distinct=True),
                n_decided=Count("items", filter=Q(items__state=ReviewItem.State.DECIDED), distinct=True),
                n_open=Count("items", filter=Q(items__state__in=[ReviewItem.State.QUEUED, ReviewItem.State.CLAIMED]), distinct=True),
                n_assignees=Count("assignees", distinct=True),
            )
        )

    @admin.display(description="items", ordering="n_total")
    def items_total(self, obj: ReviewQueue) -> int:
        return obj.n_total  # type: ignore[attr-defined]  # annotated by get_queryset

    @admin.display(description="decided", ordering="n_decided")
    def items_decided(self, obj: ReviewQueue) -> int:
        return obj.n_decided  # type: ignore[attr-defined]  # annotated by get_queryset

    @admin.display(description="open", ordering="n_open")
    def items_open(self, obj: ReviewQueue) -> int:
        return obj.n_open  # type: ignore[attr-defined]  # annotated by get_queryset

    @admin.display(description="assignees (none = every reviewer)", ordering="n_assignees")
    def assignee_count(self, obj: ReviewQueue) -> int:
        return obj.n_assignees  # type: ignore[attr-defined]  # annotated by get_queryset

    def get_readonly_fields(self, request: HttpRequest, obj: ReviewQueue | None = None) -> list[str]:
        fixed = ["kind", "subset"] if obj is not None else []  # a queue's items are of its kind and subset
        return [*self.readonly_fields, *fixed]

    def save_model(self, request: HttpRequest, obj: ReviewQueue, form: forms.ModelForm, change: bool) -> None:
        """Create and configure through the services, so the audit trail gets its Decision rows."""
        data: dict[str, Any] = form.cleaned_data
        by = _admin_user(request)
        settings = {"name": data["name"], "instructions": data["instructions"], "overlap_rate": data["overlap_rate"]}
        if change:
            queue = ReviewQueue.objects.get(pk=obj.pk)  # obj already holds the form's values
        else:
            queue = review_queue_create(kind=data["kind"], subset=data["subset"], by=by, **settings)
        review_queue_configure(queue=queue, by=by, active=data["active"], assignees=data["assignees"], **settings)
        queue.refresh_from_db()
        obj.__dict__.update({f.attname: getattr(queue, f.attname) for f in ReviewQueue._meta.concrete_fields})
        obj._state.adding, obj._state.db = False, queue._state.db

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool) -> None:
        """The assignees were saved by review_queue_configure (with the audit row); only inlines are left."""
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    @admin.action(description="Open the selected queues to reviewers", permissions=["change"])
    def open_queues(self, request: HttpRequest, queryset: QuerySet) -> None:
        for queue in queryset:
            review_queue_configure(queue=queue, by=_admin_user(request), active=True)
        self.message_user(request, f"{queryset.count()} queue(s) opened.", messages.SUCCESS)

    @admin.action(description="Close the selected queues", permissions=["change"])
    def close_queues(self, request: HttpRequest, queryset: QuerySet) -> None:
        for queue in queryset:
            review_queue_configure(queue=queue, by=_admin_user(request), active=False)
        self.message_user(request, f"{queryset.count()} queue(s) closed.", messages.SUCCESS)

    @admin.action(description="Return lapsed claims (all queues) to their queues", permissions=["change"])
    def release_lapsed_claims(self, request: HttpRequest, queryset: QuerySet) -> None:
        released = review_release_expired()
        self.message_user(request, f"{released} lapsed claim(s) returned.", messages.SUCCESS)


@admin.register(ReviewItem)
class ReviewItemAdmin(admin.ModelAdmin):
    list_display = ["id", "queue", "kind", "state", "round", "assignee", "lease_expires_at", "verdict", "decided_by", "decided_at"]
    list_filter = ["kind", "state", "round"]
    search_fields = ["target_id"]
    raw_id_fields = ["queue", "subset", "assignee", "decided_by", "excluded_reviewer", "bulk_job"]
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        # Decisions go through the review services (they write the audit rows), never this form.
        return [f.name for f in ReviewItem._meta.concrete_fields if f.name not in {"priority"}]

    def has_add_permission(self, request):
        return False


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
