"""The audit trail reads as a person would: targets by name, before/after as the fields that changed."""
import pytest

from annotate.audit_display import target_labels, value_diff
from curation.models import Decision
from curation.services.decisions import decision_record
from tests.factories import mapping_make, sample_make, source_make, subset_make


def test_a_changed_turn_is_shown_word_by_word_with_its_position_counted_from_one():
    before = {"turns": [{"user": "What is shown?", "assistant": "A red bus parked beside a tall building at night."}]}
    after = {"turns": [{"user": "What is shown?", "assistant": "A blue bus parked beside a tall building at night."}]}
    [change] = value_diff(before, after)
    assert change.path == "turns[1].assistant" and change.kind == "changed"
    assert [(s.op, s.text) for s in change.segments if s.op != "same"] == [("del", "red"), ("ins", "blue")]


def test_added_and_removed_fields_and_short_values():
    changes = value_diff({"status": "draft", "old": 1}, {"status": "approved", "samples": 3})
    assert [(c.path, c.kind, c.before, c.after) for c in changes] == [
        ("old", "removed", "1", ""), ("status", "changed", "draft", "approved"), ("samples", "added", "", "3")]
    assert value_diff(None, {"a": 1}) == [value_diff(None, {"a": 1})[0]] and value_diff(None, None) == []


@pytest.mark.django_db
def test_targets_are_named_as_a_person_would(curator):
    source = source_make(name="my-llava-5")
    mapping = mapping_make(source=source)
    subset = subset_make(name="Charts")
    sample = sample_make(subset=subset, source=source, row_number=0)
    rows = [decision_record(by=curator, target=t, verdict="accept") for t in (mapping, subset, sample)]
    labels = target_labels(Decision.objects.filter(pk__in=[d.pk for d in rows]).order_by("pk"))
    assert [labels[d.pk] for d in rows] == [f"version {mapping.version} of my-llava-5", "subset Charts", "sample 1 of my-llava-5"]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_audit_page_shows_names_a_diff_and_verdict_choices(login_small, live_server, curator):
    source = source_make(name="my-llava-5")
    mapping = mapping_make(source=source)
    decision_record(by=curator, target=mapping, verdict="accept",
                    before={"status": "suggested", "spec": {"turns": {"column": "conversations"}}},
                    after={"status": "accepted", "spec": {"turns": {"column": "messages"}}})
    page = login_small(curator)
    page.goto(f"{live_server.url}/audit/")
    row = page.locator("tr[data-decision]").first
    assert f"version {mapping.version} of my-llava-5" in row.locator("td a.target").inner_text()
    assert row.locator(".change .path", has_text="spec.turns.column").is_visible()
    assert row.locator("del").first.inner_text() == "conversations" and row.locator("ins", has_text="messages").is_visible()
    assert "accept" in page.locator("select[name=verdict] option").all_inner_texts()
    assert "mapping" in page.locator("select[name=target_type] option").all_inner_texts()
