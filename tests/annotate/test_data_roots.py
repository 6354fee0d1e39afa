"""The data-root browser of the source form: curators only, folders first, hidden entries left out, paged, and
nothing outside the allowed roots listed or told apart (absolute paths, .., links out, resolved escapes)."""
import os
import re

import pytest

from curation.selectors_data_roots import FOLDER_PAGE_SIZE, data_root_folder

pytestmark = pytest.mark.django_db

URL = "/sources/data-roots/"
SECRET = "secret-outside-the-roots.txt"


@pytest.fixture
def tree(tmp_path, settings):
    """One allowed root holding folders, files, a hidden file and links in and out; a folder outside it."""
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    (root / "coco" / "train2014").mkdir(parents=True)
    (root / "coco" / "captions.json").write_text('[{"id": 1}]')
    (root / "coco" / "train2014" / "a.jpg").write_bytes(b"\xff\xd8")
    (root / "vqa.jsonl").write_text('{"q": "a"}\n' * 10)
    (root / "zeta").mkdir()
    (root / ".hidden.jsonl").write_text("{}\n")
    (root / ".cache").mkdir()
    outside.mkdir()
    (outside / SECRET).write_text("no")
    (outside / "nested").mkdir()
    os.symlink(outside, root / "link-out")
    os.symlink(outside / SECRET, root / "file-link-out.txt")
    os.symlink(root / "coco", root / "link-in")
    settings.FINECURATE_DATA_ROOTS = [root.resolve()]
    return root


def _names(html: str) -> list[str]:
    return re.findall(r'data-name="([^"]+)"', html)


def test_only_curators_open_the_browser(role_clients, tree):
    assert role_clients["curator"].get(URL, {"root": 0}).status_code == 200
    assert role_clients["admin"].get(URL, {"root": 0}).status_code == 200
    assert role_clients["reviewer"].get(URL, {"root": 0}).status_code == 403
    assert role_clients["nobody"].get(URL, {"root": 0}).status_code == 403
    assert role_clients["anonymous"].get(URL, {"root": 0}).status_code == 302


def test_the_roots_are_listed_with_a_browse_button(curator_client, tree):
    html = curator_client.get(URL, {"target": "location"}).content.decode()
    assert f"<code>{tree.resolve()}</code>" in html
    assert "open-root" in html


def test_a_folder_lists_folders_first_with_sizes_and_formats_and_no_hidden_entry(curator_client, tree):
    html = curator_client.get(URL, {"root": 0, "target": "location"}).content.decode()
    # Folders (and the link to a folder inside the root) first, then files, by name; no hidden entry, no link out.
    assert _names(html) == ["coco", "link-in", "zeta", "vqa.jsonl"]
    row = html[html.index('data-name="vqa.jsonl"'):]
    assert "110\xa0bytes" in row[:600] and "jsonl" in row[:600]
    assert f'data-fill-value="{tree.resolve() / "vqa.jsonl"}"' in html


def test_browsing_into_a_folder_and_through_a_link_that_stays_inside(curator_client, tree):
    html = curator_client.get(URL, {"root": 0, "path": "coco"}).content.decode()
    assert _names(html) == ["train2014", "captions.json"]
    assert f'data-fill-value="{tree.resolve() / "coco" / "captions.json"}"' in html
    linked = curator_client.get(URL, {"root": 0, "path": "link-in/train2014"}).content.decode()
    assert _names(linked) == ["a.jpg"] and "image" in linked


def test_a_folder_picker_offers_pick_on_folders_only(curator_client, tree):
    html = curator_client.get(URL, {"root": 0, "path": "coco", "kind": "folder", "target": "image_root"}).content.decode()
    assert f'data-fill-target="id_image_root" data-fill-value="{tree.resolve() / "coco" / "train2014"}"' in html
    assert f'data-fill-value="{tree.resolve() / "coco" / "captions.json"}"' not in html


@pytest.mark.parametrize("path", ["..", "../outside", "coco/../../outside", "/etc", "//etc", "link-out",
                                  "link-out/nested", "file-link-out.txt", ".cache", "coco\x00", "coco\\..\\..\\outside"])
def test_nothing_outside_the_roots_is_listed(curator_client, tree, path):
    response = curator_client.get(URL, {"root": 0, "path": path})
    assert response.status_code == 400, path
    html = response.content.decode()
    assert SECRET not in html and "nested" not in html.replace(path, "")
    assert "data-fill-value" not in html


def test_an_absolute_path_in_the_query_string_is_refused_even_inside_the_root(curator_client, tree):
    response = curator_client.get(URL, {"root": 0, "path": str(tree.resolve() / "coco")})
    assert response.status_code == 400
    assert "not an absolute path" in response.content.decode()


def test_a_root_number_that_names_no_root_is_refused(curator_client, tree):
    for root in ("1", "-1", "x", ""):
        response = curator_client.get(URL, {"root": root})
        assert response.status_code == 400, root
        assert "data-name" not in response.content.decode()


def test_the_answer_for_a_path_through_a_link_out_does_not_tell_whether_it_exists(curator_client, tree):
    there = curator_client.get(URL, {"root": 0, "path": "link-out/nested"})
    not_there = curator_client.get(URL, {"root": 0, "path": "link-out/nowhere"})
    assert there.status_code == not_there.status_code == 400
    assert there.content.decode().replace("nested", "X") == not_there.content.decode().replace("nowhere", "X")


def test_a_big_folder_is_paged_and_filtered(tree, settings):
    big = tree / "shards"
    big.mkdir()
    for n in range(FOLDER_PAGE_SIZE * 2 + 5):
        (big / f"part-{n:05d}.parquet").touch()
    (big / "sub").mkdir()
    first = data_root_folder(root_index=0, relative="shards")
    assert first.total == FOLDER_PAGE_SIZE * 2 + 6 and first.pages == 3
    assert first.entries[0].name == "sub" and first.entries[1].name == "part-00000.parquet"
    assert len(first.entries) == FOLDER_PAGE_SIZE and (first.first, first.last) == (1, FOLDER_PAGE_SIZE)
    last = data_root_folder(root_index=0, relative="shards", page=3)
    assert [e.name for e in last.entries] == [f"part-{n:05d}.parquet" for n in range(FOLDER_PAGE_SIZE * 2 - 1, FOLDER_PAGE_SIZE * 2 + 5)]
    assert (last.first, last.last) == (FOLDER_PAGE_SIZE * 2 + 1, FOLDER_PAGE_SIZE * 2 + 6)
    found = data_root_folder(root_index=0, relative="shards", query="PART-0040")
    assert [e.name for e in found.entries] == [f"part-{n:05d}.parquet" for n in range(400, 405)]


def test_the_registration_form_shows_the_roots_and_the_pickers(curator_client, tree):
    html = curator_client.get("/sources/new/").content.decode()
    assert f"<code>{tree.resolve()}</code>" in html
    assert 'id="picker-location"' in html and 'id="picker-image_root"' in html and 'id="browse-image_root"' in html
