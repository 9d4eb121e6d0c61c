"""The code reads one way: ruff's lint rules and its formatter, configured in pyproject.toml, hold over the whole
tree (run `ruff check --fix . && ruff format .` before committing)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _ruff() -> list[str]:
    found = shutil.which("ruff", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail("ruff is not installed: it is a test dependency (make install)")
    return [found]


def test_ruff_finds_nothing_to_fix():
    result = subprocess.run([*_ruff(), "check", "--no-fix", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:]


def test_the_code_is_formatted():
    result = subprocess.run([*_ruff(), "format", "--check", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-4000:]
