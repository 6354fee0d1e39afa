"""Templates take labels from the registries (annotate/templatetags/labels.py); models keep only the key."""
from django.template import Context, Template

from curation.models import Job, ReviewQueue


def _render(text: str, **context) -> str:
    return Template("{% load labels %}" + text).render(Context(context))


def test_labels_come_from_the_job_kind_review_kind_and_export_format_registries():
    assert _render("{{ k|job_kind_label }}", k="ingest") == "Ingest source"
    assert _render("{{ k|review_kind_label }}", k="sample") == "Sample review"
    assert _render("{{ f|export_format_label }}", f="parquet") == "Parquet (FineVision layout)"


def test_a_key_no_longer_registered_shows_as_it_is_stored():
    assert _render("{{ k|job_kind_label }} {{ k|review_kind_label }} {{ k|export_format_label }}", k="gone") == "gone gone gone"


def test_models_keep_no_copy_of_the_registries():
    assert not Job._meta.get_field("kind").choices
    assert not ReviewQueue._meta.get_field("kind").choices
    assert not hasattr(Job, "Kind") and not hasattr(ReviewQueue, "Kind")
