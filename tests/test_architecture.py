"""The import contract (.importlinter): layers point one way, config -> annotate | curation.api -> curation <-
workers, with no import back up and no cycle. A broken contract fails here with import-linter's report."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

from importlinter.cli import EXIT_STATUS_SUCCESS, lint_imports

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("config", "annotate", "curation", "workers")


def test_the_import_contract_holds(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    status = lint_imports(config_filename=str(ROOT / ".importlinter"), no_cache=True, no_logo=True)
    assert status == EXIT_STATUS_SUCCESS, capsys.readouterr().out


def _copy_tree(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    return tmp_path


def _lint_copy(tree: Path) -> subprocess.CompletedProcess[str]:
    # Another process: the copy's packages must not shadow the ones this test session has imported.
    env = {**os.environ, "PYTHONPATH": str(tree)}
    command = [str(Path(sys.executable).parent / "lint-imports"), "--no-cache", "--config", str(tree / ".importlinter")]
    return subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, timeout=120, check=False)


def test_a_domain_module_importing_a_task_breaks_the_contract(tmp_path):
    tree = _copy_tree(tmp_path)
    errors = tree / "curation" / "errors.py"
    errors.write_text(errors.read_text() + "\nimport workers.tasks.ingest  # noqa: E402,F401\n")
    result = _lint_copy(tree)
    assert result.returncode != 0
    assert "curation.errors -> workers.tasks.ingest" in result.stdout


def test_a_page_importing_a_worker_breaks_the_contract(tmp_path):
    tree = _copy_tree(tmp_path)
    home = tree / "annotate" / "views" / "home.py"
    home.write_text(home.read_text() + "\nimport workers.jobrun  # noqa: E402,F401\n")
    result = _lint_copy(tree)
    assert result.returncode != 0 and "annotate.views.home -> workers.jobrun" in result.stdout
