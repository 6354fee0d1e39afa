"""manage.py scan_duplicates on plain folders: pairs as JSON lines, leaks against a benchmark folder, bad input."""
import json

import pytest
from django.core.management import CommandError, call_command

from tests.curation.dedup.nearcopy_set import _photo, edits


def _folder(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    astronaut = _photo("astronaut")
    astronaut.save(folder / "astronaut.png")
    edits(astronaut)["caption"].save(folder / "astronaut_caption.jpg")
    _photo("motorcycle_left").save(folder / "left.png")
    _photo("motorcycle_right").save(folder / "right.png")
    _photo("coffee").save(folder / "coffee.png")
    (folder / "broken.jpg").write_bytes(b"not an image")
    return folder


def test_scan_duplicates_writes_the_copies_of_a_folder(tmp_path, capsys):
    folder = _folder(tmp_path)
    output = tmp_path / "pairs.jsonl"
    call_command("scan_duplicates", str(folder), "--output", str(output))
    pairs = [json.loads(line) for line in output.read_text().splitlines()]
    assert [(p["a"].rsplit("/", 1)[1], p["b"].rsplit("/", 1)[1]) for p in pairs] == [("astronaut.png", "astronaut_caption.jpg")]
    assert 0 < pairs[0]["similarity"] <= 1 and pairs[0]["verified"]
    captured = capsys.readouterr()
    assert "broken.jpg" in captured.err and "1 pairs written" in captured.out


def test_scan_duplicates_against_a_benchmark_folder(tmp_path):
    folder = _folder(tmp_path)
    bench = tmp_path / "bench"
    bench.mkdir()
    edits(_photo("coffee"))["crop"].save(bench / "coffee_test.png")
    output = tmp_path / "leaks.jsonl"
    call_command("scan_duplicates", str(folder), "--against", str(bench), "--output", str(output))
    pairs = [json.loads(line) for line in output.read_text().splitlines()]
    assert [(p["a"].rsplit("/", 1)[1], p["b"].rsplit("/", 1)[1]) for p in pairs] == [("coffee.png", "coffee_test.png")]


def test_scan_duplicates_refuses_a_missing_folder_and_a_bad_threshold(tmp_path):
    with pytest.raises(CommandError, match="not a folder"):
        call_command("scan_duplicates", str(tmp_path / "nope"), "--output", str(tmp_path / "x.jsonl"))
    with pytest.raises(CommandError, match="between 0 and 1"):
        call_command("scan_duplicates", str(tmp_path), "--threshold", "2", "--output", str(tmp_path / "x.jsonl"))
