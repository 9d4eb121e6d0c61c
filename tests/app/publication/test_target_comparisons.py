"""Targets as Decision 483 writes them (≥ 80, > 50, Top 50, a plain figure), ranks that improve downwards, and
provisional estimates [483 II.2.c]; every share and verdict computed by hand in the comments."""

import pytest

from survey_app.audit.models import AuditEvent
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.publication import targets
from survey_app.publication.models import IndicatorValue, StrategicIndicator
from tests.conftest import csrf_token


@pytest.fixture
def indicators(app):
    found = {row.code: row for row in targets.load_shipped_indicators(actor=None)}
    db.session.commit()
    return found


@pytest.mark.parametrize(
    "text, expected",
    [
        ("≥ 80", ("≥", 80.0)),
        (">50", (">", 50.0)),
        ("> 80", (">", 80.0)),
        ("≤ 10", ("≤", 10.0)),
        ("< 5", ("<", 5.0)),
        ("= 7", ("=", 7.0)),
        ("Top 50", ("top", 50.0)),
        ("100", ("", 100.0)),
        ("15,5", ("", 15.5)),
        ("-", None),
        ("", None),
    ],
)
def test_a_target_is_read_as_written(text, expected):
    assert targets.parse_target(text) == expected


def test_a_cell_that_is_no_target_is_refused():
    with pytest.raises(ValueError):
        targets.parse_target("Top")


@pytest.mark.parametrize(
    "value, target, comparison, lower_is_better, met",
    [
        (80, 80, "≥", False, True),
        (79.9, 80, "≥", False, False),
        (80, 80, ">", False, False),
        (80.1, 80, ">", False, True),
        (10, 10, "≤", True, True),
        (10.5, 10, "≤", True, False),
        (10, 10, "<", True, False),
        (9.9, 10, "<", True, True),
        (7, 7, "=", False, True),
        (7.1, 7, "=", False, False),
        (6.9, 7, "=", False, False),
        # Top 50: 50th or better
        (50, 50, "top", True, True),
        (35, 50, "top", True, True),
        (51, 50, "top", True, False),
        # a plain figure is reached: at least it, or for a rank at most it
        (90, 90, "", False, True),
        (89, 90, "", False, False),
        (70, 70, "", True, True),
        (69, 70, "", True, True),
        (71, 70, "", True, False),
    ],
)
def test_each_kind_of_comparison_decides_met(value, target, comparison, lower_is_better, met):
    assert targets.target_met(value, target, comparison, lower_is_better=lower_is_better) is met


def _reported(indicator, year, *values):
    """Report ``values`` for the quarters of ``year`` one after the other; the progress after each."""
    found = []
    for quarter, value in enumerate(values, 1):
        targets.report_value(indicator, year, quarter, value, actor=None)
        result = targets.progress(indicator, year)
        found.append((result.comparison, result.share, result.met))
    return found


def test_a_rank_improves_downwards(indicators):
    egdi = indicators["5.1"]  # 86th in 2022; 2024: 70; 2025: Top 50
    assert (egdi.measure, egdi.lower_is_better) == ("rank", True)
    # (78 - 86) / (70 - 86) = 0.5, not reached; (68 - 86) / (70 - 86) = 1.125, reached
    assert _reported(egdi, 2024, 78, 68) == [("", 0.5, False), ("", pytest.approx(1.125), True)]
    # Top 50: (60 - 86) / (50 - 86) = 0.7222; 50th is in the top 50
    assert _reported(egdi, 2025, 60, 50) == [("top", pytest.approx(26 / 36), False), ("top", 1.0, True)]
    # a target below the baseline's place (GCI: 25th in 2022, 30 planned for 2023): the rank against the target,
    # 30 / 28 = 1.0714 reached, 30 / 32 = 0.9375 not
    gci = indicators["5.4"]
    assert _reported(gci, 2023, 28, 32) == [("", pytest.approx(30 / 28), True), ("", pytest.approx(30 / 32), False)]


def test_shares_with_their_written_comparisons(indicators):
    # 1.4, 2025 "≥ 80", no baseline: 80 / 80 reached; 79 / 80 = 0.9875 not
    assert _reported(indicators["1.4"], 2025, 80, 79) == [("≥", 1.0, True), ("≥", pytest.approx(0.9875), False)]
    # 1.7.1, 2025 "> 80" from 75: 80 is all the way, (80 - 75) / (80 - 75) = 1, but not above; 80.5 is, 1.1
    assert _reported(indicators["1.7.1"], 2025, 80, 80.5) == [(">", 1.0, False), (">", pytest.approx(1.1), True)]
    # 3.10, 2023 "> 50" from 45: (47 - 45) / (50 - 45) = 0.4
    assert _reported(indicators["3.10"], 2023, 47)[0] == (">", pytest.approx(0.4), False)
    # 1.8, 2025 "≥ 50" below the 66% of 2022: the value against the target, 60 / 50 = 1.2 reached, 45 / 50 = 0.9 not
    assert _reported(indicators["1.8"], 2025, 60, 45) == [("≥", pytest.approx(1.2), True), ("≥", 0.9, False)]
    # 1.7.2, 100% in 2022 and planned for 2023: 99 / 100 = 0.99, not reached (no longer 1 whatever the value)
    assert _reported(indicators["1.7.2"], 2023, 99)[0] == ("", pytest.approx(0.99), False)


