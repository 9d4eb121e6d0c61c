"""Two to four units of a published round side by side: each unit's index and rank equal to the ranking's, every node
of the tree with its value, and the meaningful differences marked by the rule the page states; the choice made by a
plain GET form; too few, too many or unknown units answered with a clear message, never a server error. Every
number below is computed by hand (the rounds are test_series.py's)."""

import re

import pytest

from survey_app.publication import compare as comparing
from survey_app.scoring import operations as scoring
from tests.app.publication.test_series import published_years


def _unit(code, rank, rank_low, rank_high, index=0.5):
    return {"code": code, "rank": rank, "rank_low": rank_low, "rank_high": rank_high, "index": index}


def test_a_unit_is_meaningfully_ahead_only_when_the_rank_ranges_do_not_overlap():
    # ranges 1–3 and 2–5 overlap; 1–2 and 4–6 do not; a shared rank is never a lead
    assert not comparing.rank_pair(_unit("A", 1, 1, 3), _unit("B", 2, 2, 5))["meaningful"]
    found = comparing.rank_pair(_unit("A", 1, 1, 2, 0.75), _unit("B", 5, 4, 6, 0.5))
    assert found == {"ahead": "A", "behind": "B", "tied": False, "meaningful": True, "difference": 0.25}
    assert comparing.rank_pair(_unit("A", 3, 3, 3), _unit("B", 3, 3, 3))["tied"]
    # ranges that touch (3–4 and 4–6) overlap
    assert not comparing.rank_pair(_unit("A", 3, 3, 4), _unit("B", 5, 4, 6))["meaningful"]


def test_a_node_differs_meaningfully_from_a_twentieth_of_its_maximum():
    node = {"code": "M1", "kind": "main_index", "name": {}, "parent": None, "maximum": 50, "scored": True}
    node["excluded"] = False
    close = comparing.node_row(node, [{"value": 0.60}, {"value": 0.58}])
    assert (close["spread"], close["meaningful"]) == (pytest.approx(0.02), False)
    assert not any(cell["highest"] or cell["lowest"] for cell in close["cells"])
    # exactly .05 apart counts; the unit without a value is left out of the spread
    apart = comparing.node_row(node, [{"value": 0.65}, None, {"value": 0.70}, {"value": 0.67}])
    assert (apart["spread"], apart["meaningful"]) == (pytest.approx(0.05), True)
    assert [(c["highest"], c["lowest"]) if c else None for c in apart["cells"]] == [
        (False, True),
        None,
        (True, False),
        (False, False),
    ]


def _card(code, index, rank, rank_range, value, noisy):
    """A scorecard as ``publication.scorecard`` gives it, cut to what a comparison reads."""
    low, high = rank_range
    return {
        "unit": code,
        "index": index,
        "rank": rank,
        "units": 10,
        "interval": {
            "index_low": index - 0.02,
            "index_high": index + 0.02,
            "rank_low": low,
            "rank_high": high,
            "noisy": noisy,
        },
        "missing": [{"channel": "survey", "criteria": ["A.1", "A.2"]}] if code == "B" else [],
        "previous": None,
        "nodes": [
            {"code": "M", "kind": "main_index", "name": {"vi": "M", "en": "M"}, "parent": None, "maximum": 10}
            | {"scored": True, "excluded": False, "value": value, "points": 10 * value, "rank": rank}
        ],
    }


def test_a_comparison_puts_the_best_rank_first_and_pairs_every_two_units():
    cards = {
        "C": _card("C", 0.40, 7, (5, 9), 0.30, True),
        "A": _card("A", 0.70, 1, (1, 2), 0.90, True),
        "B": _card("B", 0.62, 3, (2, 6), 0.88, False),
    }
    found = comparing.comparison(cards, {"A": "Tỉnh A", "B": "Tỉnh B"})
    assert [(u["code"], u["name"], u["missing"]) for u in found["units"]] == [
        ("A", "Tỉnh A", 0),
        ("B", "Tỉnh B", 2),
        ("C", "C", 0),
    ]
    # A 1–2 against B 2–6 overlap, against C 5–9 do not; B 2–6 and C 5–9 overlap
    assert [(p["ahead"], p["behind"], p["meaningful"]) for p in found["pairs"]] == [
        ("A", "B", False),
        ("A", "C", True),
        ("B", "C", False),
    ]
    assert found["pairs"][1]["difference"] == pytest.approx(0.30)
    # M: .90, .88, .30 are .60 apart: A highest, C lowest, B neither
    (node,) = found["nodes"]
    assert (node["spread"], node["meaningful"]) == (pytest.approx(0.6), True)
    assert [(c["highest"], c["lowest"]) for c in node["cells"]] == [(True, False), (False, False), (False, True)]
    assert found["noisy"] and found["threshold"] == 0.05


