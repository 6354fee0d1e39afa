"""Forms of the review pages: filling and configuring queues, bulk decisions, the audit trail's filters."""
from typing import Any, cast

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q

from curation.models import Decision, ReviewItem, ReviewQueue, Subset
from curation.review.kinds import kind_label, kinds_registered
from curation.services.review_bulk import ATTRIBUTE_KEY, UNDECIDED_STATES


def _kind_choices() -> list[tuple[str, str]]:
    return [(k.kind, k.title) for k in kinds_registered()]


class PercentField(forms.CharField):
    """A share typed as a percentage ("2", "2%", "0.5") and cleaned to a fraction (0.02).

    A text box, not a number box: the browser's own min/max checks would judge the typed percentage
    against the fraction's bounds, and a number box refuses "2%".
    """

    def __init__(self, *, low: float = 0.0, high: float = 1.0, low_inclusive: bool = True, **kwargs: Any):
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "size": 8}))
        super().__init__(**kwargs)
        self.low, self.high, self.low_inclusive = low, high, low_inclusive

    def clean(self, value: Any) -> Any:
        text = str(super().clean(value) or "").strip().rstrip("%").strip()
        if not text:
            return None
        try:
            fraction = float(text) / 100.0
        except ValueError as exc:
            raise forms.ValidationError("Enter a percentage, e.g. 2 or 2%.") from exc
        too_low = fraction < self.low or (fraction == self.low and not self.low_inclusive)
        if too_low or fraction > self.high or fraction != fraction:  # the last test catches NaN
            floor = "above" if not self.low_inclusive else "from"
            raise forms.ValidationError(f"Enter a percentage {floor} {self.low * 100:g} up to {self.high * 100:g}.")
        return fraction


class QueueFillForm(forms.Form):
    subset = forms.ModelChoiceField(queryset=Subset.objects.all())
    kind = forms.ChoiceField(choices=_kind_choices)
    percent = PercentField(
        label="Share of the subset (%)", low_inclusive=False, initial="100",
        help_text="100 queues every sample; 2 is a 2% spot check.",
    )
    seed = forms.IntegerField(initial=1, help_text="The same seed picks the same samples.")
    overlap = PercentField(
        label="Double review (%)", required=False,
        help_text="Share of items a second reviewer also decides, to measure agreement.",
    )


class QueueSettingsForm(forms.Form):
    name = forms.CharField(max_length=200)
    instructions = forms.CharField(label="Instructions for reviewers", required=False, widget=forms.Textarea)
    overlap = PercentField(label="Double review (%)", help_text="Applies to items queued from now on.")
    active = forms.BooleanField(label="Open for reviewers", required=False)
    assignees = forms.ModelMultipleChoiceField(
        label="Assigned reviewers",
        queryset=get_user_model().objects.none(), required=False, widget=forms.CheckboxSelectMultiple,
        help_text="Nobody ticked: every reviewer may work the queue.",
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        people = get_user_model().objects.filter(is_active=True).filter(
            Q(groups__name__in=["reviewer", "curator", "admin"]) | Q(is_superuser=True)
        )
        cast(forms.ModelMultipleChoiceField, self.fields["assignees"]).queryset = people.distinct().order_by("username")


class BulkFilterForm(forms.Form):
    kind = forms.ChoiceField(choices=_kind_choices)
    queue = forms.ModelChoiceField(queryset=ReviewQueue.objects.all(), required=False)
    subset = forms.ModelChoiceField(queryset=Subset.objects.all(), required=False)
    states = forms.MultipleChoiceField(
        choices=[(s, ReviewItem.State(s).label) for s in (ReviewItem.State.QUEUED, ReviewItem.State.CLAIMED, ReviewItem.State.DECIDED)],
        initial=list(UNDECIDED_STATES), widget=forms.CheckboxSelectMultiple,
    )
    verdict = forms.CharField(required=False, max_length=32, help_text="Only items currently decided so.")
    score_min = forms.FloatField(required=False, label="Score from")
    score_max = forms.FloatField(required=False, label="Score to")
    attribute = forms.CharField(required=False, max_length=64, help_text="e.g. source, attribute, images")
    attribute_value = forms.CharField(required=False, max_length=200, label="equal to")
    created_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    created_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean_attribute(self) -> str:
        value = self.cleaned_data["attribute"].strip()
        if value and not ATTRIBUTE_KEY.match(value):
            raise forms.ValidationError("A plain name: lower-case letters, digits and _.")
        return value

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        low, high = cleaned.get("score_min"), cleaned.get("score_max")
        if low is not None and high is not None and low > high:
            self.add_error("score_max", "The upper bound is below the lower one.")
        queue = cleaned.get("queue")
        if queue is not None and cleaned.get("kind") and queue.kind != cleaned["kind"]:
            self.add_error("queue", f"That queue holds {kind_label(queue.kind)} items.")
        return cleaned


class BulkDecideForm(forms.Form):
    """The decision applied to a filter's items (names apart from the filter's own `verdict`)."""

    decision = forms.CharField(max_length=32)
    decision_reason = forms.CharField(required=False, max_length=64)
    decision_note = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    confirmed_count = forms.IntegerField(min_value=0, widget=forms.HiddenInput)


class TargetTypeField(forms.ModelChoiceField):
    """Content types named as a person would ("mapping", "subset"), not "curation | mapping"."""

    def label_from_instance(self, obj: Any) -> str:
        return str(obj.name)


class AuditFilterForm(forms.Form):
    actor = forms.CharField(required=False, max_length=150, label="Who (username)")
    verdict = forms.ChoiceField(
        required=False, choices=lambda: [("", "any"), *((v, v) for v in Decision.objects.order_by("verdict").values_list("verdict", flat=True).distinct())]
    )
    kind = forms.ChoiceField(required=False, choices=lambda: [("", "any"), *_kind_choices()])
    target_type = TargetTypeField(
        required=False, queryset=ContentType.objects.filter(app_label="curation").order_by("model"), empty_label="any",
        label="What it is about",
    )
    target_id = forms.CharField(required=False, max_length=64, label="Target id")
    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def selector_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "actor": data.get("actor", "").strip(),
            "verdict": data.get("verdict", "").strip(),
            "kind": data.get("kind", ""),
            "target_type_id": data["target_type"].pk if data.get("target_type") else None,
            "target_id": data.get("target_id", "").strip(),
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
        }
