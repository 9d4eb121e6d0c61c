"""The service's house: one package per area with the same files in each, areas that use one another only through
their public use cases and models, and no module too long to read."""

import ast
from pathlib import Path

from survey_app.core.app import AREAS

SERVICE = Path(__file__).resolve().parent.parent / "survey_app"
#: no module of the service is longer than this many lines
LONGEST = 600
#: what one area may not import from another: its pages, forms, URL rules and API schemas
PRIVATE_TO_AN_AREA = {"views", "forms", "blueprint", "schemas"}


def _area_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "survey_app" else None


def _module_of(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def crossings(root: Path) -> list[str]:
    """Every import by which a module uses what another module keeps to itself: a name starting with ``_``
    (from any other module), or another area's views, forms, blueprint or schemas."""
    found = []
    for path in sorted(root.rglob("*.py")):
        module = _module_of(path, root)
        area = _area_of(module)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or node.level or not (node.module or "").startswith("survey_app"):
                continue
            imported = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            for target in imported:
                parts = target.split(".")
                if _area_of(target) not in (None, area, "core") and len(parts) > 2 and parts[2] in PRIVATE_TO_AN_AREA:
                    found.append(f"{module}:{node.lineno} imports {target}")
            for alias in node.names:
                if alias.name.startswith("_") and node.module != module:
                    found.append(f"{module}:{node.lineno} imports {node.module}.{alias.name}")
    return found


def test_every_area_has_its_blueprint_views_and_templates():
    for area in AREAS:
        folder = SERVICE / area
        assert (folder / "blueprint.py").is_file(), area
        assert (folder / "views.py").is_file() or (folder / "views" / "__init__.py").is_file(), area
        assert (folder / "templates").is_dir(), area
    packages = {path.name for path in SERVICE.iterdir() if (path / "__init__.py").is_file()}
    assert packages == set(AREAS), "a package of the service that is not an area, or an area not wired"


def test_areas_use_one_another_only_through_public_names():
    assert crossings(SERVICE) == []


def test_the_check_would_catch_a_crossing(tmp_path):
    service = tmp_path / "survey_app"
    for area in ("experts", "survey"):
        (service / area).mkdir(parents=True)
    (service / "experts" / "views.py").write_text(
        "from survey_app.survey.views.respond import guarded\n"
        "from survey_app.survey import forms\n"
        "from survey_app.survey.operations import _KEYS, submit\n"
        "from survey_app.core.links import guarded\n"
        "from survey_app.experts.forms import NominationForm\n"
    )
    assert crossings(service) == [
        "survey_app.experts.views:1 imports survey_app.survey.views.respond",
        "survey_app.experts.views:1 imports survey_app.survey.views.respond.guarded",
        "survey_app.experts.views:2 imports survey_app.survey.forms",
        "survey_app.experts.views:3 imports survey_app.survey.operations._KEYS",
    ]


def test_no_module_is_too_long_to_read():
    lengths = {str(path.relative_to(SERVICE)): len(path.read_text().splitlines()) for path in SERVICE.rglob("*.py")}
    assert {path: lines for path, lines in lengths.items() if lines > LONGEST} == {}
