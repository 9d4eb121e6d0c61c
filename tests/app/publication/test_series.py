"""A unit's results across the published years of its level: each year's index, rank and main indices equal to that
round's published values, a merged unit's earlier years as its predecessors' average (marked, without a rank), rank
movements only between years ranked on the same list, a chart drawn on the server; both languages; unknown levels
and units answered with a clear page. Every number below is computed by hand."""

import re

import pytest

from questionnaires import framework_from_dict
from survey_app.core.extensions import db
from survey_app.publication import operations as publication
from survey_app.publication import series as across_years
from survey_app.rounds import operations as rounds
from survey_app.scoring import operations as scoring
from survey_app.units import operations as units
from tests.conftest import import_self_assessed

#: 100 points: P1 (50) = M1 (A.1 yes/no 20, A.2 share of 100 × 30), P2 (50) = M2 (B.1 share of 1 × 50)
FRAMEWORK = {
    "code": "series-test",
    "level": "province",
    "year": 2021,
    "last_year": 2030,
    "version": 1,
    "name": {"vi": "Chỉ số thử chuỗi năm", "en": "Series test index"},
    "total_points": 100,
    "published_as": "value",
    "nodes": [
        {
            "code": "P1",
            "kind": "pillar",
            "name": {"vi": "Chính quyền số", "en": "Digital government"},
            "points": 50,
            "children": [
                {
                    "code": "M1",
                    "kind": "main_index",
                    "name": {"vi": "Thể chế số", "en": "Digital institutions"},
                    "points": 50,
                    "children": [
                        {
                            "code": "A.1",
                            "kind": "criterion",
                            "name": {"vi": "Có kế hoạch", "en": "Has a plan"},
                            "points": 20,
                            "channels": ["self_assessment", "appraisal"],
                            "scoring": {"method": "yes_no"},
                        },
                        {
                            "code": "A.2",
                            "kind": "criterion",
                            "name": {"vi": "Tỷ lệ hồ sơ trực tuyến", "en": "Share of files online"},
                            "points": 30,
                            "channels": ["self_assessment", "appraisal"],
                            "scoring": {"method": "ratio", "target": 100},
                        },
                    ],
                }
            ],
        },
        {
            "code": "P2",
            "kind": "pillar",
            "name": {"vi": "Kinh tế số", "en": "Digital economy"},
            "points": 50,
            "children": [
                {
                    "code": "M2",
                    "kind": "main_index",
                    "name": {"vi": "Thương mại điện tử", "en": "E-commerce"},
                    "points": 50,
                    "children": [
                        {
                            "code": "B.1",
                            "kind": "criterion",
                            "name": {"vi": "Tỷ trọng kinh tế số", "en": "Digital economy share"},
                            "points": 50,
                            "channels": ["self_assessment", "appraisal"],
                            "scoring": {"method": "ratio", "target": 1},
                        }
                    ],
                }
            ],
        },
    ],
}

#: (A.1, A.2, B.1) per unit and year; points A.1 yes 20, A.2 value / 100 × 30, B.1 value × 50, index = points / 100
VALUES = {
    # U1 100 → 1.00, U2 20 + 15 + 25 = 60 → .60, U3 0 + 24 + 10 = 34 → .34, U4 20 + 6 + 20 = 46 → .46
    2021: {
        "U1": ("có", "100", "1"),
        "U2": ("có", "50", "0,5"),
        "U3": ("không", "80", "0,2"),
        "U4": ("có", "20", "0,4"),
    },
    # U1 0 + 18 + 30 = 48, U2 20 + 30 + 40 = 90, U3 20 + 15 + 29 = 64, U4 0 + 3 + 5 = 8
    2023: {
        "U1": ("không", "60", "0,6"),
        "U2": ("có", "100", "0,8"),
        "U3": ("có", "50", "0,58"),
        "U4": ("không", "10", "0,1"),
    },
    # on the 2025 list: W1 (formed from U1 and U2) 20 + 24 + 35 = 79, U3 0 + 30 + 45 = 75, U4 20 + 12 + 10 = 42
    2025: {"W1": ("có", "80", "0,7"), "U3": ("không", "100", "0,9"), "U4": ("có", "40", "0,2")},
}
#: each year's index by unit, and rank
INDEX = {
    2021: {"U1": 1.0, "U2": 0.6, "U3": 0.34, "U4": 0.46},
    2023: {"U1": 0.48, "U2": 0.9, "U3": 0.64, "U4": 0.08},
    2025: {"W1": 0.79, "U3": 0.75, "U4": 0.42},
}
RANK = {
    2021: {"U1": 1, "U2": 2, "U4": 3, "U3": 4},
    2023: {"U2": 1, "U3": 2, "U1": 3, "U4": 4},
    2025: {"W1": 1, "U3": 2, "U4": 3},
}


