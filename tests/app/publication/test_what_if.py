"""The what-if page of the public results site: under the official weights it is the published ranking; under
other weights and shares it is the ranking a full scoring run on a framework carrying them computes; values
outside the stated bounds are refused with a message; always marked unofficial."""

import copy
import html
import re
from urllib.parse import urlencode

import pytest

from questionnaires import ChannelShares, framework_from_dict
from survey_app.core.extensions import db, limiter
from survey_app.frameworks import operations as frameworks
from survey_app.publication import operations as publication
from survey_app.publication import what_if as service
from survey_app.rounds import operations as rounds
from survey_app.scoring import channel_inputs
from survey_app.scoring import operations as scoring
from survey_app.units import operations as units
from tests.conftest import import_self_assessed


def _criterion(code, points, method="ratio"):
    return {
        "code": code,
        "kind": "criterion",
        "name": {"vi": f"Tiêu chí {code}", "en": f"Criterion {code}"},
        "points": points,
        "channels": ["self_assessment", "appraisal"],
        "scoring": {"method": method, **({"target": 1} if method == "ratio" else {})},
    }


def _node(kind, code, points, children, vi, en):
    return {"code": code, "kind": kind, "name": {"vi": vi, "en": en}, "points": points, "children": children}


#: two pillars of 100 points, each 80% assessed (its main indices), cyberspace 10%, experts 10% [1726 II.2.a]
FRAMEWORK = {
    "code": "what-if-test",
    "level": "province",
    "year": 2023,
    "version": 1,
    "name": {"vi": "Chỉ số thử", "en": "Test index"},
    "total_points": 200,
    "published_as": "value",
    "channel_shares": {"assessment": 0.8, "cyberspace": 0.1, "expert": 0.1, "level": "pillar"},
    "nodes": [
        _node(
            "pillar",
            "P1",
            100,
            [
                _node(
                    "main_index",
                    "AW",
                    40,
                    [_criterion("AW.1", 20, "yes_no"), _criterion("AW.2", 20)],
                    "Nhận thức",
                    "Awareness",
                ),
                _node("main_index", "INST", 40, [_criterion("INST.1", 40)], "Thể chế", "Institutions"),
            ],
            "Chính quyền số",
            "Digital government",
        ),
        _node(
            "pillar",
            "P2",
            100,
            [
                _node(
                    "main_index",
                    "DE",
                    50,
                    [_criterion("DE.1", 30), _criterion("DE.2", 20)],
                    "Kinh tế số",
                    "Digital economy",
                ),
                _node("main_index", "HR", 30, [_criterion("HR.1", 30)], "Nhân lực", "Human resources"),
            ],
            "Kinh tế số",
            "Digital economy",
        ),
    ],
}
UNITS = {"U1": "Tỉnh Một", "U2": "Tỉnh Hai", "U3": "Tỉnh Ba", "U4": "Tỉnh Bốn", "U5": "Tỉnh Năm"}
#: DE.2 has data for two units of five (proposed for exclusion, and excluded); U5 reports nothing on HR.1
VALUES = {
    "U1": {"AW.1": "có", "AW.2": "0,9", "INST.1": "0,2", "DE.1": "0,5", "DE.2": "1", "HR.1": "0,3"},
    "U2": {"AW.1": "không", "AW.2": "0,4", "INST.1": "0,9", "DE.1": "0,8", "HR.1": "0,9"},
    "U3": {"AW.1": "có", "AW.2": "0,6", "INST.1": "0,5", "DE.1": "0,2", "DE.2": "0,5", "HR.1": "0,5"},
    "U4": {"AW.1": "có", "AW.2": "0,1", "INST.1": "0,7", "DE.1": "0,9", "HR.1": "0,1"},
    "U5": {"AW.1": "không", "AW.2": "1", "INST.1": "1", "DE.1": "0,3"},
}
#: sentiment per main index; U4 has none on DE
CYBERSPACE = {
    "U1": {"AW": 0.9, "INST": 0.2, "DE": 0.5, "HR": 0.4},
    "U2": {"AW": 0.1, "INST": 0.8, "DE": 0.7, "HR": 0.6},
    "U3": {"AW": 0.5, "INST": 0.5, "DE": 0.1, "HR": 0.9},
    "U4": {"AW": 0.3, "INST": 0.6, "HR": 0.2},
    "U5": {"AW": 0.7, "INST": 0.4, "DE": 0.3, "HR": 0.5},
}


