"""Creating exports: only approved subsets, validated format, filters and columns; a job is queued."""
import pytest

from curation.exporters.registry import ExportConfigError
from curation.models import Export
from curation.services import job_kinds
from curation.services.exports import export_create
from tests.factories import approved_subset_make, subset_make

pytestmark = pytest.mark.django_db


def test_an_export_of_approved_subsets_is_queued_with_its_job_and_cleaned_filters(curator, django_capture_on_commit_callbacks):
    subset = approved_subset_make(samples=1)

    with django_capture_on_commit_callbacks() as callbacks:
        export = export_create(subsets=[subset], format="parquet", by=curator,
                               filters={"categories": {"categories": ["ocr", "math", "ocr"]}}, columns=["provenance"])

    assert export.state == Export.State.QUEUED and list(export.subsets.all()) == [subset]
    assert export.filters == {"decision": {"statuses": ["accepted"]}, "categories": {"categories": ["math", "ocr"]}}
    assert export.columns == ["provenance"]
    assert export.job.kind == job_kinds.EXPORT.key and export.job.target == export and export.job.created_by == curator
    assert len(callbacks) == 1  # the task is sent once the transaction commits


def test_draft_subsets_cannot_be_exported(curator):
    draft = subset_make(name="Not yet")
    with pytest.raises(ExportConfigError, match="not approved: Not yet") as caught:
        export_create(subsets=[approved_subset_make(samples=1), draft], format="parquet", by=curator)
    assert caught.value.field == "subsets"
    assert not Export.objects.exists()


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"format": "csv"}, "format"),
        ({"format": "parquet", "columns": ["nope"]}, "columns"),
        ({"format": "parquet", "filters": {"decision": {"statuses": ["nope"]}}}, "decision.statuses"),
        ({"format": "parquet", "filters": {"decision": []}}, "decision"),
    ],
)
def test_bad_requests_are_refused_with_the_field_at_fault(curator, options, field):
    subset = approved_subset_make(samples=1)
    with pytest.raises(ExportConfigError) as caught:
        export_create(subsets=[subset], by=curator, **options)
    assert caught.value.field == field


def test_an_export_needs_at_least_one_subset(curator):
    with pytest.raises(ExportConfigError, match="at least one subset"):
        export_create(subsets=[], format="parquet", by=curator)
