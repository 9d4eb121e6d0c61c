"""What-if rankings from a run's linear coefficients (analysis.what_if): small cases computed by hand, the
official weights giving back the run's index, other weights and shares giving what ``compute`` gives on the
framework carrying them, and the bounds."""

import copy
import itertools

import numpy as np
import pandas as pd
import pytest

from analysis import EstimationError, compute, external_values
from analysis.what_if import adjustable_weights, coefficients, weight_bounds, what_if
from questionnaires import ChannelShares, framework_from_dict


def _criterion(code, points):
    return {
        "code": code,
        "kind": "criterion",
        "name": {"vi": code, "en": code},
        "points": points,
        "channels": ["self_assessment", "appraisal"],
        "scoring": {"method": "ratio", "target": 1},
    }


def _node(kind, code, points, children):
    return {"code": code, "kind": kind, "name": {"vi": code, "en": code}, "points": points, "children": children}


def _framework(nodes, total, shares=None):
    document = {
        "code": "what-if",
        "level": "province",
        "year": 2023,
        "version": 1,
        "name": {"vi": "Thử", "en": "Test"},
        "total_points": total,
        "published_as": "value",
        "nodes": nodes,
    }
    if shares:
        document["channel_shares"] = shares
    return document


def _points(rows):
    return pd.DataFrame([{"unit": u, "node": n, "points": p} for u, values in rows.items() for n, p in values.items()])


def test_other_weights_by_hand():
    # A 60 and B 40 points, one criterion each, in one group of 100
    framework = framework_from_dict(
        _framework(
            [
                _node(
                    "group",
                    "G",
                    100,
                    [
                        _node("main_index", "A", 60, [_criterion("A.1", 60)]),
                        _node("main_index", "B", 40, [_criterion("B.1", 40)]),
                    ],
                )
            ],
            100,
        )
    )
    points = _points({"U1": {"A.1": 60, "B.1": 0}, "U2": {"A.1": 30, "B.1": 40}, "U3": {"A.1": 45, "B.1": 20}})
    found = coefficients(framework, compute(framework, points))
    assert adjustable_weights(found) == {"A": 60, "B": 40}
    assert weight_bounds(found) == {"A": (30, 90), "B": (20, 60)}
    official = what_if(found)
    assert official["index"].to_dict() == pytest.approx({"U1": 0.6, "U2": 0.7, "U3": 0.65}, abs=1e-12)
    assert official["rank"].to_dict() == {"U2": 1, "U3": 2, "U1": 3}
    # A 90 (1.5×), B 20 (0.5×): every point of A counts 1.5, of B 0.5, over 110
    moved = what_if(found, {"A": 90, "B": 20})
    assert moved["index"].to_dict() == pytest.approx({"U1": 90 / 110, "U2": 65 / 110, "U3": 77.5 / 110}, abs=1e-12)
    assert moved["rank"].to_dict() == {"U1": 1, "U3": 2, "U2": 3}


def test_other_shares_and_weights_by_hand_average_the_cyberspace_values_again():
    # one pillar of 100: A 50 and B 30 points (its 80% assessed), cyberspace 10%, experts 10%
    framework = framework_from_dict(
        _framework(
            [
                _node(
                    "pillar",
                    "P",
                    100,
                    [
                        _node("main_index", "A", 50, [_criterion("A.1", 50)]),
                        _node("main_index", "B", 30, [_criterion("B.1", 30)]),
                    ],
                )
            ],
            100,
            {"assessment": 0.8, "cyberspace": 0.1, "expert": 0.1, "level": "pillar"},
        )
    )
    points = _points({"U1": {"A.1": 50, "B.1": 0}, "U2": {"A.1": 0, "B.1": 30}})
    cyberspace = pd.DataFrame(
        [
            {"unit": "U1", "node": "A", "value": 1.0},
            {"unit": "U1", "node": "B", "value": 0.0},
            {"unit": "U2", "node": "A", "value": 0.0},
            {"unit": "U2", "node": "B", "value": 1.0},
        ]
    )
    rows = external_values(framework, cyberspace, "cyberspace")
    found = coefficients(
        framework,
        compute(framework, points, channels=rows),
        rows,
        channel_values=cyberspace.assign(channel="cyberspace"),
    )
    # U1: 50 + 0.1 × 100 × (50 × 1 + 30 × 0) / 80 = 56.25; U2: 30 + 10 × 30 / 80 = 33.75
    assert what_if(found)["index"].to_dict() == pytest.approx({"U1": 0.5625, "U2": 0.3375}, abs=1e-12)
    # A 25, B 45, shares 70/15/15: the pillar keeps its ratio to A + B (70 / 0.8 = 87.5 points, the total too);
    # U1: 25 × 0.7 / 0.8 = 21.875 assessed + 0.15 × 87.5 × (25 / 70) = 4.6875 cyberspace, over 87.5;
    # U2: 45 × 0.875 = 39.375 + 0.15 × 87.5 × (45 / 70) = 8.4375, over 87.5
    moved = what_if(found, {"A": 25, "B": 45}, ChannelShares(0.7, 0.15, 0.15))
    assert moved["index"].to_dict() == pytest.approx({"U1": 26.5625 / 87.5, "U2": 47.8125 / 87.5}, abs=1e-12)
    assert moved["rank"].to_dict() == {"U2": 1, "U1": 2}
    # the same written as a framework of its own: A 25 + B 45 = 70% of a 100-point pillar
    assert moved.loc["U1", "index"] == pytest.approx((25 + 15 * 25 / 70) / 100, abs=1e-12)


