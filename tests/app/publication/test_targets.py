"""Strategic targets of Decision 483: the shipped indicators, quarterly values and progress, computed by hand."""

import re
from datetime import date

import pytest
from sqlalchemy import func, select

from survey_app.audit.models import AuditEvent
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.publication import targets
from survey_app.publication.models import IndicatorValue
from tests.conftest import csrf_token


@pytest.fixture
def indicators(app):
    found = {row.code: row for row in targets.load_shipped_indicators(actor=None)}
    db.session.commit()
    return found


def test_the_shipped_indicators_carry_the_decisions_figures(indicators):
    assert len(indicators) == 55 and list(indicators)[:3] == ["1.1", "1.2", "1.3"]
    # 1.10 sorts after 1.9, not after 1.1
    assert list(indicators).index("1.10") == list(indicators).index("1.9") + 1
    online = indicators["1.1"]
    assert (online.baseline, online.baseline_year, online.targets) == (98.0, 2022, {"2023": 100.0, "2025": 100.0})
    assert indicators["1.5"].targets == {"2023": 50.0, "2024": 100.0, "2025": 100.0}
    # loading again adds nothing
    assert len(targets.load_shipped_indicators(actor=None)) == 55


def test_progress_from_the_baseline_towards_the_years_target(indicators):
    smartphones = indicators["1.6"]  # 70.91% in 2022; targets 80, 90, 100
    targets.report_value(smartphones, 2023, 1, "74,5", actor=None)
    targets.report_value(smartphones, 2023, 2, 76.0, actor=None)
    found = targets.progress(smartphones, 2023)
    # the last quarter reported, (76 - 70.91) / (80 - 70.91)
    assert found.latest.quarter == 2 and found.target == 80
    assert found.share == pytest.approx((76 - 70.91) / (80 - 70.91)) and found.met is False
    targets.report_value(smartphones, 2023, 3, "81%", actor=None)
    assert targets.progress(smartphones, 2023).met is True
    # no 2024 value yet: no progress, the target is 2024's
    later = targets.progress(smartphones, 2024)
    assert (later.target, later.latest, later.share) == (90, None, None)
    # 1.1 has no 2024 target: 2024 reads against 2025's; without a baseline a share counts from 0
    assert targets.progress(indicators["1.1"], 2024).target_year == 2025
    targets.report_value(indicators["1.2"], 2023, 4, 15, actor=None)
    assert targets.progress(indicators["1.2"], 2023).share == pytest.approx(15 / 20)


def test_a_second_value_replaces_the_first_and_the_audit_keeps_both(indicators):
    first = targets.report_value(indicators["1.6"], 2023, 1, 74, note="Cục Viễn thông", actor=None)
    again = targets.report_value(indicators["1.6"], 2023, 1, 75, note="số liệu sửa", actor=None)
    db.session.commit()
    assert first.id == again.id and again.value == 75
    assert db.session.scalar(select(func.count(IndicatorValue.id))) == 1
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "targets.value_reported").order_by(AuditEvent.id)
    ).all()
    assert events[-1].old_value == {"value": 74, "provisional": False, "note": "Cục Viễn thông"}
    assert events[-1].new_value["value"] == 75


@pytest.mark.parametrize(
    "year, quarter, value, code",
    [
        (2023, 5, "10", "invalid_quarter"),
        (1990, 1, "10", "invalid_year"),
        (2023, 1, "mười", "invalid_number"),
        (2023, 1, "101", "target_out_of_range"),
        (2023, 1, "-1", "target_out_of_range"),
        (2023, 1, "nan", "invalid_number"),
    ],
)
def test_bad_values_are_refused_and_store_nothing(indicators, year, quarter, value, code):
    with pytest.raises(ServiceError) as caught:
        targets.report_value(indicators["1.6"], year, quarter, value, actor=None)
    assert caught.value.code == code
    assert db.session.scalar(select(func.count(IndicatorValue.id))) == 0


def test_the_next_quarterly_deadline():
    assert targets.next_deadline(date(2026, 1, 10)) == (2026, 1, date(2026, 4, 3))
    assert targets.next_deadline(date(2026, 4, 3)) == (2026, 1, date(2026, 4, 3))
    assert targets.next_deadline(date(2026, 4, 4)) == (2026, 2, date(2026, 7, 5))
    assert targets.next_deadline(date(2026, 12, 6)) == (2027, 1, date(2027, 4, 3))


