"""The demo GUI source end to end: real ingest, chat mapping, then the action mapping suggested and applied."""
import pytest
from django.conf import settings

from curation.models import Job, SampleAction
from curation.services.actions import action_mapping_accept, action_mapping_apply, action_mapping_suggest
from curation.services.mapping import mapping_accept, mapping_suggest
from curation.services.sources import source_ingest_prepare, source_register
from workers.tasks.ingest import ingest_source
from workers.tasks.mapping import apply_mapping

pytestmark = pytest.mark.django_db


def test_the_demo_gui_source_normalises_with_the_suggested_rules(curator):
    source = source_register(name="demo gui", location=str(settings.FINECURATE_DEMO_DIR / "gui_demo.jsonl"), license="CC0-1.0")
    job, _ = source_ingest_prepare(source=source)
    ingest_source.run(job.pk)
    apply_job = mapping_accept(mapping=mapping_suggest(source=source), by=curator)
    apply_mapping.run(apply_job.pk)
    apply_job.refresh_from_db()
    assert apply_job.state == Job.State.SUCCEEDED, apply_job.message

    mapping = action_mapping_suggest(source=source)
    assert mapping.turns_scanned == 21
    action_mapping_accept(mapping=mapping, by=curator)
    result = action_mapping_apply(mapping=mapping)
    assert (result["actions"], result["valid"], result["invalid"], result["unmapped"]) == (21, 19, 2, 0)
    failed = dict(SampleAction.objects.exclude(state="valid").values_list("canonical", "reason"))
    # moveTo(1500, 900) alone would read as [0, 1000]; it follows the most other pyautogui calls: pixels
    assert failed == {"move_mouse(x=1.1719, y=1.125)": "x=1.1719 is outside [0, 1]; y=1.125 is outside [0, 1]",
                      "final_answer()": "missing required parameter answer"}
    assert SampleAction.objects.get(raw="CLICK <point>[[870,240]]</point>").params == {"x": 0.87, "y": 0.24}
    assert SampleAction.objects.get(raw='{"action_type": "click", "x": 470, "y": 165}').params == {"x": 0.8704, "y": 0.141}