def weighed(factors, shares, code):
    """FRAMEWORK with each main index's subtree scaled by its factor and each pillar 100% of its main indices over
    the assessment's share: the framework a full run with those weights and shares scores on."""
    document = copy.deepcopy(FRAMEWORK)
    document["code"] = code

    def scale(node, factor):
        node["points"] *= factor
        for child in node.get("children", []):
            scale(child, factor)

    for pillar in document["nodes"]:
        for main in pillar["children"]:
            scale(main, factors.get(main["code"], 1.0))
        pillar["points"] = sum(main["points"] for main in pillar["children"]) / shares.assessment
    document["total_points"] = sum(pillar["points"] for pillar in document["nodes"])
    document["channel_shares"] = {
        "assessment": shares.assessment,
        "cyberspace": shares.cyberspace,
        "expert": shares.expert,
        "level": "pillar",
    }
    return document


def scored_round(document, round_code, unit_list, *, reading, normalisation, publish):
    """A round of ``document`` over ``unit_list`` fed VALUES and CYBERSPACE, scored (and published); also the
    public site's browser test's."""
    version, _ = frameworks.store_framework(framework_from_dict(document))
    evaluation = rounds.create_round(
        round_code, 2023, f"DTI {round_code}", f"DTI {round_code}", version, unit_list, actor=None
    )
    import_self_assessed(evaluation, VALUES)
    sentiment = [
        {"unit": unit, "node": node, "value": str(value)}
        for unit, values in CYBERSPACE.items()
        for node, value in values.items()
    ]
    assert channel_inputs.store_cyberspace(evaluation, sentiment, actor=None).rejected == []
    assert list(scoring.proposed_exclusions(evaluation)["node"]) == ["DE.2"]
    run = scoring.run_scoring(
        evaluation,
        excluded=["DE.2"],
        rules={"peer_maximum": {"units": ["U5"], "criteria": ["HR.1"]}},
        exclusion=reading,
        normalisation=normalisation,
        actor=None,
    )
    if publish:
        publication.publish(run, actor=None)
    db.session.commit()
    return evaluation, run


def five_provinces():
    """The unit list of UNITS, imported."""
    table = "code,name\n" + "".join(f"{code},{name}\n" for code, name in UNITS.items())
    return units.import_unit_list(
        "what-if-units", "Năm tỉnh", "Five provinces", "province", table.encode(), "units.csv", actor=None
    )


@pytest.mark.parametrize(("reading", "normalisation"), [("redistribute", "none"), ("remove", "min-max")])
def test_other_weights_and_shares_give_the_ranking_of_a_full_run_with_them(app, client, reading, normalisation):
    unit_list = five_provinces()
    evaluation, run = scored_round(
        FRAMEWORK, "wi-2023", unit_list, reading=reading, normalisation=normalisation, publish=True
    )
    found = service.model(run)
    assert service.adjustable_weights(found) == {"AW": 40, "INST": 40, "DE": 50, "HR": 30}

    # under the official weights: the published index and rank of every unit
    official = service.ranking(run, found, service.read_choice(found, {}))
    published = scoring.ranking(run).set_index("unit")
    assert len(official) == 5
    for row in official:
        assert abs(row["index"] - run.index[row["unit"]]) < 1e-9
        assert row["rank"] == published.loc[row["unit"], "rank"] and row["change"] == 0

    # AW 1.5×, DE 0.5×, HR 1.2×; shares 70 / 15 / 15
    factors, shares = {"AW": 1.5, "DE": 0.5, "HR": 1.2}, ChannelShares(0.7, 0.15, 0.15)
    _, full = scored_round(
        weighed(factors, shares, "what-if-weighed"),
        "wi-2023-weighed",
        unit_list,
        reading=reading,
        normalisation=normalisation,
        publish=False,
    )
    args = {
        "w.AW": "60",
        "w.INST": "40",
        "w.DE": "25",
        "w.HR": "36",
        "s.assessment": "70",
        "s.cyberspace": "15",
        "s.expert": "15",
    }
    choice = service.read_choice(found, args)
    assert choice.refusals == [] and not choice.official
    rows = {row["unit"]: row for row in service.ranking(run, found, choice)}
    ranks = scoring.ranking(full).set_index("unit")["rank"]
    for unit, value in full.index.items():
        assert abs(rows[unit]["index"] - value) < 1e-9
        assert rows[unit]["rank"] == ranks[unit]
        assert rows[unit]["change"] == published.loc[unit, "rank"] - ranks[unit]
    assert any(row["change"] for row in rows.values())  # the choice moves the ranking

    # the page says the same, and that it is not the official ranking
    page = client.get(f"/results/wi-2023/what-if?lang=en&{urlencode(args)}")
    assert page.status_code == 200
    text = html.unescape(page.get_data(as_text=True))
    assert "Unofficial: this is not the official ranking." in text
    assert 'href="/results/wi-2023"' in text
    for row in rows.values():
        cells = re.search(
            rf">{UNITS[row['unit']]}</a></th>\s*<td class=\"num\">([^<]+)</td>\s*<td class=\"num\">(\d+)</td>"
            r"\s*<td class=\"change\">(.*?)</td>",
            text,
            re.S,
        )
        assert cells and (cells.group(1), int(cells.group(2))) == (f"{row['index']:.4f}", row["rank"])
        moved = row["change"]
        plural = "" if abs(moved) == 1 else "s"
        said = f"up {moved} place{plural}" if moved > 0 else f"down {-moved} place{plural}" if moved else "unchanged"
        assert said in cells.group(3)


