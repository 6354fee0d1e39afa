"""In a real browser at 1280x720, the points of "a curator's day" that no other browser test covered:
a reviewer's home, jobs named and linked, source rows as chat, the audit trail, one spelling of licence,
a suggestion arriving on the source page, a command that runs its step here, and the README's first five minutes."""
import re
import tarfile
import time

import pytest
from datasets import load_dataset
from django.contrib.auth.models import User
from django.core.management import call_command

from curation.models import Job, Mapping, ReviewQueue, Source, Subset
from curation.selectors import job_latest_for
from curation.services import job_kinds
from curation.services.jobs import job_run_here
from curation.services.sources import source_ingest_start, source_register
from curation.services.subsets import subset_approve
from tests.conftest import ROLE_PASSWORD
from tests.curation.ingest.makers import write_image, write_jsonl
from tests.curation.review.builders import sample_queue_make, spot_check_pass
from tests.factories import image_make, mapping_make, sample_make, source_make, subset_make


def _llava_source(tmp_path, name="day-llava", rows=3):
    write_image(tmp_path / "data" / "images" / "red.png")
    path = write_jsonl(tmp_path / "data" / f"{name}.jsonl", [
        {"messages": [{"role": "user", "content": f"<image>What colour is square {i}?"}, {"role": "assistant", "content": "Red."}],
         "images": ["images/red.png"]}
        for i in range(rows)
    ])
    source = source_register(name=name, location=str(path), license="CC0-1.0")
    job_run_here(job=source_ingest_start(source=source))
    return Source.objects.get(pk=source.pk)


def _suggestion(source):
    """The mapping suggestion the ingest queued (no worker runs here: the test runs it when it wants)."""
    return job_latest_for(target=source, kind=job_kinds.SUGGEST_MAPPING.key)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_reviewers_home_is_their_queues_and_start_opens_the_first_item(login_small, live_server, reviewer):
    queue, _ = sample_queue_make(count=5)
    page = login_small(reviewer)
    mine = page.locator("#my-queues")
    assert mine.locator("h2").inner_text() == "5 items wait for you"
    box = mine.bounding_box()
    assert box is not None and box["y"] < 720, "the queues are the first thing a reviewer sees"
    assert "Dashboard" not in page.locator("main h1").inner_text()
    mine.locator("a.button", has_text="Start").click()
    page.wait_for_url(f"{live_server.url}/review/queues/{queue.pk}/")
    assert page.locator("#review-current .item-position").inner_text() == "Item 1 of 5"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_job_is_named_for_what_it_acts_on_links_to_it_and_shows_its_result_as_text(login_small, live_server, curator, tmp_path):
    source = _llava_source(tmp_path, name="my-llava-5")
    page = login_small(curator)
    link = page.locator("main a", has_text="my-llava-5").filter(has_text="Ingest")
    link.first.click()
    page.wait_for_url(f"{live_server.url}/jobs/*/")
    assert "my-llava-5" in page.locator("h1").inner_text() and "Ingest" in page.locator("h1").inner_text()
    assert page.locator("#job-target").get_attribute("href") == f"/sources/{source.pk}/"
    result = page.locator(".job-result").inner_text()
    assert result and not re.search(r"[{}\[\]]|'\w+':", result), result  # lines a person reads, not a Python dict
    page.click("#job-target")
    page.wait_for_url(f"{live_server.url}/sources/{source.pk}/")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_source_rows_are_the_chat_they_hold_and_the_raw_json_is_one_toggle_away(login_small, live_server, curator, tmp_path):
    source = _llava_source(tmp_path)
    page = login_small(curator)
    page.goto(f"{live_server.url}/sources/{source.pk}/")
    # Before any mapping the page offers it on the mapping line; a suggestion written meanwhile shows up there.
    line = page.locator("#mapping-line")
    assert "None yet" in line.inner_text() and "a suggestion is being written" in line.inner_text()
    job_run_here(job=_suggestion(source))
    line.filter(has_text="Version 1").wait_for(timeout=10_000)
    assert "being written" not in line.inner_text()

    page.reload()
    first = page.locator("#source-rows tr.source-row").first
    assert first.locator(".chat .user").first.inner_text().endswith("What colour is square 0?")
    assert first.locator(".chat .assistant").first.inner_text() == "Red."
    assert first.locator("img.thumb").count() == 1
    raw = first.locator("details.raw-json pre")
    assert not raw.is_visible()
    first.locator("details.raw-json summary").click()
    assert raw.is_visible() and '"messages"' in raw.inner_text()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_audit_trail_shows_a_readable_diff_verdict_choices_and_names_of_things(login_small, live_server, curator, reviewer):
    subset = subset_make(name="Audited charts")
    source = source_make(name="audited-src", license="CC0-1.0")
    mapping = mapping_make(source=source, subset=subset)
    for i in range(2):
        sample_make(subset=subset, source=source, mapping=mapping, images=[image_make()], row_number=i,
                    turns=[{"user": f"Value {i}?", "assistant": str(i)}])
    spot_check_pass(subset=subset, reviewer=reviewer)
    subset_approve(subset=subset, by=curator)
    page = login_small(curator)
    page.goto(f"{live_server.url}/audit/")
    row = page.locator("tr[data-decision]", has_text="approve").first
    diff = row.locator("td.diff")
    assert diff.locator("del").count() >= 1 and diff.locator("ins").count() >= 1
    assert "{" not in diff.inner_text(), diff.inner_text()
    assert subset.name in row.locator("a.target").inner_text()
    verdicts = page.locator("#audit-filter select[name=verdict] option").all_inner_texts()
    assert "approve" in verdicts and "accept" in verdicts
    kinds = page.locator("#audit-filter select[name=target_type] option").all_inner_texts()
    assert not [k for k in kinds if "." in k or "|" in k or "_" in k], kinds  # 'subset', not 'curation | subset'


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_licence_is_spelt_one_way_on_every_page_a_person_reads(login_small, live_server, curator, tmp_path):
    source = _llava_source(tmp_path)
    queue, samples = sample_queue_make(count=2)
    seen = []
    page = login_small(curator)
    for url in ("/sources/new/", f"/sources/{source.pk}/", f"/subsets/{samples[0].subset_id}/", "/subsets/", "/benchmarks/",
                "/exports/new/"):
        page.goto(f"{live_server.url}{url}")
        page.wait_for_load_state("networkidle")
        text = page.locator("main").inner_text()
        assert not re.search(r"\blicense", text, re.IGNORECASE), (url, re.findall(r".{0,30}\blicense.{0,30}", text, re.IGNORECASE))
        seen.append("licence" in text.lower())
    assert all(seen[:3]), seen  # the form, the source page and the subset page speak of it, spelt one way


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_apply_mapping_accept_runs_the_apply_here_and_the_subset_is_not_left_blocked(login_small, live_server, curator, tmp_path):
    source = _llava_source(tmp_path, name="cmd-llava")
    job_run_here(job=_suggestion(source))
    call_command("apply_mapping", source.name, "--accept", "--by", curator.username)
    subset = Subset.objects.filter(samples__source=source).distinct().get()
    assert not Job.objects.filter(kind=job_kinds.APPLY_MAPPING.key, state__in=["queued", "running"]).exists()
    page = login_small(curator)
    page.goto(f"{live_server.url}/subsets/{subset.pk}/")
    assert page.locator("#pipeline tr[data-stage='mapped']").get_attribute("data-state") == "done"
    assert "3" in page.locator("#pipeline tr[data-stage='ingested']").inner_text()
    assert not page.locator("#pipeline [data-state='running']").count()


