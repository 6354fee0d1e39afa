"""Action schemas and a subset's action statistics over the API."""
import pytest

from curation.services.actions import action_mapping_accept, action_mapping_apply, action_mapping_suggest
from tests.curation.actions.trajectories import TRAJECTORIES
from tests.curation.services.test_actions import gui_source_make

pytestmark = pytest.mark.django_db


def test_action_schemas_are_listed_with_typed_parameters(reviewer_api, nobody_api, anonymous_api):
    body = reviewer_api.get("/api/action-schemas/").json()
    unified = next(s for s in body if s["name"] == "unified" and s["status"] == "active")
    scroll = next(a for a in unified["actions"] if a["name"] == "scroll")
    assert scroll["params"][0] == {"name": "direction", "type": "enum", "required": True, "choices": ["up", "down", "left", "right"]}
    assert reviewer_api.get(f"/api/action-schemas/{unified['id']}/").json()["version"] == 1
    assert nobody_api.get("/api/action-schemas/").status_code == 403
    assert anonymous_api.get("/api/action-schemas/").status_code in (401, 403)


def test_a_subsets_action_stats_give_the_distribution_and_failures(curator_api, curator, nobody_api):
    source, subset, _ = gui_source_make()
    mapping = action_mapping_suggest(source=source)
    action_mapping_accept(mapping=mapping, by=curator)
    action_mapping_apply(mapping=mapping)
    body = curator_api.get(f"/api/subsets/{subset.pk}/actions/").json()
    assert body["total"] == sum(len(t.expected) for t in TRAJECTORIES)
    assert body["valid"] == sum(1 for t in TRAJECTORIES for _, s in t.expected if s == "valid")
    assert {f["reason"] for f in body["failed"]} >= {"x=1.25 is outside [0, 1]", "missing required parameter to_coord"}
    assert next(d for d in body["distribution"] if d["name"] == "click")["total"] == 8
    assert nobody_api.get(f"/api/subsets/{subset.pk}/actions/").status_code == 403
    assert curator_api.get("/api/subsets/999999/actions/").status_code == 404
