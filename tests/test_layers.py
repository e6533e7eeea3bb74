"""The layering rule (deck -> tide -> hook -> jobs -> prow) is checked by
import-linter in make test; here, that its contracts do catch a breach."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("prow", "jobs", "hook", "tide", "deck")
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint(tree: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )


def copy_tree(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package,
            tmp_path / package,
            ignore=shutil.ignore_patterns("__pycache__"),
        )
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_project_keeps_its_layers(tmp_path):
    result = lint(copy_tree(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 kept, 0 broken" in result.stdout


def test_jobs_importing_hook_breaks_the_contract(tmp_path):
    tree = copy_tree(tmp_path)
    (tree / "jobs" / "breach.py").write_text("import hook.services  # noqa\n")
    result = lint(tree)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout
    assert "jobs.breach -> hook.services" in result.stdout


def test_tide_importing_hook_breaks_the_contract(tmp_path):
    tree = copy_tree(tmp_path)
    (tree / "tide" / "breach.py").write_text("import hook.events  # noqa\n")
    result = lint(tree)
    assert result.returncode != 0
    assert "tide.breach -> hook.events" in result.stdout
