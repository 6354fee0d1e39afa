"""The User admin, re-registered for managing annotators: roles (groups), activation, queue
assignments (one queue, or every queue of a subset), and each one's recent throughput."""
from collections.abc import Iterable
from datetime import timedelta
from typing import cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.contrib.auth.models import Group
from django.contrib.auth.models import User as UserModel
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import TruncHour
from django.db.models.query import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from curation.models import ReviewItem, ReviewQueue, Subset
from curation.services.review import review_queue_configure

User = get_user_model()
THROUGHPUT_DAYS = 7


class AnnotatorActionForm(ActionForm):
    """Extra inputs of the bulk actions: which queue, subset or role the selected users get."""

    queue = forms.ModelChoiceField(queryset=ReviewQueue.objects.order_by("kind", "name"), required=False)
    subset = forms.ModelChoiceField(queryset=Subset.objects.order_by("name"), required=False)
    role = forms.ModelChoiceField(queryset=Group.objects.order_by("name"), required=False)


class AnnotatorChangeForm(UserChangeForm):
    review_queues = forms.ModelMultipleChoiceField(
        queryset=ReviewQueue.objects.order_by("kind", "name"),
        required=False,
        widget=FilteredSelectMultiple("review queues", is_stacked=False),
        help_text="Queues with assignees are worked by them only; a queue with none is open to every reviewer.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["review_queues"].initial = list(self.instance.review_queues.all())


def _admin_user(request: HttpRequest) -> UserModel:
    """The admin site only lets signed-in staff in."""
    assert isinstance(request.user, UserModel)
    return request.user


def _reassign(
    queue: ReviewQueue, *, by: UserModel, add: Iterable[UserModel] = (), remove: Iterable[UserModel] = ()
) -> None:
    """Change a queue's assignees through the service, which records the change in the audit trail."""
    assignees = (set(queue.assignees.all()) | set(add)) - set(remove)
    review_queue_configure(queue=queue, by=by, assignees=assignees)


def _recent(field: str) -> Subquery:
    since = timezone.now() - timedelta(days=THROUGHPUT_DAYS)
    rows = (
        ReviewItem.objects.filter(decided_by=OuterRef("pk"), decided_at__gte=since, bulk_job__isnull=True)
        .order_by()
        .values("decided_by")
    )
    if field == "hours":
        rows = rows.annotate(v=Count(TruncHour("decided_at"), distinct=True))
    else:
        rows = rows.annotate(v=Count("id"))
    return Subquery(rows.values("v")[:1], output_field=IntegerField())


admin.site.unregister(User)


@admin.register(User)
class AnnotatorAdmin(UserAdmin):
    form = AnnotatorChangeForm
    action_form = AnnotatorActionForm
    list_display = ["username", "email", "is_active", "roles", "queue_count", "decided_recent", "per_hour_recent", "last_login"]
    list_filter = ["is_active", "groups", "is_staff", "is_superuser"]
    actions = ["deactivate", "activate", "add_role", "assign_queue", "assign_subset", "unassign_queue"]
    fieldsets = (*(UserAdmin.fieldsets or ()), ("Review", {"fields": ("review_queues",)}))

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return (
            super()
            .get_queryset(request)
            .prefetch_related("groups")
            .annotate(n_queues=Count("review_queues", distinct=True), n_decided=_recent("decided"), n_hours=_recent("hours"))
        )

    @admin.display(description="roles")
    def roles(self, obj) -> str:
        return ", ".join(g.name for g in obj.groups.all()) or "—"

    @admin.display(description="queues", ordering="n_queues")
    def queue_count(self, obj) -> int:
        return obj.n_queues

    @admin.display(description=f"decided ({THROUGHPUT_DAYS} d)", ordering="n_decided")
    def decided_recent(self, obj) -> int:
        return obj.n_decided or 0

    @admin.display(description="decisions / active hour")
    def per_hour_recent(self, obj) -> str:
        return f"{obj.n_decided / obj.n_hours:.1f}" if obj.n_hours else "—"

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if "review_queues" in form.cleaned_data:
            user = form.instance
            before, after = set(user.review_queues.all()), set(form.cleaned_data["review_queues"])
            for queue in after - before:
                _reassign(queue, by=_admin_user(request), add=[user])
            for queue in before - after:
                _reassign(queue, by=_admin_user(request), remove=[user])

    def _chosen(self, request: HttpRequest, name: str):
        form = self.action_form(request.POST)
        # The admin fills the action choices per request; a fresh form needs them to validate.
        cast(forms.ChoiceField, form.fields["action"]).choices = self.get_action_choices(request)
        return form.cleaned_data.get(name) if form.is_valid() else None

    @admin.action(description="Deactivate the selected users (they can no longer sign in)", permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = queryset.exclude(pk=request.user.pk).update(is_active=False)
        self.message_user(request, f"{count} user(s) deactivated.", messages.SUCCESS)

    @admin.action(description="Activate the selected users", permissions=["change"])
    def activate(self, request: HttpRequest, queryset: QuerySet) -> None:
        count = queryset.update(is_active=True)
        self.message_user(request, f"{count} user(s) activated.", messages.SUCCESS)

    @admin.action(description="Put the selected users in the chosen role", permissions=["change"])
    def add_role(self, request: HttpRequest, queryset: QuerySet) -> None:
        role = self._chosen(request, "role")
        if role is None:
            self.message_user(request, "Choose a role first.", messages.ERROR)
            return
        role.user_set.add(*queryset)
        self.message_user(request, f"{queryset.count()} user(s) are now in '{role.name}'.", messages.SUCCESS)

    @admin.action(description="Assign the selected users to the chosen queue", permissions=["change"])
    def assign_queue(self, request: HttpRequest, queryset: QuerySet) -> None:
        queue = self._chosen(request, "queue")
        if queue is None:
            self.message_user(request, "Choose a queue first.", messages.ERROR)
            return
        _reassign(queue, by=_admin_user(request), add=queryset)
        self.message_user(request, f"{queryset.count()} user(s) assigned to '{queue.name}'.", messages.SUCCESS)

    @admin.action(description="Assign the selected users to every queue of the chosen subset", permissions=["change"])
    def assign_subset(self, request: HttpRequest, queryset: QuerySet) -> None:
        subset = self._chosen(request, "subset")
        if subset is None:
            self.message_user(request, "Choose a subset first.", messages.ERROR)
            return
        queues = list(ReviewQueue.objects.filter(subset=subset))
        for queue in queues:
            _reassign(queue, by=_admin_user(request), add=queryset)
        self.message_user(request, f"{queryset.count()} user(s) assigned to {len(queues)} queue(s) of '{subset.name}'.", messages.SUCCESS)

    @admin.action(description="Unassign the selected users from the chosen queue", permissions=["change"])
    def unassign_queue(self, request: HttpRequest, queryset: QuerySet) -> None:
        queue = self._chosen(request, "queue")
        if queue is None:
            self.message_user(request, "Choose a queue first.", messages.ERROR)
            return
        _reassign(queue, by=_admin_user(request), remove=queryset)
        self.message_user(request, f"{queryset.count()} user(s) unassigned from '{queue.name}'.", messages.SUCCESS)
