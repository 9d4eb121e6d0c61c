"""The domain packages are plain libraries: no Flask, SQLAlchemy, WTForms, marshmallow or survey_app. The
service uses its libraries through their public names only."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_domain_packages_import_no_web_or_orm_framework():
    lint_imports = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    result = subprocess.run([lint_imports, "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 kept, 0 broken" in result.stdout


def test_the_contract_would_catch_a_forbidden_import(tmp_path):
    # The check is only worth having if it fails: run it on a copy that imports Flask from a domain package.
    for package in ("questionnaires", "sampling", "analysis", "survey_app"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "sampling" / "leak.py").write_text("import flask\n")
    lint_imports = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    result = subprocess.run(
        [lint_imports, "--no-cache"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode != 0
    assert "sampling.leak -> flask" in result.stdout


#: what the service once reached into and must not again: SQLAlchemy's compiled statements' and pooled
#: connections' internals (a positional statement's parameter order, the driver's cursor under a Connection)
#: and any name-mangled private attribute of another class (the expiry method of limits' memory storage).
#: The two names are put together here rather than written out, so that ``git grep`` for them finds nothing.
_PARAMETER_ORDER, _DRIVER_CURSOR = "position" + "tup", "dbapi_connection" + r"\.cursor"
PRIVATE_USES = re.compile(rf"{_PARAMETER_ORDER}|{_DRIVER_CURSOR}|\b_[A-Z][A-Za-z0-9]*__[A-Za-z_]")


def _private_uses(package: Path) -> list[str]:
    return [
        f"{path.relative_to(package.parent)}:{number}: {line.strip()}"
        for path in sorted(package.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if PRIVATE_USES.search(line)
    ]


def test_the_service_uses_only_the_libraries_public_names():
    assert _private_uses(ROOT / "survey_app") == []


def test_the_search_would_find_a_private_name(tmp_path):
    (tmp_path / "survey_app").mkdir()
    (tmp_path / "survey_app" / "leak.py").write_text(
        "order = compiled." + "position" + "tup\ncursor = connection.connection.dbapi_connection" + ".cursor()\n"
        "class S(MemoryStorage):\n    def _Memory" + "Storage__schedule_expiry(self): pass\n"
    )
    assert [use.split(":")[1] for use in _private_uses(tmp_path / "survey_app")] == ["1", "2", "4"]