def test_officers_enter_values_on_the_web_and_the_public_results_show_progress(indicators, client, create_user, login):
    login(create_user("scoring_officer"))
    page = client.get("/targets/?year=2023").get_data(as_text=True)
    assert "Tỷ lệ người dân trưởng thành có điện thoại di động thông minh" in page
    token = csrf_token(client, "/targets/")
    response = client.post(
        "/targets/values",
        data={
            "csrf_token": token,
            "indicator": "1.6",
            "year": "2023",
            "quarter": "2",
            "value": "76,0",
            "note": "<b>Cục</b>",
        },
    )
    assert response.status_code == 302
    page = client.get("/targets/?year=2023").get_data(as_text=True)
    assert "76%" in page and "56%" in page  # (76 - 70.91) / (80 - 70.91) = 0.56
    refused = client.post(
        "/targets/values",
        data={"csrf_token": token, "indicator": "1.6", "year": "2023", "quarter": "2", "value": "120"},
        follow_redirects=True,
    )
    assert "Giá trị phải nằm trong khoảng từ 0 đến 100." in refused.get_data(as_text=True)
    assert targets.progress(indicators["1.6"], 2023).latest.value == 76
    # a viewer sees them and cannot enter any
    client.post("/logout", data={"csrf_token": csrf_token(client, "/dashboard")})
    login(create_user("viewer"))
    assert client.get("/targets/").status_code == 200
    assert (
        client.post(
            "/targets/values",
            data={
                "csrf_token": csrf_token(client, "/targets/"),
                "indicator": "1.6",
                "year": "2023",
                "quarter": "3",
                "value": "80",
            },
        ).status_code
        == 403
    )


def _shown_year(page: str) -> str:
    return re.search(r'<input id="year" name="year" type="number" value="(\d+)"', page).group(1)


def test_the_page_opens_on_the_latest_year_with_values_or_targets(indicators, client, create_user, login):
    login(create_user("viewer"))
    targets.report_value(indicators["1.6"], 2023, 4, 78, actor=None)
    db.session.commit()
    # the shipped targets run to 2025, whatever year the clock shows
    page = client.get("/targets/").get_data(as_text=True)
    assert _shown_year(page) == "2025" and "Chỉ tiêu chiến lược theo Quyết định 483 năm 2025" in page
    targets.report_value(indicators["1.6"], 2031, 1, 99, actor=None)
    db.session.commit()
    assert _shown_year(client.get("/targets/").get_data(as_text=True)) == "2031"
    # another year can still be chosen; a year out of range opens on the latest again
    chosen = client.get("/targets/?year=2023").get_data(as_text=True)
    assert _shown_year(chosen) == "2023" and "78%" in chosen
    assert _shown_year(client.get("/targets/?year=1900").get_data(as_text=True)) == "2031"


def test_without_any_indicator_the_page_opens_on_the_clocks_year(app, client, create_user, login):
    login(create_user("viewer"))
    assert _shown_year(client.get("/targets/").get_data(as_text=True)) == str(date.today().year)


def test_the_staff_page_names_the_indicators_in_the_visitors_language(indicators, client, create_user, login):
    login(create_user("scoring_officer"))
    vietnamese = client.get("/targets/?year=2023").get_data(as_text=True)
    assert "Tỷ lệ người dân trưởng thành có điện thoại di động thông minh" in vietnamese
    assert "Share of adults with a smartphone" not in vietnamese
    english = client.get("/targets/?year=2023&lang=en").get_data(as_text=True)
    # in the progress table and in the list to enter a value for
    assert english.count("Share of adults with a smartphone") == 2
    assert "điện thoại di động thông minh" not in english


def test_the_public_ranking_names_the_indicators_in_the_visitors_language(app, runner):
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    visitor = app.test_client()
    english = visitor.get("/results/province-2022-demo?lang=en").get_data(as_text=True)
    assert "Share of adults with a smartphone" in english
    assert "điện thoại di động thông minh" not in english
    vietnamese = visitor.get("/results/province-2022-demo?lang=vi").get_data(as_text=True)
    assert "Tỷ lệ người dân trưởng thành có điện thoại di động thông minh" in vietnamese
    assert "Share of adults with a smartphone" not in vietnamese
