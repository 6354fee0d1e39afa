"""In a real browser: a curator takes a mixed GUI source from raw actions to a normalised, validated subset, exports it."""
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from django.conf import settings

from curation.models import ActionMapping, Export, SampleAction
from tests.curation.actions.trajectories import TRAJECTORIES
from tests.curation.review.builders import spot_check_pass
from tests.curation.services.test_actions import gui_source_make
from tests.factories import mapping_make


@pytest.mark.browser
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_curator_normalises_a_mixed_gui_source_and_exports_it(celery_worker_real, login, live_server, curator, reviewer):
    source, subset, samples = gui_source_make(name="gui-mixed")
    mapping_make(source=source, subset=subset)  # the chat mapping that built these samples is accepted

    page = login(curator)
    page.goto(f"{live_server.url}/actions/schemas/")
    assert "unified" in page.locator("#schema-list").inner_text()
    page.click("#gui-sources >> text=gui-mixed")
    page.wait_for_url(f"{live_server.url}/sources/{source.pk}/actions/")

    # Scan: the worker groups the raw actions by signature and proposes a rule for each; the page reloads when done.
    page.select_option("#engine", "rules")
    page.click("#suggest-actions")
    page.locator("#signatures").wait_for(timeout=30_000)
    table = page.locator("#signatures").inner_text()
    assert "pyautogui.click(_, _)" in table and "{action_type: click, x, y}" in table and "CLICK <point>" in table
    assert "mobile.swipe(from_coord=, to_coord=)" in table
    assert "ZOOM <point>" in page.locator("#unmapped-note").inner_text()
    row = page.locator("tr[data-signature='CLICK <point>']")
    assert row.locator("select[name$=-target]").input_value() == "click"
    assert row.locator("select[name$=-coords]").input_value() == "thousand"

    # Edit: COMPLETE has no answer in the source; the curator gives it a constant, then accepts.
    page.locator("tr[data-signature='COMPLETE'] input[name$=-params]").fill("answer=='done'")
    page.click("#accept-rules")
    page.locator("#apply-result").wait_for(timeout=30_000)
    accepted = ActionMapping.objects.get(source=source, status="accepted")
    assert accepted.version == 2 and accepted.rules["COMPLETE"]["params"] == {"answer": "='done'"}
    total = sum(len(t.expected) for t in TRAJECTORIES)
    assert SampleAction.objects.filter(sample__subset=subset).count() == total

    # The subset: action distribution, and the samples whose actions failed with why.
    page.click(f"a.subset-link >> text={subset.name}")
    page.locator("#action-distribution").wait_for()
    assert page.locator("#action-distribution tr[data-action=click]").inner_text().split()[:2] == ["click", "8"]
    failures = page.locator("#action-failures").inner_text()
    assert "x=1.25 is outside [0, 1]" in failures and "missing required parameter to_coord" in failures
    assert "ZOOM <point> is marked as not mappable" in failures
    valid = SampleAction.objects.filter(sample__subset=subset, state="valid").count()
    assert page.locator("#actions-valid").inner_text() == str(valid)

    # A reviewer spot-checks the subset (the approval policy asks for it); approve, export as Parquet.
    spot_check_pass(subset=subset, reviewer=reviewer)
    page.reload()
    page.click("#approve")
    page.locator("#approval .msg-success").wait_for()
    page.click("#export-subset")
    page.check("input[name=format][value=parquet]")
    page.check("input[name=columns][value=actions]")
    page.fill("input[name=name]", "GUI actions")
    page.click("#create-export")
    page.wait_for_url(f"{live_server.url}/exports/*/")
    page.locator("#export-status[data-state=succeeded]").wait_for(timeout=30_000)
    export = Export.objects.get()
    (path,) = sorted((Path(settings.MEDIA_ROOT) / "exports" / str(export.pk)).rglob("*.parquet"))
    rows = pq.read_table(path).to_pylist()
    assert len(rows) == len(TRAJECTORIES)
    exported = sorted(t["assistant"] for r in rows for t in r["texts"])
    expected = sorted("\n".join(c for c, _ in actions) for t in TRAJECTORIES for _, actions in t.steps)
    expected = [e.replace("final_answer()", 'final_answer(answer="done")') for e in expected]
    assert exported == sorted(expected)
    structured = [a for r in rows for turn in json.loads(r["actions"]) for a in turn]
    assert len(structured) == total and sum(a["state"] == "valid" for a in structured) == valid