@pytest.mark.browser
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_readmes_first_five_minutes(celery_worker_real, login_small, live_server, tmp_path, roles):
    """Sign in as curator, accept the demo's mapping, queue a spot-check, review it as reviewer, approve, export, load."""
    call_command("demo_load")
    llava = Source.objects.get(name="demo-llava")
    for _ in range(240):
        if Mapping.objects.filter(source=llava).exists() and Source.objects.get(pk=llava.pk).status == "ingested":
            break
        time.sleep(0.5)
    # The demo users, with the password the sign-in fixture types (the command printed random ones).
    curator, reviewer = User.objects.get(username="curator"), User.objects.get(username="reviewer")
    for user in (curator, reviewer):
        user.set_password(ROLE_PASSWORD)
        user.save()

    page = login_small(curator)
    page.click("nav >> text=Sources")
    page.click("text=demo-llava")
    page.click("#mapping-link")
    page.locator("button", has_text="Accept").first.click()
    page.locator("#apply-progress .job-progress[data-state=succeeded]").wait_for(timeout=60_000)
    subset = Subset.objects.filter(samples__source=llava).distinct().get()

    page.click("nav >> text=Subsets")
    page.click(f"text={subset.name}")
    page.locator(f"#subset-review-{subset.pk} button[type=submit]").first.click()
    page.wait_for_function("() => document.querySelector(\"#pipeline tr[data-stage='spot_check']\").dataset.state === 'needs_review'",
                           timeout=30_000)
    queue = ReviewQueue.objects.get(subset=subset, kind="sample")

    page = login_small(reviewer)
    page.click("nav >> text=My queue")
    page.locator(f"tr[data-queue='{queue.pk}'] a.button", has_text="Start").click()
    for done in range(1, subset.sample_count + 1):
        page.locator("#review-current article.review-item").wait_for()
        page.keyboard.press("a")
        # One decision at a time: the page counts it before the next key is pressed (a key pressed mid-request is ignored).
        page.wait_for_function(f"() => document.getElementById('review-session-count').textContent === '{done}'")
    page.locator("#review-current [data-empty]").wait_for(timeout=30_000)

    page = login_small(curator)
    page.goto(f"{live_server.url}/subsets/{subset.pk}/")
    page.click("#approve")
    page.locator("#approval .msg-success").wait_for()
    page.click("#export-subset")
    page.check("input[name=format][value=parquet]")
    page.click("#create-export")
    page.locator("#export-status[data-state=succeeded]").wait_for(timeout=60_000)
    with page.expect_download() as info:
        page.click("#download-archive")
    archive = tmp_path / info.value.suggested_filename
    info.value.save_as(archive)
    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path / "out", filter="data")
    load = page.locator("#load-command").inner_text()
    folder, name = re.search(r'load_dataset\("([^"]+)", "([^"]+)"\)', load).groups()
    loaded = load_dataset(str(tmp_path / "out" / folder), name)
    assert loaded["train"].num_rows == subset.sample_count