def _indicator(comparison, baseline, lower_is_better, *values):
    """An indicator of one target, 10 in 2024 written with ``comparison``, and ``values`` reported that year."""
    return StrategicIndicator(
        code="9.9",
        name_vi="Chỉ tiêu thử",
        baseline=baseline,
        lower_is_better=lower_is_better,
        targets={"2024": 10.0},
        target_comparisons={"2024": comparison},
        values=[IndicatorValue(year=2024, quarter=quarter, value=value) for quarter, value in enumerate(values, 1)],
    )


@pytest.mark.parametrize(
    "comparison, baseline, lower_is_better, value, share, met",
    [
        # the plan writes none of these; an indicator that staff add may: a share of paper files down to 10%
        ("≤", 40.0, True, 25.0, 0.5, False),  # (25 - 40) / (10 - 40)
        ("≤", 40.0, True, 10.0, 1.0, True),
        ("<", 40.0, True, 10.0, 1.0, False),
        ("<", 40.0, True, 9.0, 31 / 30, True),  # (9 - 40) / (10 - 40)
        ("=", 4.0, False, 7.0, 0.5, False),  # (7 - 4) / (10 - 4)
        ("=", 4.0, False, 10.0, 1.0, True),
        ("=", 4.0, False, 12.0, 8 / 6, False),
    ],
)
def test_the_comparisons_the_plan_does_not_use(app, comparison, baseline, lower_is_better, value, share, met):
    found = targets.progress(_indicator(comparison, baseline, lower_is_better, value), 2024)
    assert (found.comparison, found.share, found.met) == (comparison, pytest.approx(share), met)


def test_a_rank_below_1_is_refused_and_one_above_100_is_not(indicators):
    for value in ("0", "-3"):
        with pytest.raises(ServiceError) as caught:
            targets.report_value(indicators["5.1"], 2024, 1, value, actor=None)
        assert caught.value.code == "rank_out_of_range"
    assert targets.report_value(indicators["5.3"], 2024, 1, "112", actor=None).value == 112


def test_a_provisional_estimate_is_replaced_by_the_official_figure(indicators):
    economy = indicators["4.19"]
    estimate = targets.report_value(economy, 2023, 1, "15,1", provisional=True, note="theo doanh thu thuế", actor=None)
    assert estimate.provisional and targets.progress(economy, 2023).latest.provisional
    official = targets.report_value(economy, 2023, 1, "14,9", actor=None)
    db.session.commit()
    assert official.id == estimate.id and not official.provisional and official.value == 14.9
    event = db.session.scalars(
        db.select(AuditEvent).where(AuditEvent.action == "targets.value_reported").order_by(AuditEvent.id.desc())
    ).first()
    assert event.old_value["provisional"] is True and event.new_value["provisional"] is False


def test_the_pages_show_comparisons_agencies_ranks_and_provisional_values(indicators, client, create_user, login):
    login(create_user("scoring_officer"))
    response = client.post(
        "/targets/values",
        data={
            "csrf_token": csrf_token(client, "/targets/"),
            "indicator": "4.19",
            "year": "2025",
            "quarter": "1",
            "value": "18,2",
            "provisional": "y",
        },
    )
    assert response.status_code == 302
    assert targets.progress(indicators["4.19"], 2025).latest.provisional
    targets.report_value(indicators["5.1"], 2025, 1, 60, actor=None)
    db.session.commit()
    english = client.get("/targets/?year=2025&lang=en").get_data(as_text=True)
    # targets as written, the rank against Top 50, both agencies, the provisional mark on the value and baseline
    assert "≥ 80%" in english and "&gt; 80%" in english and "Top 50" in english and "rank 86" in english
    assert "Coordinating: NHNN Việt Nam" in english and "Responsible: Vụ KTS&amp;XHS" in english
    assert english.count("provisional estimate") == 2  # 4.19's value of Q1 2025 and its 2022 baseline
    assert "ITU&#39;s Global Cybersecurity Index 2021 report" in english
    # (60 - 86) / (50 - 86) = 72%
    assert "72%" in english and "18.2% (Q1)" in english
    vietnamese = client.get("/targets/?year=2025&lang=vi").get_data(as_text=True)
    assert "≥ 80%" in vietnamese and "NHNN Việt Nam" in vietnamese and "18,2% (quý 1)" in vietnamese
    assert "Báo cáo GCI năm 2021 của ITU" in vietnamese and "ITU&#39;s Global Cybersecurity" not in vietnamese