#: two pillars of 100 (80% assessed), four main indices, cyberspace and experts 10% each
BASE = _framework(
    [
        _node(
            "pillar",
            "P1",
            100,
            [
                _node("main_index", "M1", 40, [_criterion("M1.a", 20), _criterion("M1.b", 20)]),
                _node("main_index", "M2", 40, [_criterion("M2.a", 40)]),
            ],
        ),
        _node(
            "pillar",
            "P2",
            100,
            [
                _node("main_index", "M3", 50, [_criterion("M3.a", 30), _criterion("M3.b", 20)]),
                _node("main_index", "M4", 30, [_criterion("M4.a", 10), _criterion("M4.b", 20)]),
            ],
        ),
    ],
    200,
    {"assessment": 0.8, "cyberspace": 0.1, "expert": 0.1, "level": "pillar"},
)


def _as_level(level):
    """BASE with its shares on the whole tree (groups in place of pillars), or with no shares."""
    document = copy.deepcopy(BASE)
    if level == "pillar":
        return document
    for node in document["nodes"]:
        node["kind"], node["points"] = "group", sum(child["points"] for child in node["children"])
    top = sum(node["points"] for node in document["nodes"])
    if level == "framework":
        document["channel_shares"]["level"] = "framework"
        document["total_points"] = top / 0.8
    else:
        del document["channel_shares"]
        document["total_points"] = top
    return document


def weighed(document, factors, shares=None):
    """The framework with each main index's subtree scaled by its factor, every node above keeping the ratio of
    its points to its children's, and other channel shares: what a full run with those weights scores on."""
    document = copy.deepcopy(document)

    def scale(node, factor):
        node["points"] *= factor
        for child in node.get("children", []):
            scale(child, factor)

    stated = document.get("channel_shares")
    assessment = shares.assessment if shares else (stated or {}).get("assessment", 1.0)
    for top in document["nodes"]:
        for main in top["children"]:
            scale(main, factors.get(main["code"], 1.0))
        top["points"] = sum(main["points"] for main in top["children"])
        if stated and stated["level"] == "pillar":
            top["points"] /= assessment
    document["total_points"] = sum(top["points"] for top in document["nodes"])
    if stated and stated["level"] == "framework":
        document["total_points"] /= assessment
    if shares:
        document["channel_shares"] = {
            "assessment": shares.assessment,
            "cyberspace": shares.cyberspace,
            "expert": shares.expert,
            "level": stated["level"],
        }
    return document


UNITS = ["U1", "U2", "U3", "U4", "U5"]
CHOICES = [
    ({"M1": 1.5, "M3": 0.5}, None),
    ({}, ChannelShares(0.7, 0.15, 0.15)),
    ({"M2": 0.6, "M4": 1.4, "M1": 1.2}, ChannelShares(0.85, 0.05, 0.1)),
]


