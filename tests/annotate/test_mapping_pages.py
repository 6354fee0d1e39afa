"""The mapping page: suggestion and reasons, live preview from either editor, accept / reject, permissions."""
import json

import pytest

from curation.models import Decision, Job, Mapping, Sample
from curation.services import job_kinds
from curation.services.mapping import mapping_accept, mapping_suggest
from tests.curation.mapping import layouts
from workers.tasks.mapping import apply_mapping

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


@pytest.fixture
def scienceqa():
    source = layouts.source_with_rows("ScienceQA", layouts.scienceqa_records())
    return source, mapping_suggest(source=source)


def editor_post(mapping: Mapping, **overrides: object) -> dict[str, object]:
    """What the editor form posts for a version, with some fields changed."""
    spec = mapping.spec
    turns = spec["turns"]
    data: dict[str, object] = {
        "editor": "form", "version": mapping.version, "seed": 0, "base": json.dumps(spec),
        "spec_json": json.dumps(spec), "subset_name": spec["subset"]["name"], "category": spec["subset"]["category"],
        "image_columns": [i["column"] for i in spec["images"]], "image_kind": "auto", "image_base": "",
        "mode": turns["mode"], "conversation_column": "", "conversation_style": "from_value", "system": "prepend",
        "strip_image_tokens": "on", "user_template": turns["pairs"][0]["user"],
        "assistant_template": turns["pairs"][0]["assistant"], "each": "",
        "options_column": (turns.get("options") or {}).get("column", ""), "options_style": "letter",
        "answer_column": (turns.get("answer") or {}).get("column", ""),
        "answer_by": (turns.get("answer") or {}).get("by", "text"),
        "answer_format": (turns.get("answer") or {}).get("format", "text"),
        "answer_index_base": "0", "instructions": "", "filters": "",
    }
    data.update(overrides)
    return data


def test_page_shows_the_suggestion_with_confidence_reasons_and_preview(curator_client, scienceqa):
    source, mapping = scienceqa
    page = curator_client.get(f"/sources/{source.pk}/mapping/")
    html = page.content.decode()
    assert page.status_code == 200
    assert f"Version {mapping.version}" in html and "rules" in html and "0.90" in html
    assert "took column &#x27;choices&#x27; as options" in html
    assert 'hx-trigger="input changed delay:400ms' in html
    # side by side: the raw row and the sample it becomes
    assert "Which of these states is farthest north?" in html and "A. West Virginia" in html
    assert html.count('class="preview-row"') >= 3 and "hardest" in html and "first" in html
    assert 'id="accept-button"' in html


