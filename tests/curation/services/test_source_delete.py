"""Deleting a source: the plan counts what goes, the deletion removes exactly that, keeps the audit trail and the
shared images, refuses while a job runs, and asks for a confirmation when approved subsets or ready exports go."""
from pathlib import Path

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command

from curation.models import (
    Decision,
    DuplicatePair,
    Export,
    HardNegative,
    Image,
    Mapping,
    Rating,
    ReviewItem,
    ReviewQueue,
    Sample,
    SampleImage,
    Source,
    SourceRow,
    Subset,
)
from curation.services import job_kinds
from curation.services.images import ImagesInUse, image_file_path, images_cleanup
from curation.services.jobs import job_create
from curation.services.review import review_decide, review_queue_create
from curation.services.review_claims import review_claim_next
from curation.services.review_fill import review_queue_fill
from curation.services.source_delete import (
    SourceBusy,
    SourceDeleteNotConfirmed,
    source_delete,
    source_delete_plan,
)
from tests.curation.ratings.makers import ratings_make
from tests.factories import export_build_now, image_make, mapping_make, sample_make, source_make, subset_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(curator, reviewer):
    """Source `doomed`: 3 rows, 2 mapping versions, subset `only-doomed` (its 3 samples, approved, exported) and
    subset `mixed` (2 of its samples beside 2 of `kept`'s, reviewed); ratings, a hard negative, a duplicate pair with
    `kept`, and one image its rows share with `kept`."""
    shared = image_make()
    doomed, kept = source_make(name="doomed"), source_make(name="kept")
    own = [image_make() for _ in range(3)]
    for i, image in enumerate(own):
        SourceRow.objects.create(source=doomed, row_number=i, data={"q": i}, image_shas=[image.sha256, shared.sha256])
    SourceRow.objects.create(source=kept, row_number=0, data={"q": 0}, image_shas=[shared.sha256])
    only = subset_make(name="only-doomed")
    mapping_make(source=doomed, subset=only, status=Mapping.Status.SUPERSEDED)
    mapping = mapping_make(source=doomed, subset=only)
    doomed_samples = [sample_make(subset=only, source=doomed, mapping=mapping, images=[own[i]], row_number=i,
                                  status=Sample.Status.ACCEPTED) for i in range(3)]
    Subset.objects.filter(pk=only.pk).update(status=Subset.Status.APPROVED, approved_at="2026-12-01T00:00Z")
    only.refresh_from_db()
    export = export_build_now(subsets=[only], format="llava_jsonl", by=curator)
    assert export.state == Export.State.SUCCEEDED

    mixed = subset_make(name="mixed")
    in_mixed = [sample_make(subset=mixed, source=doomed, images=[own[i]], row_number=i) for i in range(2)]
    others = [sample_make(subset=mixed, source=kept, images=[shared], row_number=i) for i in range(2)]
    queue = review_queue_create(kind="sample", subset=mixed, by=curator)
    review_queue_fill(queue=queue, seed=0)
    while (item := review_claim_next(queue=queue, user=reviewer)) is not None:
        review_decide(item_id=item.pk, user=reviewer, data={"verdict": "accept"})
    ratings_make(in_mixed[0], formatting=[4])
    ratings_make(others[0], formatting=[5])
    HardNegative.objects.create(
        subset=mixed, sample=in_mixed[0], turn_index=0, positive="A red square.", phase="attribute", fact="A red square.",
        slot=0, text="A blue square.", changes=[], attribute="colour", level="hard", engine_name="builtin",
        engine_version="1", agent_verdict="passed", visual_check="reviewer",
    )
    DuplicatePair.objects.create(kind="duplicate", a_sample=others[0], a_image=shared, b_sample=in_mixed[1],
                                 b_image=own[1], similarity=0.97, engine="sscd")
    return {"doomed": doomed, "kept": kept, "only": only, "mixed": mixed, "export": export, "shared": shared,
            "own": own, "others": others, "doomed_samples": doomed_samples}


def test_the_plan_counts_and_names_what_goes_and_what_stays(world):
    plan = source_delete_plan(source=world["doomed"])

    assert (plan.rows, plan.mappings, plan.samples) == (3, 2, 5)
    assert [(loss.subset.name, loss.samples, loss.other_samples, loss.goes) for loss in plan.subsets] == [
        ("mixed", 2, 2, False), ("only-doomed", 3, 0, True)]
    assert (plan.ratings, plan.hard_negatives, plan.duplicate_pairs, plan.leak_pairs) == (1, 1, 1, 0)
    assert plan.review_items == 2  # the two items about doomed's samples in `mixed`; kept's two stay
    assert plan.decisions_kept == 2  # the reviewer's decisions about doomed's samples: kept, never deleted
    assert plan.exports == [world["export"]] and plan.images_kept == 4
    assert plan.needs_confirmation and plan.confirm_because == [
        "approved subset only-doomed", f"ready export export {world['export'].pk}"]
    assert plan.running_jobs == []


def test_deleting_without_confirmation_is_refused_with_the_plan_and_changes_nothing(world, curator):
    with pytest.raises(SourceDeleteNotConfirmed) as caught:
        source_delete(source=world["doomed"], by=curator)
    assert caught.value.status == 409 and "only-doomed" in caught.value.message
    assert caught.value.extra["samples"] == 5 and caught.value.extra["needs_confirmation"] is True
    assert Source.objects.filter(name="doomed").exists() and Sample.objects.count() == 7


