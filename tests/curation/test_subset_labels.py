"""Who wrote a source's labels and its task name travel to its subsets: the list shows and filters on them,
and an export's manifest carries them per subset and per source."""
import pytest

from tests.factories import approved_subset_make, export_build_now, source_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def subsets():
    human = approved_subset_make(name="vqav2", source=source_make(label_origin="human", task_name="vqa"))
    model = approved_subset_make(name="llava-gpt4", source=source_make(label_origin="model", task_name="vqa"))
    captions = approved_subset_make(name="coco", source=source_make(label_origin="human", task_name="captioning"))
    return human, model, captions


def _listed(client, query: str) -> set[str]:
    html = client.get(f"/subsets/{query}").content.decode()
    return {name for name in ("vqav2", "llava-gpt4", "coco") if f">{name}</a>" in html}


def test_the_subset_list_shows_and_filters_on_label_origin_and_task(curator_client, subsets):
    html = curator_client.get("/subsets/").content.decode()
    assert 'class="subset-labels">Human-written</td>' in html and 'class="subset-labels">Model-generated</td>' in html
    assert 'class="subset-tasks">captioning</td>' in html
    assert _listed(curator_client, "") == {"vqav2", "llava-gpt4", "coco"}
    assert _listed(curator_client, "?labels=human") == {"vqav2", "coco"}
    assert _listed(curator_client, "?labels=model") == {"llava-gpt4"}
    assert _listed(curator_client, "?labels=human&task=vqa") == {"vqav2"}
    assert _listed(curator_client, "?task=captioning") == {"coco"}


def test_an_export_manifest_carries_label_origin_and_task(curator, subsets):
    human, model, _ = subsets
    export = export_build_now(subsets=[human, model], format="llava_jsonl", by=curator)
    assert export.state == "succeeded", export.job.message if export.job else ""
    by_name = {s["name"]: s for s in export.manifest["subsets"]}
    assert (by_name["vqav2"]["label_origins"], by_name["vqav2"]["tasks"]) == (["human"], ["vqa"])
    assert (by_name["llava-gpt4"]["label_origins"], by_name["llava-gpt4"]["tasks"]) == (["model"], ["vqa"])
    assert {(s["label_origin"], s["task"]) for s in export.manifest["sources"]} == {("human", "vqa"), ("model", "vqa")}
