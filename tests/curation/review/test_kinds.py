"""The kind registry and the sample kind's form and effect."""
import pytest

from curation.models import Sample
from curation.review.kinds import UnknownKind, kind_get, kinds_registered
from curation.review.sample import SampleDecisionForm, sample_review_effect
from tests.curation.review.builders import samples_make


def test_sample_kind_is_registered_with_its_form_template_and_effect():
    kind = kind_get("sample")
    assert kind in kinds_registered()
    assert kind.model is Sample
    assert [v.value for v in kind.verdicts] == ["accept", "reject", "edit"]
    assert kind.template == "annotate/review_sample.html#target"
    assert kind.outcome("edit") == "accept"
    assert [v.value for v in kind.bulk_verdicts()] == ["accept", "reject"]


def test_unknown_kind_names_the_known_ones():
    with pytest.raises(UnknownKind, match="sample"):
        kind_get("no-such-kind")


@pytest.mark.django_db
def test_reject_needs_one_of_the_listed_reasons():
    sample = samples_make(count=1)[0]
    form = SampleDecisionForm({"verdict": "reject"}, target=sample)
    assert not form.is_valid()
    assert "Wrong answer" in form.errors["reason"][0]
    form = SampleDecisionForm({"verdict": "reject", "reason": "made_up"}, target=sample)
    assert not form.is_valid()
    assert SampleDecisionForm({"verdict": "reject", "reason": "harmful"}, target=sample).is_valid()


@pytest.mark.django_db
def test_a_reason_left_over_from_another_choice_is_dropped_on_accept():
    sample = samples_make(count=1)[0]
    form = SampleDecisionForm({"verdict": "accept", "reason": "harmful"}, target=sample)
    assert form.is_valid()
    assert form.cleaned_data["reason"] == ""


@pytest.mark.django_db
def test_an_edit_that_changes_nothing_is_refused():
    sample = samples_make(count=1)[0]
    form = SampleDecisionForm({"verdict": "edit", "turn_0_assistant": sample.turns[0]["assistant"]}, target=sample)
    assert not form.is_valid()
    assert "Nothing was edited" in form.non_field_errors()[0]


@pytest.mark.django_db
def test_edits_are_refused_in_the_overlap_round():
    sample = samples_make(count=1)[0]
    form = SampleDecisionForm({"verdict": "edit", "turn_0_assistant": "new"}, target=sample, allow_revisions=False)
    assert not form.is_valid()
    assert "agreement" in form.errors["verdict"][0]


@pytest.mark.django_db
def test_edit_effect_keeps_the_mapped_turns_once_and_reports_each_edited_turn():
    sample = samples_make(count=1)[0]
    mapped = [dict(t) for t in sample.turns]
    form = SampleDecisionForm({"verdict": "edit", "turn_1_assistant": "Crimson.\r\nClearly."}, target=sample)
    assert form.is_valid(), form.errors
    result = sample_review_effect(target=sample, verdict="edit", data=form.cleaned_data, actor=None)
    sample.refresh_from_db()
    assert sample.turns[1]["assistant"] == "Crimson.\nClearly."
    assert sample.turns[0] == mapped[0]
    assert sample.original_turns == mapped
    assert sample.status == Sample.Status.ACCEPTED
    assert [c.verdict for c in result.revisions] == ["edit_turn"]
    assert result.revisions[0].before == {"turn": 1, **mapped[1]}
    assert result.revisions[0].after["assistant"] == "Crimson.\nClearly."
    # A second edit does not overwrite what was mapped.
    form = SampleDecisionForm({"verdict": "edit", "turn_0_user": "Which shape?"}, target=sample)
    assert form.is_valid()
    sample_review_effect(target=sample, verdict="edit", data=form.cleaned_data, actor=None)
    sample.refresh_from_db()
    assert sample.original_turns == mapped
    assert sample.turns[0]["user"] == "Which shape?" and sample.turns[1]["assistant"] == "Crimson.\nClearly."


@pytest.mark.django_db
def test_reject_effect_records_status_and_reason():
    sample = samples_make(count=1)[0]
    result = sample_review_effect(target=sample, verdict="reject", data={"reason": "unreadable_image"}, actor=None)
    sample.refresh_from_db()
    assert (sample.status, sample.reject_reason) == ("rejected", "unreadable_image")
    assert result.before == {"status": "pending", "reject_reason": ""}
    assert result.after == {"status": "rejected", "reject_reason": "unreadable_image"}
