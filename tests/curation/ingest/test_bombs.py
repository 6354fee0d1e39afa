"""Bombs in source files: an over-long record is rejected unread, a file stops at its size cap, memory stays bounded."""
import gzip
import json
import os
import subprocess
import sys

import pytest

from curation.ingest.readers import reader_open
from curation.ingest.readers.base import records_guarded
from tests.production import ROOT

LINE_CAP = 4096


@pytest.fixture
def small_caps(settings):
    settings.FINECURATE_MAX_LINE_BYTES = LINE_CAP


def _records(path):
    reader = reader_open(path)
    return list(records_guarded(reader.records(), path=path, base_dir=path.parent))


def test_an_over_long_json_line_is_rejected_and_the_other_lines_survive(tmp_path, small_caps):
    path = tmp_path / "rows.jsonl.gz"
    with gzip.open(path, "wt") as handle:
        handle.write(json.dumps({"text": "before"}) + "\n")
        handle.write(json.dumps({"text": "x" * (LINE_CAP * 50)}) + "\n")
        handle.write(json.dumps({"text": "after"}) + "\n")
    records = _records(path)
    assert [r.data["text"] for r in records if r.data] == ["before", "after"]
    [bad] = [r for r in records if r.error]
    assert bad.location == "line 2" and bad.row_number == 1 and "longer than 4,096 bytes (FINECURATE_MAX_LINE_BYTES)" in bad.error


def test_an_over_long_csv_line_is_rejected_and_the_others_survive(tmp_path, small_caps):
    path = tmp_path / "rows.csv"
    path.write_text("text,label\nbefore,1\n" + "y" * (LINE_CAP * 3) + ",2\nafter,3\n")
    records = _records(path)
    assert [r.data["text"] for r in records if r.data] == ["before", "after"]
    assert [(r.location, "FINECURATE_MAX_LINE_BYTES" in r.error) for r in records if r.error] == [("line 3", True)]


def test_an_over_large_json_array_item_is_rejected_and_the_items_before_it_survive(tmp_path, small_caps):
    path = tmp_path / "rows.json"
    path.write_text(json.dumps([{"text": "first"}, {"text": "z" * (LINE_CAP * 50)}, {"text": "third"}]))
    reader = reader_open(path)
    assert reader.count() is None  # the count gives up rather than hold the item
    records = _records(path)
    assert [r.data["text"] for r in records if r.data] == ["first"]
    [bad] = [r for r in records if r.error]
    assert bad.location == "item 2" and "FINECURATE_MAX_LINE_BYTES" in bad.error and "rest of the file was not read" in bad.error


def test_a_file_past_the_source_cap_stops_there_keeping_the_rows_before(tmp_path, settings):
    settings.FINECURATE_MAX_SOURCE_BYTES = 10_000
    path = tmp_path / "rows.jsonl.gz"
    with gzip.open(path, "wt") as handle:
        for n in range(2000):
            handle.write(json.dumps({"n": n}) + "\n")
    records = _records(path)
    kept = [r for r in records if r.data]
    assert 0 < len(kept) < 2000 and kept[-1].data["n"] == len(kept) - 1
    assert "FINECURATE_MAX_SOURCE_BYTES" in records[-1].error


# The worker's memory with a 1 GiB line behind ~1 MiB of gzip, measured as the peak RSS of a process that ingests it.
BOMB_LINE_BYTES = 1024**3
RSS_LIMIT_MIB = 400


def _write_bomb(path) -> None:
    chunk = b"a" * (16 * 1024 * 1024)
    with gzip.open(path, "wb", compresslevel=9) as handle:
        handle.write(json.dumps({"text": "a good row before"}).encode() + b"\n")
        handle.write(b'{"text": "')
        for _ in range(BOMB_LINE_BYTES // len(chunk)):
            handle.write(chunk)
        handle.write(b'"}\n')
        handle.write(json.dumps({"text": "a good row after"}).encode() + b"\n")


@pytest.mark.django_db(transaction=True)
def test_ingesting_a_gzip_bomb_keeps_the_worker_memory_bounded(tmp_path, roles):
    from django.db import connection

    bomb = tmp_path / "bomb.jsonl.gz"
    _write_bomb(bomb)
    s = connection.settings_dict
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DATABASE_URL": f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}",
        "FINECURATE_DATA_ROOTS": str(tmp_path),
        "FINECURATE_MEDIA_ROOT": str(tmp_path / "media"),
        "PYTHONPATH": str(ROOT),
    }
    # The child reports its own high-water mark (VmHWM, reset at exec): getrusage of a child forked from this
    # large test process would count the pages it shared with pytest before exec.
    runner = (
        "import atexit, runpy, sys\n"
        "def report():\n"
        "    hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
        "    print(f'VmHWM_KIB={hwm}', file=sys.stderr)\n"
        "atexit.register(report)\n"
        f"sys.argv = ['manage.py', 'ingest', {str(bomb)!r}, '--source', 'bomb', '--skip-checks']\n"
        "runpy.run_path('manage.py', run_name='__main__')\n"
    )
    result = subprocess.run([sys.executable, "-c", runner], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)  # noqa: S603
    output = result.stdout + result.stderr
    peak_mib = int(output.rsplit("VmHWM_KIB=", 1)[1].split()[0]) / 1024
    print(f"gzip bomb: {bomb.stat().st_size / 2**20:.2f} MiB compressed, {BOMB_LINE_BYTES / 2**30:.0f} GiB line, peak RSS {peak_mib:.0f} MiB")
    assert result.returncode == 0, output[-3000:]
    from curation.models import Job, Source, SourceRow

    source = Source.objects.get(name="bomb")
    assert sorted(r.data["text"] for r in SourceRow.objects.filter(source=source)) == ["a good row after", "a good row before"]
    error = Job.objects.get(kind="ingest").errors.get()
    assert error.location == "line 2" and "FINECURATE_MAX_LINE_BYTES" in error.message
    assert peak_mib < RSS_LIMIT_MIB, f"peak RSS {peak_mib:.0f} MiB"