@pytest.mark.parametrize("level", ["pillar", "framework", "none"])
def test_the_official_weights_give_the_run_and_other_weights_a_run_on_the_weighed_framework(level):
    rng = np.random.default_rng(24)
    document = _as_level(level)
    measured = {
        (unit, code): rng.random()
        for unit in UNITS
        for code in ("M1.a", "M1.b", "M2.a", "M3.a", "M3.b", "M4.a", "M4.b")
    }
    cyberspace = pd.DataFrame(
        [
            {"unit": u, "node": m, "value": np.nan if (u, m) == ("U1", "M3") else rng.random()}
            for u in UNITS[:4]
            for m in ("M1", "M2", "M3", "M4")
        ]
    )
    expert = pd.DataFrame(
        [{"unit": u, "node": m, "value": rng.random()} for u in UNITS[1:] for m in ("M1", "M2", "M4")]
    )
    values = pd.concat([cyberspace.assign(channel="cyberspace"), expert.assign(channel="expert")], ignore_index=True)

    def run(framework, excluded, normalisation, reading):
        maxima = {node.code: node.points for node in framework.leaves()}
        # U2 reported nothing on M1.a: it scores 0 there, as in the run
        points = pd.DataFrame(
            [
                {"unit": u, "node": c, "points": np.nan if (u, c) == ("U2", "M1.a") else measured[(u, c)] * maxima[c]}
                for u in UNITS
                for c in maxima
            ]
        )
        rows = pd.concat(
            [external_values(framework, cyberspace, "cyberspace"), external_values(framework, expert, "expert")],
            ignore_index=True,
        )
        return compute(
            framework, points, excluded=excluded, channels=rows, normalisation=normalisation, exclusion=reading
        ), rows

    framework = framework_from_dict(document)
    exclusions = (set(), {"M1.a"}, {"M2.a"}, {"M4.a", "M4.b", "M1.b"})
    for reading, normalisation, excluded in itertools.product(
        ("redistribute", "remove"), ("none", "min-max", "z-score"), exclusions
    ):
        scores, rows = run(framework, excluded, normalisation, reading)
        found = coefficients(framework, scores, rows, channel_values=values, exclusion=reading)
        official = what_if(found)
        assert np.abs(official["index"] - scores.index_value).max() < 1e-12
        assert official["rank"].equals(scores.ranks()["index"])
        for factors, shares in CHOICES:
            if shares is not None and level == "none":
                continue
            # an excluded main index is out of the evaluation: it keeps its weight
            factors = {code: factor for code, factor in factors.items() if code in found.main.columns}
            other = framework_from_dict(weighed(document, factors, shares))
            expected, _ = run(other, excluded, normalisation, reading)
            weights = {code: framework.find(code).points * factor for code, factor in factors.items()}
            got = what_if(found, weights, shares)
            assert np.abs(got["index"] - expected.index_value).max() < 1e-12, (
                reading,
                normalisation,
                excluded,
                factors,
            )
            assert got["rank"].equals(expected.ranks()["index"])


def test_weights_and_shares_outside_the_bounds_are_refused():
    framework = framework_from_dict(BASE)
    points = _points({"U1": {"M1.a": 10}, "U2": {"M2.a": 40}})
    found = coefficients(
        framework, compute(framework, points), channel_values=pd.DataFrame(columns=["unit", "node", "channel", "value"])
    )
    # 0.5× and 1.5× are allowed, a hair beyond is not
    what_if(found, {"M1": 20, "M2": 60})
    with pytest.raises(EstimationError) as caught:
        what_if(found, {"M1": 19.99})
    assert (caught.value.code, caught.value.params) == ("weight_out_of_bounds", {"node": "M1", "low": 20, "high": 60})
    with pytest.raises(EstimationError) as caught:
        what_if(found, {"M1.a": 10})
    assert caught.value.code == "unknown_weighted_node"
    with pytest.raises(EstimationError) as caught:
        what_if(found, shares=ChannelShares(0.8, 0.16, 0.04))
    assert (caught.value.code, caught.value.params["channel"]) == ("share_out_of_bounds", "cyberspace")
    with pytest.raises(EstimationError) as caught:
        what_if(found, shares=ChannelShares(0.8, 0.15, 0.15))
    assert caught.value.code == "shares_total"
    no_shares = framework_from_dict(_as_level("none"))
    with pytest.raises(EstimationError) as caught:
        what_if(coefficients(no_shares, compute(no_shares, points)), shares=ChannelShares(0.8, 0.1, 0.1))
    assert caught.value.code == "no_channel_shares"


def test_the_weights_stay_when_the_values_behind_the_external_rows_are_unknown():
    framework = framework_from_dict(BASE)
    points = _points({"U1": {"M1.a": 10}, "U2": {"M2.a": 40}})
    rows = pd.DataFrame([{"unit": "U1", "node": "P1", "channel": "cyberspace", "value": 0.5}])
    found = coefficients(framework, compute(framework, points, channels=rows), rows)
    # other weights would average the cyberspace values of P1's main indices otherwise: not offered
    assert adjustable_weights(found) == {}
    # the shares still move: U1 10 × 0.75 / 0.8 + 0.15 × 100 × 0.5, over 200
    moved = what_if(found, shares=ChannelShares(0.75, 0.15, 0.1))
    assert moved.loc["U1", "index"] == pytest.approx((10 * 0.75 / 0.8 + 7.5) / 200, abs=1e-12)
