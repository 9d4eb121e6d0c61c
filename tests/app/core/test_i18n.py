"""Vietnamese first, English second, both catalogues complete."""

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[3]
CATALOGUES = ROOT / "survey_app" / "core" / "translations"
METHOD_MAP = [("survey_app/**.py", "python"), ("survey_app/**/templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None, "N_": None}


def _source_messages() -> set[str]:
    messages = set()
    for _, _, message, _, _ in extract_from_dir(str(ROOT), METHOD_MAP, keywords=KEYWORDS):
        messages.add(message if isinstance(message, str) else message[0])
    return messages


def test_every_interface_string_is_translated_in_both_catalogues():
    source = _source_messages()
    assert len(source) > 150
    for language in ("vi", "en"):
        with open(CATALOGUES / language / "LC_MESSAGES" / "messages.po", "rb") as handle:
            catalogue = read_po(handle, locale=language)
        # a plural message's translation is a tuple of forms: every one must be there
        untranslated = sorted(
            m
            for m in source
            if not (found := catalogue.get(m))
            or not all(found.string if isinstance(found.string, tuple) else [found.string])
        )
        fuzzy = sorted(m.id for m in catalogue if m.id and m.fuzzy)
        assert untranslated == [], f"{language}: untranslated {untranslated}"
        assert fuzzy == [], f"{language}: fuzzy {fuzzy}"


def test_vietnamese_is_the_default_and_english_is_selectable(client):
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="vi">' in page and "Cán bộ đăng nhập" in page
    response = client.get("/language/en?next=/login")
    assert response.headers["Location"] == "/login"
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in page and "Staff login" in page


def test_language_switch_refuses_off_site_redirects(client):
    assert client.get("/language/en?next=//evil.example/").headers["Location"] == "/"


def test_error_pages_are_translated_html_or_json_under_api(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Không tìm thấy trang" in response.get_data(as_text=True)
    response = client.get("/api/no-such-thing")
    assert response.status_code == 404
    assert response.json["error"]["code"] == 404 and response.json["error"]["title"] == "Không tìm thấy trang"
    response = client.get("/no-such-page?lang=en")
    assert "Page not found" in response.get_data(as_text=True)


def test_method_not_allowed_is_a_page_not_a_crash(client):
    assert client.delete("/login").status_code == 405


def test_server_error_is_a_translated_page_and_rolls_back(app, client):
    from sqlalchemy import func, select

    from survey_app.core.extensions import db
    from survey_app.core.security import public
    from survey_app.units.models import UnitList

    @public
    def explode():
        db.session.add(UnitList(code="half-done", name_vi="x", name_en="x", level="province"))
        db.session.flush()
        raise RuntimeError("boom")

    app.add_url_rule("/explode", "explode", explode)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer as production does, not raise into the test
    response = client.get("/explode")
    assert response.status_code == 500
    assert "Hệ thống gặp lỗi. Chưa có gì được lưu" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(UnitList.id))) == 0


def test_wtforms_own_messages_are_in_vietnamese_and_english(app, client, create_user, login):
    """WTForms ships no Vietnamese: its built-in messages come from the service's catalogue."""
    import io

    from survey_app.core.i18n import LANGUAGE_KEY
    from tests.conftest import csrf_token

    login(create_user("sample_designer"))
    data = {
        "file": (io.BytesIO(b"province,population\n01,10\n"), "f.csv"),
        "strata": "province",
        "count": "population",
        "method": "no-such-method",
        "total": "many",
        "action": "show",
    }
    page = client.post(
        "/sampling/plan",
        content_type="multipart/form-data",
        data={"csrf_token": csrf_token(client, "/sampling/plan"), **data},
    ).get_data(as_text=True)
    assert "Không phải là lựa chọn hợp lệ." in page and "Not a valid" not in page
    with client.session_transaction() as session:
        session[LANGUAGE_KEY] = "en"
    data["file"] = (io.BytesIO(b"province,population\n01,10\n"), "f.csv")
    page = client.post(
        "/sampling/plan",
        content_type="multipart/form-data",
        data={"csrf_token": csrf_token(client, "/sampling/plan"), **data},
    ).get_data(as_text=True)
    assert "Not a valid choice." in page


#: how each kind of error is raised in the source, and the message table that names it in the interface
ERROR_KINDS = {
    "service": (r'ServiceError\(\s*"([a-z_]+)"', "SERVICE_MESSAGES"),
    "sampling": (r'SamplingError\(\s*"([a-z_]+)"', "SAMPLING_MESSAGES"),
    "estimation": (r'EstimationError\(\s*"([a-z_]+)"', "ESTIMATION_MESSAGES"),
    "framework issue": (r'Issue\(\s*"([a-z_]+)"', "ISSUE_MESSAGES"),
    "upload row": (r'RowProblem\([^,()]+,\s*"([a-z_]+)"', "ROW_MESSAGES"),
}


def test_every_library_error_gives_the_values_its_message_names():
    """A message naming ``%(stratum)s`` needs every raise of its code to pass ``stratum=``: otherwise the
    interface shows the bare code instead of the message (as when two modules once used one code for two
    different errors)."""
    import ast

    from survey_app.core import messages

    tables = {"EstimationError": messages.ESTIMATION_MESSAGES, "SamplingError": messages.SAMPLING_MESSAGES}
    short = []
    for package in ("sampling", "analysis"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) in tables and node.args):
                    continue
                if not isinstance(node.args[0], ast.Constant) or any(k.arg is None for k in node.keywords):
                    continue  # a code or values built at run time: the catalogue test covers the code
                named = set(re.findall(r"%\((\w+)\)", tables[node.func.id].get(node.args[0].value, "")))
                missing = named - {keyword.arg for keyword in node.keywords}
                if missing:
                    short.append((str(path.relative_to(ROOT)), node.lineno, node.args[0].value, sorted(missing)))
    assert short == []


def _raised(pattern: str) -> dict[str, str]:
    """Every code raised with ``pattern`` in the service and the domain packages, with a file that raises it."""
    found = {}
    for package in ("survey_app", "questionnaires", "sampling", "analysis"):
        for path in (ROOT / package).rglob("*.py"):
            for match in re.finditer(pattern, path.read_text()):
                found.setdefault(match.group(1), str(path.relative_to(ROOT)))
    return found


def test_every_error_code_raised_has_a_message_in_both_catalogues():
    from questionnaires import AnswerProblem
    from questionnaires.expert import ExpertAnswerProblem
    from survey_app.core import messages

    catalogues = {}
    for language in ("vi", "en"):
        with open(CATALOGUES / language / "LC_MESSAGES" / "messages.po", "rb") as handle:
            catalogues[language] = read_po(handle, locale=language)
    for kind, (pattern, table_name) in ERROR_KINDS.items():
        table = getattr(messages, table_name)
        raised = _raised(pattern)
        assert len(raised) >= 5, f"no {kind} error found: the pattern no longer matches the source"
        without = {code: where for code, where in raised.items() if code not in table}
        assert without == {}, f"{kind} errors without a message in survey_app.core.messages.{table_name}"
        for code in raised:
            for language, catalogue in catalogues.items():
                assert catalogue.get(table[code]) and catalogue.get(table[code]).string, (kind, code, language)
    # answers' problems are an enumeration: every member has a message (ranges and exclusive choices are
    # worded from the question itself)
    worded = {"below_minimum", "above_maximum", "exclusive_choice"}
    assert {str(p) for p in AnswerProblem} - worded <= set(messages.ANSWER_MESSAGES)
    assert {str(p) for p in ExpertAnswerProblem} <= set(messages.EXPERT_ANSWER_MESSAGES)