def _round(year: int, version, unit_list):
    evaluation = rounds.create_round(
        f"series-{year}", year, f"DTI thử {year}", f"Test DTI {year}", version, unit_list, actor=None
    )
    import_self_assessed(
        evaluation, {unit: dict(zip(("A.1", "A.2", "B.1"), values)) for unit, values in VALUES[year].items()}
    )
    run = scoring.run_scoring(evaluation, excluded=[], actor=None)
    publication.publish(run, actor=None)
    return evaluation, run


def published_years():
    """The four test provinces published for 2021 and 2023, and for 2025 on a list where W1 was formed from U1 and
    U2 (U3 and U4 kept their borders)."""
    from survey_app.frameworks import operations as frameworks

    version, _ = frameworks.store_framework(framework_from_dict(FRAMEWORK))
    old = units.import_unit_list(
        "series-2019",
        "Bốn tỉnh",
        "Four provinces",
        "province",
        "code,name\nU1,Tỉnh Một\nU2,Tỉnh Hai\nU3,Tỉnh Ba\nU4,Tỉnh Bốn\n".encode(),
        "units.csv",
        actor=None,
    )
    new = units.import_unit_list(
        "series-2025",
        "Ba tỉnh",
        "Three provinces",
        "province",
        "code,name,predecessors\nW1,Tỉnh Mới,U1;U2\nU3,Tỉnh Ba,U3\nU4,Tỉnh Bốn,U4\n".encode(),
        "units.csv",
        predecessor_list=old,
        actor=None,
    )
    made = {year: _round(year, version, old if year < 2025 else new) for year in (2021, 2023)}
    made[2025] = _round(2025, version, new)
    db.session.commit()
    return made


def test_each_years_values_are_the_rounds_published_ones(app):
    made = published_years()
    for year, (_, run) in made.items():
        assert run.index == pytest.approx(INDEX[year])
    found = across_years.unit_series("province", "U3")
    assert [row["year"] for row in found["rows"]] == [2021, 2023, 2025]
    for row in found["rows"]:
        run = made[row["year"]][1]
        assert row["index"] == pytest.approx(run.index["U3"]) == pytest.approx(INDEX[row["year"]]["U3"])
        assert (row["rank"], row["averaged_from"]) == (RANK[row["year"]]["U3"], None)
        # self-assessed data alone carry no sampling noise: the rank range is the rank
        assert (row["rank_low"], row["rank_high"]) == (row["rank"], row["rank"])
    # M1 = (A.1 + A.2) / 50, M2 = B.1 / 50: 2021 (0 + 24) / 50, 10 / 50; 2023 35 / 50, 29 / 50; 2025 30 / 50, 45 / 50
    assert [row["values"] for row in found["rows"]] == [
        pytest.approx({"M1": 0.48, "M2": 0.2}),
        pytest.approx({"M1": 0.7, "M2": 0.58}),
        pytest.approx({"M1": 0.6, "M2": 0.9}),
    ]
    assert [column["code"] for column in found["columns"]] == ["M1", "M2"]
    # 4th → 2nd of the same four: up two places; 2025 ranks among another list of units
    assert [row["movement"] for row in found["rows"]] == [
        {"direction": "none", "reason": "first"},
        {"direction": "up", "places": 2},
        {"direction": "none", "reason": "list_changed"},
    ]
    assert across_years.unit_series("province", "U4")["rows"][1]["movement"] == {"direction": "down", "places": 1}
    assert not found["averaged"] and found["continued_as"] == []


def test_a_merged_units_earlier_years_are_its_predecessors_average(app):
    published_years()
    found = across_years.unit_series("province", "W1")
    rows = {row["year"]: row for row in found["rows"]}
    # 2021: (1.00 + .60) / 2; M1 (50 / 50 + 35 / 50) / 2 = .85, M2 (50 / 50 + 25 / 50) / 2 = .75
    assert rows[2021]["index"] == pytest.approx(0.8)
    assert rows[2021]["values"] == pytest.approx({"M1": 0.85, "M2": 0.75})
    # 2023: (.48 + .90) / 2; M1 (18 / 50 + 50 / 50) / 2 = .68, M2 (30 / 50 + 40 / 50) / 2 = .70
    assert rows[2023]["index"] == pytest.approx(0.69)
    assert rows[2023]["values"] == pytest.approx({"M1": 0.68, "M2": 0.7})
    assert [old["code"] for old in rows[2023]["averaged_from"]] == ["U1", "U2"]
    assert [(old["index"], old["rank"]) for old in rows[2023]["averaged_from"]] == [
        pytest.approx((0.48, 3)),
        pytest.approx((0.9, 1)),
    ]
    # the same average the 2025 ranking's merger table shows for last year
    merger = next(
        row for row in publication.merger_series(scoring.published_run(rounds_of(2025))) if row["unit"] == "W1"
    )
    assert merger["previous_index"] == pytest.approx(rows[2023]["index"])
    # its own year: index .79, first of three; an average has no rank
    assert (rows[2025]["index"], rows[2025]["rank"], rows[2025]["units"]) == (pytest.approx(0.79), 1, 3)
    assert (rows[2021]["rank"], rows[2023]["rank"]) == (None, None)
    assert rows[2025]["movement"] == {"direction": "none", "reason": "averaged"}
    assert found["averaged"]
    # a unit merged away: its own years up to 2023, and what it became part of
    gone = across_years.unit_series("province", "U2")
    assert [(row["year"], row["rank"]) for row in gone["rows"]] == [(2021, 2), (2023, 1)]
    assert gone["rows"][1]["movement"] == {"direction": "up", "places": 1}
    assert gone["continued_as"] == [{"code": "W1", "name": "Tỉnh Mới", "year": 2025}]