def test_preview_follows_the_form_and_refreshes_the_json_editor(curator_client, scienceqa):
    source, mapping = scienceqa
    data = editor_post(mapping, user_template="Q: {question}\n{options}")
    response = curator_client.post(f"/sources/{source.pk}/mapping/preview/", data, headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "Q: Which of these states is farthest north?" in html
    assert 'id="id_spec_json" spellcheck="false" hx-swap-oob="true"' in html
    assert "Q: {question}" in html  # the JSON editor now shows the edited template


def test_preview_follows_the_json_editor_and_refreshes_the_form(curator_client, scienceqa):
    source, mapping = scienceqa
    spec = json.loads(json.dumps(mapping.spec))
    spec["turns"]["answer"]["format"] = "letter"
    data = editor_post(mapping, editor="json", spec_json=json.dumps(spec))
    html = curator_client.post(f"/sources/{source.pk}/mapping/preview/", data, headers=HTMX).content.decode()
    assert '<div class="assistant">A</div>' in html
    assert 'id="spec-form-fields"' in html and 'hx-swap-oob="true"' in html


def test_preview_lists_spec_errors_for_unknown_columns_and_bad_templates(curator_client, scienceqa):
    source, mapping = scienceqa
    data = editor_post(mapping, user_template="{quesiton} {options", assistant_template="{answer}")
    html = curator_client.post(f"/sources/{source.pk}/mapping/preview/", data, headers=HTMX).content.decode()
    assert 'id="spec-errors"' in html and "bad template" in html
    spec = json.loads(json.dumps(mapping.spec))
    spec["turns"]["pairs"][0]["user"] = "{quesiton}"
    data = editor_post(mapping, editor="json", spec_json=json.dumps(spec))
    html = curator_client.post(f"/sources/{source.pk}/mapping/preview/", data, headers=HTMX).content.decode()
    assert "{quesiton} is not a column of this source" in html
    html = curator_client.post(f"/sources/{source.pk}/mapping/preview/", editor_post(mapping, editor="json", spec_json="{"),
                               headers=HTMX).content.decode()
    assert "the JSON is not valid" in html


def test_accepting_an_unchanged_suggestion_accepts_that_version_and_queues_its_apply(curator_client, curator, scienceqa):
    source, mapping = scienceqa
    response = curator_client.post(f"/sources/{source.pk}/mapping/accept/", editor_post(mapping))
    assert response.status_code == 302
    mapping.refresh_from_db()
    assert mapping.status == Mapping.Status.ACCEPTED and mapping.decided_by == curator
    assert Mapping.objects.filter(source=source).count() == 1
    assert Job.objects.filter(kind=job_kinds.APPLY_MAPPING.key, target_id=str(mapping.pk)).exists()
    assert Decision.objects.filter(target_id=str(mapping.pk), verdict="accept", actor=curator).exists()


def test_accepting_after_an_edit_saves_a_new_version_and_accepts_it(curator_client, curator, scienceqa):
    source, mapping = scienceqa
    data = editor_post(mapping, subset_name="scienceqa_letters", answer_format="letter")
    curator_client.post(f"/sources/{source.pk}/mapping/accept/", data)
    edited = Mapping.objects.get(source=source, version=mapping.version + 1)
    assert edited.status == Mapping.Status.ACCEPTED and edited.engine == ""
    assert edited.spec["turns"]["answer"]["format"] == "letter" and edited.subset.name == "scienceqa_letters"
    assert Decision.objects.filter(target_id=str(edited.pk), verdict="edit").exists()
    mapping.refresh_from_db()
    assert mapping.status == Mapping.Status.SUGGESTED  # the original suggestion stays in the history


def test_accepting_an_invalid_edit_shows_the_errors_and_changes_nothing(curator_client, scienceqa):
    source, mapping = scienceqa
    response = curator_client.post(f"/sources/{source.pk}/mapping/accept/", editor_post(mapping, answer_column="nope"))
    assert response.status_code == 400
    response = curator_client.post(f"/sources/{source.pk}/mapping/accept/",
                                   editor_post(mapping, user_template="{nope}"))
    assert response.status_code == 400 and b"{nope} is not a column" in response.content
    assert Mapping.objects.filter(source=source).count() == 1 and not Job.objects.filter(kind="apply_mapping").exists()


def test_rejecting_needs_a_reason_and_records_it(curator_client, curator, scienceqa):
    source, mapping = scienceqa
    curator_client.post(f"/sources/{source.pk}/mapping/{mapping.version}/reject/", {"reason": " "})
    mapping.refresh_from_db()
    assert mapping.status == Mapping.Status.SUGGESTED
    curator_client.post(f"/sources/{source.pk}/mapping/{mapping.version}/reject/", {"reason": "hint is dropped"})
    mapping.refresh_from_db()
    assert mapping.status == Mapping.Status.REJECTED and mapping.reject_reason == "hint is dropped"
    decision = Decision.objects.get(target_id=str(mapping.pk), verdict="reject")
    assert decision.actor == curator and decision.reason == "hint is dropped"


def test_suggest_button_queues_a_suggestion_job(curator_client, scienceqa):
    source, _ = scienceqa
    curator_client.post(f"/sources/{source.pk}/mapping/suggest/", {"engine": "rules"})
    job = Job.objects.get(kind=job_kinds.SUGGEST_MAPPING.key)
    assert job.params == {"engine": "rules"} and job.target_id == str(source.pk)


def test_applied_samples_appear_in_the_status_partial(curator_client, curator, scienceqa):
    source, mapping = scienceqa
    job = mapping_accept(mapping=mapping, by=curator)
    apply_mapping.run(job.pk)
    html = curator_client.get(f"/sources/{source.pk}/mapping/status/", headers=HTMX).content.decode()
    assert '<span id="applied-count">3</span> samples built' in html
    assert "A. West Virginia" in html and Sample.objects.filter(source=source).count() == 3


def test_reviewer_sees_the_mapping_but_cannot_decide(reviewer_client, scienceqa):
    source, mapping = scienceqa
    page = reviewer_client.get(f"/sources/{source.pk}/mapping/")
    assert page.status_code == 200 and b'id="accept-button"' not in page.content and b"reject-form" not in page.content
    preview = reviewer_client.post(f"/sources/{source.pk}/mapping/preview/", editor_post(mapping), headers=HTMX)
    assert preview.status_code == 200
    for url in ("accept/", "save/", "suggest/", f"{mapping.version}/reject/", f"{mapping.version}/apply/"):
        assert reviewer_client.post(f"/sources/{source.pk}/mapping/{url}", editor_post(mapping)).status_code == 403
    mapping.refresh_from_db()
    assert mapping.status == Mapping.Status.SUGGESTED


@pytest.mark.parametrize("role,status", [("anonymous", 302), ("nobody", 403), ("reviewer", 200), ("curator", 200),
                                         ("admin", 200)])
def test_who_may_open_the_mapping_page(role_clients, role, status, scienceqa):
    source, _ = scienceqa
    assert role_clients[role].get(f"/sources/{source.pk}/mapping/").status_code == status


def test_a_source_without_mapping_offers_a_blank_editor(curator_client):
    source = layouts.source_with_rows("blank", layouts.textonly_records())
    html = curator_client.get(f"/sources/{source.pk}/mapping/").content.decode()
    assert "No mapping yet" in html and 'id="spec-errors"' in html  # the blank spec says what is missing


def test_accepting_the_accepted_version_unchanged_makes_no_new_version(curator_client, curator, scienceqa):
    source, mapping = scienceqa
    mapping_accept(mapping=mapping, by=curator)
    mapping.refresh_from_db()
    response = curator_client.post(f"/sources/{source.pk}/mapping/accept/", editor_post(mapping), follow=True)
    assert b"already accepted" in response.content
    assert Mapping.objects.filter(source=source).count() == 1
    assert Job.objects.filter(kind=job_kinds.APPLY_MAPPING.key).count() == 1


def test_the_mapping_page_of_a_source_with_no_rows_says_so_instead_of_offering_an_editor(curator_client, tmp_path):
    from curation.models import Source
    from curation.services.sources import source_register

    path = tmp_path / "none.jsonl"
    path.write_text('{"q": 1}\n')
    source = source_register(name="no-rows-yet", location=str(path))
    Source.objects.filter(pk=source.pk).update(status="failed", rejected_count=1)
    page = curator_client.get(f"/sources/{source.pk}/mapping/").content.decode()
    assert 'id="no-rows"' in page and "every one of its 1 records was rejected" in page
    assert 'id="mapping-editor"' not in page