def test_a_confirmed_delete_removes_what_the_plan_said_and_keeps_the_rest(world, curator, django_capture_on_commit_callbacks):
    doomed, export = world["doomed"], world["export"]
    export_folder = Path(image_file_path(image=world["shared"])).parents[3] / "exports" / str(export.pk)
    assert export_folder.is_dir()
    reviewer_decisions = Decision.objects.exclude(verdict__in=["delete", "reopen"]).count()

    with django_capture_on_commit_callbacks(execute=True):
        source_delete(source=doomed, by=curator, confirm=True)

    assert not Source.objects.filter(name="doomed").exists()
    assert not SourceRow.objects.exclude(source=world["kept"]).exists()
    assert not Mapping.objects.exists()
    assert not Subset.objects.filter(name="only-doomed").exists()
    mixed = Subset.objects.get(name="mixed")
    assert mixed.sample_count == 2 and set(Sample.objects.values_list("source__name", flat=True)) == {"kept"}
    assert ReviewItem.objects.filter(subset=mixed).count() == 2 and ReviewQueue.objects.count() == 1
    assert Rating.objects.count() == 1 and not HardNegative.objects.exists() and not DuplicatePair.objects.exists()
    assert not Export.objects.filter(pk=export.pk).exists()
    assert not export_folder.exists()  # the export's files went with it, once the transaction committed
    # The audit trail keeps every earlier decision and records the deletion with what went.
    assert Decision.objects.exclude(verdict__in=["delete", "reopen"]).count() == reviewer_decisions
    record = Decision.objects.get(verdict="delete", target_type=ContentType.objects.get_for_model(Source))
    assert record.actor == curator and record.before["name"] == "doomed" and record.after is None
    assert record.before["deleted_with_it"]["samples"] == 5 and record.before["deleted_with_it"]["exports"][0]["id"] == export.pk
    # Images stay stored (shared by content); the clean-up removes those nothing refers to any more.
    assert Image.objects.count() == 4 and SampleImage.objects.count() == 2
    own_files = [image_file_path(image=i) for i in world["own"]]
    assert images_cleanup(dry_run=True) == 3 and all(f.exists() for f in own_files)
    assert images_cleanup() == 3
    assert list(Image.objects.values_list("pk", flat=True)) == [world["shared"].pk]
    assert not any(f.exists() for f in own_files) and image_file_path(image=world["shared"]).exists()


def test_an_approved_subset_that_keeps_other_samples_is_reopened_with_a_decision(world, curator):
    mixed = world["mixed"]
    Subset.objects.filter(pk=mixed.pk).update(status=Subset.Status.APPROVED, approved_at="2026-12-01T00:00Z")

    source_delete(source=world["doomed"], by=curator, confirm=True)

    mixed.refresh_from_db()
    assert mixed.status == Subset.Status.DRAFT
    reopen = Decision.objects.get(verdict="reopen", target_id=str(mixed.pk))
    assert reopen.reason == "source doomed deleted" and reopen.actor == curator


def test_a_source_with_nothing_approved_is_deleted_without_confirmation(curator):
    source = source_make(name="plain")
    SourceRow.objects.create(source=source, row_number=0, data={})
    subset = subset_make(name="draft")
    sample_make(subset=subset, source=source)

    plan = source_delete(source=source, by=curator)

    assert not plan.needs_confirmation and not Source.objects.filter(name="plain").exists()
    assert not Subset.objects.filter(name="draft").exists()


@pytest.mark.parametrize("on", ["source", "mapping", "subset", "export"])
def test_an_unfinished_job_on_the_source_or_what_goes_with_it_blocks_the_delete(world, curator, on):
    target = {"source": world["doomed"], "mapping": Mapping.objects.filter(source=world["doomed"]).first(),
              "subset": world["mixed"], "export": world["export"]}[on]
    job = job_create(kind=job_kinds.INGEST.key, target=target)

    with pytest.raises(SourceBusy) as caught:
        source_delete(source=world["doomed"], by=curator, confirm=True)

    assert caught.value.status == 409 and f"#{job.pk}" in caught.value.message and caught.value.extra["running_jobs"] == [
        {"id": job.pk, "kind": "ingest", "state": "queued"}]
    assert Source.objects.filter(name="doomed").exists()


def test_the_image_cleanup_waits_for_ingests(curator):
    job_create(kind=job_kinds.INGEST.key, target=source_make())
    with pytest.raises(ImagesInUse):
        images_cleanup()


def test_the_command_shows_edits_and_deletes_through_the_same_services(world, curator, capsys):
    call_command("source", "show", "doomed")
    shown = capsys.readouterr().out
    assert "5 samples" in shown and "subset only-doomed (approved): 3 samples; goes" in shown and "needs --confirm" in shown

    call_command("source", "edit", "kept", "--license", "MIT", "--by", curator.username)
    assert Source.objects.get(name="kept").license == "MIT"

    with pytest.raises(CommandError, match="Confirm to go ahead"):
        call_command("source", "delete", "doomed", "--by", curator.username)
    with pytest.raises(CommandError, match="--by USER"):
        call_command("source", "delete", "doomed", "--confirm")
    call_command("source", "delete", "doomed", "--by", curator.username, "--confirm")
    assert "doomed deleted." in capsys.readouterr().out and not Source.objects.filter(name="doomed").exists()