def rounds_of(year: int):
    from sqlalchemy import select

    from survey_app.rounds.models import EvaluationRound

    return db.session.scalar(select(EvaluationRound).where(EvaluationRound.code == f"series-{year}"))


def test_the_chart_places_each_year_and_marks_the_averaged_ones():
    drawn = across_years.chart([(2021, 0.8, True), (2023, None, False), (2025, 0.25, False)])
    # x from 44 to 380 over 2021-2025; y from 170 (0) up to 14 (1)
    assert [(p["x"], p["y"], p["averaged"]) for p in drawn["points"]] == [(44, 45.2, True), (380, 131, False)]
    assert [year["x"] for year in drawn["years"]] == [44, 212, 380]
    assert drawn["segments"] == [{"x1": 44, "y1": 45.2, "x2": 380, "y2": 131, "dashed": True}]
    assert [tick["y"] for tick in drawn["ticks"]] == [170, 131, 92, 53, 14]


def _cells(page: str, year: int) -> list[str]:
    row = re.search(rf'<tr data-year="{year}">(.*?)</tr>', page, re.S).group(1)
    return [
        " ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
    ]


def test_the_page_shows_the_table_the_chart_and_the_marks_in_both_languages(app, client):
    published_years()
    page = client.get("/results/series/province/W1")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "<svg" in text and "<script" not in text and "stroke-dasharray" in text
    # Vietnamese notation: four decimals with a comma; the averaged years marked, without a rank
    assert _cells(text, 2021)[:4] == ["2021 *", "0,8000", "—", "—"]
    assert _cells(text, 2025)[:2] == ["2025", "0,7900"]
    assert "Tỉnh Một, Tỉnh Hai" in text and 'id="series-averaged"' in text
    u3 = client.get("/results/series/province/U3").get_data(as_text=True)
    assert _cells(u3, 2023)[4].startswith("▲") and 'data-movement="up"' in u3
    client.get("/language/en")
    english = client.get("/results/series/province/U3").get_data(as_text=True)
    assert _cells(english, 2023) == ["2023", "0.6400", "2 of 4", "2–2", "▲ up 2 places", "0.7000", "0.5800"]
    assert "another list of units" in english
    gone = client.get("/results/series/province/U2").get_data(as_text=True)
    assert 'id="series-continued"' in gone and "/results/series/province/W1" in gone


def test_unknown_levels_and_units_get_a_clear_page_not_a_server_error(app, client):
    published_years()
    for path in ("/results/series/province/ZZ", "/results/series/ministry/U1", "/results/series/x/" + "9" * 300):
        answer = client.get(path)
        assert answer.status_code == 404, path
    client.get("/language/en")
    answer = client.get("/results/series/province/ZZ").get_data(as_text=True)
    assert "No published round of this level has a unit with the code “ZZ”." in answer


def test_a_demo_units_series_lists_its_published_years_with_their_published_values(app, runner, client):
    from survey_app.core.demo import DEMO_PUBLISHED_ROUND

    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    published = {found.year: found for found in publication.published_rounds() if found.level == "province"}
    assert DEMO_PUBLISHED_ROUND in {found.code for found in published.values()}
    found = across_years.unit_series("province", "01")
    assert [row["year"] for row in found["rows"]] == sorted(published)
    for row in found["rows"]:
        run = scoring.published_run(published[row["year"]])
        values = scoring.result(run).scores.values()
        assert row["index"] == pytest.approx(run.index["01"])
        assert row["rank"] == scoring.ranking(run).set_index("unit").loc["01", "rank"]
        assert row["values"] == pytest.approx({code: values.loc["01", code] for code in row["values"]})
    # the demo framework's main indices, in its order, less those the run left out with their excluded criteria
    main = ["AW", "INST", "INFRA", "HR", "SEC", "SMART", "DG", "DE", "DS"]
    scored = scoring.result(scoring.published_run(published[max(published)])).scores.values().columns
    assert [column["code"] for column in found["columns"]] == [code for code in main if code in scored]
    page = client.get("/results/series/province/01")
    assert page.status_code == 200 and "<svg" in page.get_data(as_text=True)
