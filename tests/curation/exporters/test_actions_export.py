"""Exports of GUI subsets: canonical calls in the turns, structured actions as columns, the validation filter."""
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from django.conf import settings
from django.utils import timezone

from curation.models import Export, Subset
from curation.services.actions import action_mapping_accept, action_mapping_apply, action_mapping_suggest
from tests.curation.actions.trajectories import AGUVIS, ANDROIDCONTROL, TRAJECTORIES, Trajectory
from tests.curation.services.test_actions import gui_source_make
from tests.factories import export_build_now

pytestmark = pytest.mark.django_db


CLEAN = Trajectory(name="clean", syntax="calls", image_size=(100, 100), convention="pixels",
                   steps=(("click(50, 25)", (("click(x=0.5, y=0.25)", "valid"),)),))


def _applied_subset(curator):
    source, subset, samples = gui_source_make((*TRAJECTORIES, CLEAN))
    mapping = action_mapping_suggest(source=source)
    action_mapping_accept(mapping=mapping, by=curator)
    action_mapping_apply(mapping=mapping)
    Subset.objects.filter(pk=subset.pk).update(status="approved", approved_at=timezone.now())
    return subset, samples


def _rows(export: Export) -> list[dict]:
    (path,) = sorted((Path(settings.MEDIA_ROOT) / "exports" / str(export.pk)).rglob("*.parquet"))
    return pq.read_table(path).to_pylist()


def test_parquet_carries_canonical_turns_and_structured_actions(curator):
    subset, samples = _applied_subset(curator)
    export = export_build_now(subsets=[subset], format="parquet", by=curator, columns=["actions"])
    assert export.state == Export.State.SUCCEEDED, export.job.message
    rows = {len(r["texts"]): r for r in _rows(export)}
    android = rows[len(ANDROIDCONTROL.steps)]
    assert [t["assistant"] for t in android["texts"]][:2] == ['open_app(app_name="Clock")', "click(x=0.5, y=0.5)"]
    actions = json.loads(android["actions"])
    assert actions[1] == [{"name": "click", "params": {"x": 0.5, "y": 0.5}, "state": "valid", "reason": ""}]
    assert actions[7][0]["state"] == "invalid" and android["actions_valid"] is False
    assert android["action_names"] == [c.split("(")[0] for c, _ in ANDROIDCONTROL.expected]
    assert len(json.loads(rows[len(AGUVIS.steps)]["actions"])) == len(AGUVIS.steps)
    assert json.dumps(export.manifest).count('"invalid": 5') == 1  # the actions summary: 5 failed validation


def test_the_validation_filter_leaves_out_samples_with_failed_actions(curator):
    subset, _ = _applied_subset(curator)
    export = export_build_now(subsets=[subset], format="parquet", by=curator, columns=["actions"],
                              filters={"action_states": {"states": ["valid"]}})
    assert export.state == Export.State.SUCCEEDED, export.job.message
    # every test trajectory has a failing action: only the clean sample is left, the others are counted with why
    assert [r["actions_valid"] for r in _rows(export)] == [True]
    assert "an action invalid/unmapped" in json.dumps(export.manifest)
