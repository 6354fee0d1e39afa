"""decision_record: one way to append an audit row, saved now or built for a bulk insert."""
import pytest
from django.contrib.contenttypes.models import ContentType

from curation.models import Decision, Subset
from curation.services.decisions import decision_record

pytestmark = pytest.mark.django_db


def test_a_decision_is_saved_with_its_actor_and_target(curator):
    subset = Subset.objects.create(name="s")
    row = decision_record(by=curator, target=subset, verdict="approve", reason="x" * 300, after={"status": "approved"})
    saved = Decision.objects.get(pk=row.pk)
    assert (saved.actor, saved.target_id, saved.verdict, len(saved.reason)) == (curator, str(subset.pk), "approve", 200)


def test_built_rows_are_left_for_one_bulk_insert(curator):
    subset_type = ContentType.objects.get_for_model(Subset)
    rows = [decision_record(by=None, target=(subset_type, str(n)), verdict="keep", save=False) for n in range(3)]
    assert all(r.pk is None for r in rows) and not Decision.objects.exists()
    Decision.objects.bulk_create(rows)
    assert sorted(Decision.objects.values_list("target_id", flat=True)) == ["0", "1", "2"]
    assert Decision.objects.filter(actor__isnull=True).count() == 3
