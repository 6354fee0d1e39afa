"""The decisions an export keeps by default: accepted only (FINECURATE_EXPORT_DEFAULT_DECISIONS), on the form and in
the manifest; a never-reviewed subset does not export whole unasked."""
import pytest

from curation.models import Sample
from tests.factories import approved_subset_make, export_build_now

pytestmark = pytest.mark.django_db


def test_a_never_reviewed_subset_is_not_exported_by_default(curator):
    subset = approved_subset_make(samples=3, name="Unreviewed", sample_status=Sample.Status.PENDING)
    export = export_build_now(subsets=[subset], format="llava_jsonl", by=curator)
    assert export.state == "failed"
    assert export.job.message.startswith("no sample of the chosen subsets passes the filters")
    assert "Decision state (states: accepted): 3 excluded" in export.job.message


def test_the_default_keeps_accepted_samples_and_says_so_in_the_manifest(curator):
    subset = approved_subset_make(samples=3, name="Half reviewed")
    Sample.objects.filter(pk=subset.samples.order_by("pk").first().pk).update(status=Sample.Status.PENDING)
    export = export_build_now(subsets=[subset], format="llava_jsonl", by=curator)
    assert export.state == "succeeded" and export.sample_count == 2
    decision = next(f for f in export.manifest["filters"] if f["name"] == "decision")
    assert decision["params"] == {"statuses": ["accepted"]} and decision["default"] is True
    assert decision["reasons"] == {"decision state pending": 1}


def test_the_setting_changes_the_default_and_a_choice_is_not_the_default(curator, settings):
    settings.FINECURATE_EXPORT_DEFAULT_DECISIONS = ["accepted", "pending"]
    subset = approved_subset_make(samples=2, name="Team policy", sample_status=Sample.Status.PENDING)
    assert export_build_now(subsets=[subset], format="llava_jsonl", by=curator).sample_count == 2
    chosen = export_build_now(subsets=[subset], format="llava_jsonl", by=curator,
                              filters={"decision": {"statuses": ["pending"]}})
    decision = next(f for f in chosen.manifest["filters"] if f["name"] == "decision")
    assert decision["default"] is False and chosen.sample_count == 2


def test_the_export_form_shows_the_default_decisions(curator_client):
    approved_subset_make(samples=1, name="Shown")
    body = curator_client.get("/exports/new/").content.decode()
    assert "Kept unless you choose otherwise: accepted." in body
