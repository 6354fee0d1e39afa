"""Action pages: who may see and decide, the signature table, edit / accept / reject, the subset panel, schema edits."""
import json

import pytest
from django.urls import reverse

from curation.models import ActionMapping, ActionSchema, Job, SampleAction
from curation.services import job_kinds
from curation.services.actions import action_mapping_suggest, action_schema_active
from tests.curation.services.test_actions import gui_source_make
from workers.tasks.actions import apply_action_mapping, suggest_action_mapping

pytestmark = pytest.mark.django_db


def test_reviewers_see_the_pages_but_only_curators_decide(role_clients):
    source, subset, _ = gui_source_make()
    mapping = action_mapping_suggest(source=source)
    page = reverse("action_mapping_page", args=[source.pk])
    assert role_clients["anonymous"].get(page).status_code == 302
    assert role_clients["nobody"].get(page).status_code == 403
    assert role_clients["reviewer"].get(page).status_code == 200
    assert role_clients["reviewer"].get(reverse("subset_actions_panel", args=[subset.pk])).status_code == 200
    assert role_clients["reviewer"].get(reverse("action_schema_list")).status_code == 200
    for url in (reverse("action_mapping_suggest", args=[source.pk]),
                reverse("action_mapping_save", args=[source.pk, mapping.version]),
                reverse("action_mapping_reject", args=[source.pk, mapping.version]),
                reverse("action_schema_edit", args=[action_schema_active().pk])):
        assert role_clients["reviewer"].post(url, {"reason": "x"}).status_code == 403
    assert ActionMapping.objects.get(pk=mapping.pk).status == "suggested"


def test_a_curator_suggests_edits_accepts_and_sees_the_subset_panel(curator_client, curator):
    source, subset, _ = gui_source_make()
    response = curator_client.post(reverse("action_mapping_suggest", args=[source.pk]), {"engine": "rules"})
    assert response.status_code == 302
    job = Job.objects.get(kind=job_kinds.SUGGEST_ACTIONS.key)
    suggest_action_mapping(job.pk)
    mapping = ActionMapping.objects.get(source=source)
    page = curator_client.get(reverse("action_mapping_page", args=[source.pk])).content.decode()
    assert "{action_type: click, x, y}" in page and "CLICK &lt;point&gt;" in page and "Cannot map 1" in page

    index = next(i for i, s in enumerate(mapping.signatures) if s["signature"] == "COMPLETE")
    form = {f"rule-{i}-{k}": v for i, s in enumerate(mapping.signatures)
            for k, v in (("target", mapping.rules[s["signature"]]["target"] or ""),
                         ("params", ", ".join(f"{a}={b}" for a, b in mapping.rules[s["signature"]]["params"].items())),
                         ("coords", mapping.rules[s["signature"]]["coords"]))}
    form[f"rule-{index}-params"] = "answer=='done'"
    form["decision"] = "accept"
    response = curator_client.post(reverse("action_mapping_save", args=[source.pk, mapping.version]), form)
    assert response.status_code == 302
    accepted = ActionMapping.objects.get(source=source, status="accepted")
    assert accepted.version == 2 and accepted.rules["COMPLETE"]["params"] == {"answer": "='done'"}
    apply_action_mapping(Job.objects.get(kind=job_kinds.APPLY_ACTIONS.key).pk)
    assert SampleAction.objects.filter(sample__subset=subset, name="final_answer", state="valid").count() == 2

    panel = curator_client.get(reverse("subset_actions_panel", args=[subset.pk])).content.decode()
    assert 'id="action-distribution"' in panel and "x=1.25 is outside [0, 1]" in panel
    detail = curator_client.get(reverse("subset_detail", args=[subset.pk])).content.decode()
    assert reverse("subset_actions_panel", args=[subset.pk]) in detail


def test_a_malformed_parameter_edit_is_refused_with_its_reason(curator_client):
    source, _, _ = gui_source_make()
    mapping = action_mapping_suggest(source=source)
    response = curator_client.post(reverse("action_mapping_save", args=[source.pk, mapping.version]),
                                   {"rule-0-target": "click", "rule-0-params": "x", "rule-0-coords": "pixels", "decision": "save"},
                                   follow=True)
    assert "write parameter=reference" in response.content.decode()
    assert ActionMapping.objects.filter(source=source).count() == 1


def test_schema_edits_save_a_new_version_or_show_every_problem(curator_client):
    schema = action_schema_active()
    url = reverse("action_schema_edit", args=[schema.pk])
    bad = curator_client.post(url, {"spec_json": json.dumps({"actions": [{"name": "click", "params": [{"name": "x", "type": "px"}]}]})})
    assert bad.status_code == 400 and "type must be one of" in bad.content.decode()
    spec = json.loads(curator_client.get(reverse("action_schema_detail", args=[schema.pk])).context["spec_json"])
    spec["actions"] = [a for a in spec["actions"] if a["name"] != "right_click"]
    response = curator_client.post(url, {"spec_json": json.dumps(spec), "note": "no right click on mobile"})
    assert response.status_code == 302
    assert ActionSchema.objects.get(name="unified", status="active").version == 2
