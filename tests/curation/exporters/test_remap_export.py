"""A subset built by re-mapping exports the same bytes as one built fresh from the same version."""
import pytest
from django.utils import timezone

from curation.mapping.spec import spec_from_dict
from curation.models import Sample, Subset
from curation.services.mapping import mapping_accept, mapping_create_version
from tests.curation.mapping import layouts
from tests.factories import export_build_now
from workers.tasks.mapping import apply_mapping

pytestmark = pytest.mark.django_db

KEEP_ALL = {"decision": {"statuses": ["accepted", "pending"]}}


def _apply(source, by, *, images, user):
    spec = {"subset": {"name": "pairs", "category": "general_vqa"}, "images": [{"column": c, "kind": "auto"} for c in images],
            "turns": {"mode": "template", "pairs": [{"user": user, "assistant": "{answer}"}]}, "filters": []}
    mapping = mapping_create_version(source=source, spec=spec_from_dict(spec, check=False), by=by)
    apply_mapping.run(mapping_accept(mapping=mapping, by=by).pk)
    mapping.refresh_from_db()
    return mapping


def _export_checksums(subset, by):
    Subset.objects.filter(pk=subset.pk).update(status=Subset.Status.APPROVED, approved_at=timezone.now())
    export = export_build_now(subsets=[subset], format="parquet", by=by, filters=KEEP_ALL)
    assert export.state == "succeeded" and export.sample_count == 6
    Subset.objects.filter(pk=subset.pk).update(status=Subset.Status.DRAFT, approved_at=None)
    return {f.name: f.sha256 for f in export.files.exclude(name="manifest.json")}


def test_a_remapped_subset_exports_byte_identically_to_one_built_fresh(curator):
    source = layouts.source_with_rows("pairs", [
        {"left": "$img", "right": "$img" if n % 3 else None, "question": f"Same {n}?", "answer": "no"} for n in range(6)
    ])
    _apply(source, curator, images=["left"], user="{question}")
    _apply(source, curator, images=["right", "left"], user="Q: {question}")
    final = _apply(source, curator, images=["left", "right"], user="Question: {question}")
    subset = final.subset
    remapped = _export_checksums(subset, curator)

    Sample.objects.filter(subset=subset).delete()  # the same version again, built from nothing
    fresh_version = _apply(source, curator, images=["left", "right"], user="Question: {question}")
    assert fresh_version.subset_id == subset.pk
    fresh = _export_checksums(subset, curator)
    assert any(name.endswith(".parquet") for name in fresh)
    assert remapped == fresh
