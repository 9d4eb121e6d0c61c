"""Self-assessment and cyberspace files checked row by row, and every channel merged into criterion points."""

import pandas as pd
import pytest

from analysis.inputs import (
    VIETNAMESE_HEADERS,
    check_cyberspace,
    check_self_assessment,
    self_assessed_criteria,
    template_rows,
)
from analysis.merge import criterion_points, external_values
from questionnaires import framework_from_dict

FRAMEWORK = framework_from_dict(
    {
        "code": "t",
        "level": "province",
        "year": 2020,
        "name": {"vi": "t"},
        "total_points": 100,
        "channel_shares": {"assessment": 0.8, "cyberspace": 0.1, "expert": 0.1, "level": "pillar"},
        "nodes": [
            {
                "code": "P",
                "kind": "pillar",
                "name": {"vi": "P"},
                "points": 100,
                "children": [
                    {
                        "code": "A",
                        "kind": "main_index",
                        "name": {"vi": "Nhận thức", "en": "Awareness"},
                        "points": 50,
                        "children": [
                            {
                                "code": "A1",
                                "kind": "criterion",
                                "name": {"vi": "Có kế hoạch", "en": "A plan"},
                                "points": 10,
                                "channels": ["self_assessment", "appraisal"],
                                "scoring": {"method": "yes_no"},
                                "measure": "yes/no",
                            },
                            {
                                "code": "A2",
                                "kind": "criterion",
                                "name": {"vi": "Tỷ lệ", "en": "Share"},
                                "points": 20,
                                "channels": ["self_assessment"],
                                "scoring": {"method": "ratio", "target": 80},
                                "measure": "%",
                            },
                            {
                                "code": "A3",
                                "kind": "criterion",
                                "name": {"vi": "Biết", "en": "Aware"},
                                "points": 20,
                                "channels": ["survey(citizens)"],
                                "scoring": {"method": "survey", "rule": "share_yes"},
                            },
                        ],
                    },
                    {
                        "code": "B",
                        "kind": "main_index",
                        "name": {"vi": "B"},
                        "points": 30,
                        "children": [
                            {
                                "code": "B1",
                                "kind": "criterion",
                                "name": {"vi": "B1"},
                                "points": 20,
                                "channels": ["self_assessment"],
                                "scoring": {
                                    "method": "thresholds",
                                    "steps": [{"at_least": 5, "points": 10}, {"at_least": 10, "points": 20}],
                                },
                            },
                            {
                                "code": "B2",
                                "kind": "criterion",
                                "name": {"vi": "B2"},
                                "points": 10,
                                "channels": ["expert"],
                                "scoring": {"method": "ratio"},
                            },
                        ],
                    },
                ],
            }
        ],
    }
)
UNITS = ["u1", "u2"]


def test_the_template_lists_every_reported_criterion_per_unit():
    assert [node.code for node in self_assessed_criteria(FRAMEWORK)] == ["A1", "A2", "B1"]
    rows = template_rows(FRAMEWORK, UNITS, "en")
    assert [(row["unit"], row["criterion"]) for row in rows] == [
        ("u1", "A1"),
        ("u1", "A2"),
        ("u1", "B1"),
        ("u2", "A1"),
        ("u2", "A2"),
        ("u2", "B1"),
    ]
    assert rows[0]["criterion_name"] == "A plan" and rows[1]["method"] == "ratio (target 80)"
    assert rows[2]["method"] == "thresholds ≥5: 10; ≥10: 20" and rows[2]["maximum"] == 20


def test_valid_rows_are_scored_by_the_criterion_method():
    headers = {code: VIETNAMESE_HEADERS[code] for code in ("unit", "criterion", "value", "evidence", "explanation")}
    rows = [
        {
            headers["unit"]: "u1",
            headers["criterion"]: "A1",
            headers["value"]: "Có",
            headers["evidence"]: "QĐ 12/QĐ-UBND",
        },
        # 60% of an 80% target: 0.75 × 20 = 15; a comma as the decimal mark
        {
            headers["unit"]: "u1",
            headers["criterion"]: "A2",
            headers["value"]: "60,0 %",
            headers["explanation"]: "Báo cáo quý IV",
        },
        # 7 reaches the first step: 10 points
        {headers["unit"]: "u1", headers["criterion"]: "B1", headers["value"]: "7", headers["evidence"]: "x"},
        {headers["unit"]: "u2", headers["criterion"]: "A1", headers["value"]: "không", headers["evidence"]: "x"},
    ]
    checked = check_self_assessment(rows, FRAMEWORK, UNITS)
    assert checked.rejected == []
    assert [(row.criterion, row.value, row.points) for row in checked.valid] == [
        ("A1", 1.0, 10.0),
        ("A2", 60.0, 15.0),
        ("B1", 7.0, 10.0),
        ("A1", 0.0, 0.0),
    ]