def test_the_demo_s_published_round_under_its_official_weights(app, runner, client):
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    evaluation = next(found for found in publication.published_rounds() if found.code == "province-2022-demo")
    run = scoring.published_run(evaluation)
    found = service.model(run)
    # the 2021-2023 demo framework gives the channels no shares: the main indices' weights alone
    assert service.share_bounds(found.framework) == {}
    weights = service.adjustable_weights(found)
    assert weights and all(value > 0 for value in weights.values())
    published = scoring.ranking(run).set_index("unit")
    # the official weights, left empty or typed as they are
    typed = {f"w.{code}": f"{value:g}" for code, value in weights.items()}
    for args in ({}, typed):
        choice = service.read_choice(found, args)
        assert choice.official and choice.refusals == []
        rows = service.ranking(run, found, choice)
        assert len(rows) == len(published) == 63
        for row in rows:
            assert abs(row["index"] - run.index[row["unit"]]) < 1e-9
            assert row["rank"] == published.loc[row["unit"], "rank"]
    for language in ("vi", "en"):
        page = client.get(f"/results/province-2022-demo/what-if?lang={language}")
        text = page.get_data(as_text=True)
        assert page.status_code == 200 and f'<html lang="{language}">' in text
        assert 'href="/results/province-2022-demo"' in text and 'role="note"' in text
        # every main index's weight in the form, at its official value
        for code, value in weights.items():
            assert f'name="w.{code}" type="text" inputmode="decimal" maxlength="20"\n        value="{value:g}"' in text


def test_values_outside_the_bounds_are_refused_with_a_message(app, client):
    evaluation, run = scored_round(
        FRAMEWORK, "wi-2023", five_provinces(), reading="redistribute", normalisation="none", publish=True
    )
    cases = [
        ("w.AW=61", "AW Awareness: must be between 20 and 60."),
        ("w.AW=abc", "AW Awareness: “abc” is not a number."),
        ("s.assessment=80&s.cyberspace=16&s.expert=4", "Expert interviews: must be between 5% and 15%."),
        (
            "s.assessment=80&s.cyberspace=15&s.expert=10",
            "The channels' shares add up to 105%: they must add up to 100%.",
        ),
    ]
    for query, message in cases:
        page = client.get(f"/results/wi-2023/what-if?lang=en&{query}")
        text = html.unescape(page.get_data(as_text=True))
        assert page.status_code == 400, query
        assert message in text, query
        assert "What-if ranking (unofficial)" not in text  # nothing recomputed
    assert client.get("/results/no-such-round/what-if").status_code == 404
    # a round whose results are not published has no what-if
    rounds.create_round("wi-open", 2023, "DTI mở", "Open DTI", evaluation.framework, evaluation.unit_list, actor=None)
    db.session.commit()
    assert client.get("/results/wi-open/what-if").status_code == 404
    # each what-if not yet cached recomputes a ranking: limited more tightly than the other public pages
    app.config["WHAT_IF_RATE_LIMIT"] = "2 per minute"
    limiter.reset()
    statuses = [client.get(f"/results/wi-2023/what-if?w.AW={weight}").status_code for weight in (30, 31, 32)]
    assert statuses == [200, 200, 429]