def test_the_choice_is_two_to_four_known_units_each_once():
    known = ["U1", "U2", "U3", "U4", "U5"]
    assert comparing.chosen_units(["U2", " U1", "U2", ""], known) == ["U2", "U1"]
    for asked, code, params in (
        (["U1"], "too_few", {"count": 1}),
        (["U1", "U1"], "too_few", {"count": 1}),
        (["U1", "U2", "U3", "U4", "U5"], "too_many", {"count": 5}),
        (["U1", "ZZ"], "unknown_unit", {"unit": "ZZ"}),
    ):
        with pytest.raises(comparing.ChoiceProblem) as caught:
            comparing.chosen_units(asked, known)
        assert caught.value.code == code and params.items() <= caught.value.params.items()


def _index_cells(page: str) -> dict[str, tuple[str, str]]:
    """Each unit's index on the page: the exact value and the shown one, in the order shown."""
    return {
        code: (exact, shown)
        for code, exact, shown in re.findall(r'data-unit="([^"]+)" data-index="([^"]+)">([^<]+)</td>', page)
    }


def _node_cells(page: str, code: str) -> list[str]:
    row = re.search(rf'<tr [^>]*data-node="{re.escape(code)}">(.*?)</tr>', page, re.S).group(1)
    return [" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]


def test_the_comparison_shows_each_units_published_index_and_rank_and_marks_the_differences(app, client):
    made = published_years()
    _, run = made[2023]
    ranking = scoring.ranking(run).set_index("unit")
    client.get("/language/en")
    answer = client.get("/results/series-2023/compare?unit=U1&unit=U2&unit=U3")
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    shown = _index_cells(page)
    # best rank first: U2 .90, U3 .64, U1 .48, each the ranking's value
    assert list(shown) == ["U2", "U3", "U1"]
    for code, (exact, text) in shown.items():
        assert float(exact) == pytest.approx(ranking.loc[code, "index"])
        assert text == f"{ranking.loc[code, 'index']:.4f}"
    assert "1 of 4" in page and "2 of 4" in page and "3 of 4" in page
    # no sampling noise: each rank range is the rank, and the page says so
    assert "every difference of rank stands as measured" in page
    assert "Tỉnh Hai is meaningfully ahead of Tỉnh Ba" in page
    # M2 = B.1 / 50: U2 .80, U3 .58, U1 .60: .22 apart, highest U2, lowest U3
    assert _node_cells(page, "M2") == [
        "50",
        "▲ highest 0.8000 (rank 1)",
        "▼ lowest 0.5800 (rank 3)",
        "0.6000 (rank 2)",
        "yes, 0.22 apart",
    ]
    # the rule is stated with its threshold
    assert "at least 0.05 apart" in page
    # U1 and U3 alone: M2 .60 and .58 are .02 apart, not meaningful; A.2 .60 and .50 are
    pair = client.get("/results/series-2023/compare?unit=U3&unit=U1").get_data(as_text=True)
    assert _node_cells(pair, "M2") == ["50", "0.5800 (rank 3)", "0.6000 (rank 2)", "no, 0.02 apart"]
    assert _node_cells(pair, "A.2")[-1] == "yes, 0.10 apart"
    assert "<script" not in page and 'method="get"' in page


def test_bad_choices_get_a_clear_message_and_no_server_error(app, client):
    published_years()
    form = client.get("/results/series-2023/compare")
    assert form.status_code == 200 and 'id="compare-problem"' not in form.get_data(as_text=True)
    # Vietnamese first: the form is there with its four selects
    assert form.get_data(as_text=True).count('<select id="unit-') == 4
    # a scorecard's link chooses its unit first; an unknown one is ignored
    started = client.get("/results/series-2023/compare?start=U3").get_data(as_text=True)
    assert re.search(r'<select id="unit-1" name="unit">.*?<option value="U3" selected>', started, re.S)
    assert " selected>" not in client.get("/results/series-2023/compare?start=ZZ").get_data(as_text=True)
    client.get("/language/en")
    for query, message in (
        ("unit=U1", "Choose at least 2 different units to compare (you chose 1)."),
        ("unit=U1&unit=U1", "Choose at least 2 different units to compare (you chose 1)."),
        ("unit=&unit=&unit=&unit=", "Choose at least 2 different units to compare (you chose 0)."),
        ("unit=U1&unit=ZZ", "This round has no published result for a unit with the code “ZZ”."),
        ("unit=U1&unit=" + "<b>" * 40, "This round has no published result for a unit with the code"),
    ):
        answer = client.get(f"/results/series-2023/compare?{query}")
        text = answer.get_data(as_text=True)
        assert answer.status_code == 400 and message in text, query
        assert 'id="compare-units"' not in text and "<b><b>" not in text
    # four units, one asked twice: compared once each
    four = client.get("/results/series-2023/compare?unit=U1&unit=U2&unit=U3&unit=U4&unit=U1")
    assert four.status_code == 200 and len(_index_cells(four.get_data(as_text=True))) == 4
    assert client.get("/results/no-such-round/compare?unit=U1&unit=U2").status_code == 404