@pytest.mark.parametrize(
    "row, problem",
    [
        ({"unit": "u9", "criterion": "A1", "value": "1", "evidence": "x"}, "unknown_unit"),
        ({"unit": "u1", "criterion": "Z9", "value": "1", "evidence": "x"}, "unknown_criterion"),
        ({"unit": "u1", "criterion": "A3", "value": "1", "evidence": "x"}, "not_self_assessed"),
        ({"unit": "u1", "criterion": "A2", "value": "", "evidence": "x"}, "missing_value"),
        ({"unit": "u1", "criterion": "A2", "value": "nhiều", "evidence": "x"}, "invalid_value"),
        ({"unit": "u1", "criterion": "A2", "value": "1e400", "evidence": "x"}, "invalid_value"),
        ({"unit": "u1", "criterion": "A1", "value": "maybe", "evidence": "x"}, "invalid_value"),
        ({"unit": "u1", "criterion": "A2", "value": "-3", "evidence": "x"}, "negative_value"),
        ({"unit": "u1", "criterion": "A2", "value": "3"}, "no_evidence"),
        ({"unit": "u1", "criterion": "A2", "value": "3", "evidence": "x" * 1001}, "text_too_long"),
    ],
)
def test_each_bad_row_is_refused_with_its_reason(row, problem):
    checked = check_self_assessment([row], FRAMEWORK, UNITS)
    assert checked.valid == [] and [(r.line, r.code) for r in checked.rejected] == [(2, problem)]


def test_the_same_unit_and_criterion_twice_is_refused_and_blank_rows_skipped():
    rows = [
        {"criterion": "A2", "value": "3", "evidence": "x"},
        {"criterion": "", "value": ""},
        {"criterion": "A2", "value": "4", "evidence": "y"},
    ]
    checked = check_self_assessment(rows, FRAMEWORK, UNITS, unit="u2")
    assert [row.unit for row in checked.valid] == ["u2"]
    assert [(r.line, r.code, r.params["first"]) for r in checked.rejected] == [(4, "duplicate_row", 2)]


def test_cyberspace_values_in_zero_one_or_percent():
    rows = [
        {"unit": "u1", "node": "A", "value": "0.62"},
        {"Mã đơn vị": "u2", "Mã chỉ số": "A", "Giá trị": "71%"},
        {"unit": "u1", "node": "A1", "value": "0.5"},
        {"unit": "u1", "node": "B", "value": "1.2"},
        {"unit": "u1", "node": "B", "value": "abc"},
        {"unit": "u1", "node": "A", "value": "0.1"},
    ]
    checked = check_cyberspace(rows, FRAMEWORK, UNITS)
    assert [(row.unit, row.node, row.value) for row in checked.valid] == [("u1", "A", 0.62), ("u2", "A", 0.71)]
    assert [(r.line, r.code) for r in checked.rejected] == [
        (4, "unknown_node"),
        (5, "value_out_of_range"),
        (6, "invalid_value"),
        (7, "duplicate_row"),
    ]


def test_channels_merge_by_precedence_and_missing_stays_missing():
    assessed = pd.DataFrame(
        {
            "unit": ["u1", "u1", "u2"],
            "criterion": ["A1", "A2", "A2"],
            "points": [10.0, 15.0, 12.0],
            "appraised_points": [None, 12.5, None],
        }
    )
    survey = pd.DataFrame({"criterion": ["A3", "A3", "A3"], "unit": ["u1", "u1", "u2"], "points": [14.0, 10.0, None]})
    expert = pd.DataFrame({"unit": ["u1", "u2", "u1"], "node": ["B2", "B2", "A1"], "points": [7.0, 5.0, 2.0]})
    merged = criterion_points(FRAMEWORK, UNITS, assessed=assessed, survey=survey, expert=expert).set_index(
        ["unit", "node"]
    )
    expected = {
        ("u1", "A1"): (10.0, "self_assessment"),  # experts also judge A1, but the unit's data score it
        ("u1", "A2"): (12.5, "appraisal"),  # the officer's correction wins over the self-assessed 15
        ("u1", "A3"): (12.0, "survey"),  # two respondent groups' points averaged: (14 + 10) / 2
        ("u1", "B2"): (7.0, "expert"),  # experts alone measure B2
        ("u2", "A2"): (12.0, "self_assessment"),
        ("u2", "B2"): (5.0, "expert"),
    }
    for key, (points, source) in expected.items():
        assert (merged.loc[key, "points"], merged.loc[key, "source"]) == (points, source), key
    for key in [("u2", "A1"), ("u2", "A3"), ("u1", "B1"), ("u2", "B1")]:
        assert pd.isna(merged.loc[key, "points"]) and pd.isna(merged.loc[key, "source"]), key
    assert len(merged) == 2 * 5


def test_external_values_are_the_points_weighted_mean_under_each_pillar():
    values = pd.DataFrame({"unit": ["u1", "u1", "u2"], "node": ["A", "B", "A"], "value": [0.6, 0.9, 0.5]})
    rows = external_values(FRAMEWORK, values, "cyberspace")
    # u1: (0.6 × 50 + 0.9 × 30) / 80 = 0.7125
    assert rows.to_dict("records") == [
        {"unit": "u1", "node": "P", "channel": "cyberspace", "value": 0.7125},
        {"unit": "u2", "node": "P", "channel": "cyberspace", "value": 0.5},
    ]
