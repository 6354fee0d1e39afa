"""The real ingest of the three demo files, then suggest -> accept -> apply without edits: the ingest contract holds."""
import pytest
from django.conf import settings

from curation.models import Job, Sample, SourceRow
from curation.services.mapping import mapping_accept, mapping_suggest
from curation.services.sources import source_ingest_prepare, source_register
from workers.tasks.ingest import ingest_source
from workers.tasks.mapping import apply_mapping

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("file,style", [("llava_demo.json", "from_value"), ("cauldron_demo.parquet", "user_assistant"),
                                        ("sharegpt_demo.jsonl", "role_content")])
def test_a_demo_file_goes_from_ingest_to_samples_without_edits(file, style, curator):
    source = source_register(name=f"demo {file}", location=str(settings.FINECURATE_DEMO_DIR / file), license="CC0-1.0")
    job, _ = source_ingest_prepare(source=source)
    ingest_source.run(job.pk)
    source.refresh_from_db()
    assert source.row_count > 0

    mapping = mapping_suggest(source=source)
    assert mapping.engine == "rules" and mapping.spec["turns"]["style"] == style, mapping.reasons
    apply_job = mapping_accept(mapping=mapping, by=curator)
    apply_mapping.run(apply_job.pk)
    apply_job.refresh_from_db()
    assert apply_job.state == Job.State.SUCCEEDED and apply_job.error_count == 0, apply_job.message

    for sample in Sample.objects.filter(source=source).order_by("row_number"):
        row = SourceRow.objects.get(source=source, row_number=sample.row_number)
        assert [si.image_id for si in sample.sample_images.order_by("position")] == row.image_shas
        assert sample.image_count >= 1 and sample.turns
        assert all(t["user"] and t["assistant"] and "<image>" not in t["user"] for t in sample.turns)
    assert Sample.objects.filter(source=source).count() == source.row_count
