"""Two to four units of a published round side by side: index, rank and their simulated intervals, and every node of
the framework tree, with where they differ meaningfully.

The rule for "meaningfully" (the page states it):

- index and rank: one unit is meaningfully ahead of another when their 95% rank intervals do not overlap (the run's
  rank simulation from the survey's sampling error and the expert panels' spread, as the ranking shows them). A run
  whose inputs carry no sampling noise has intervals that are the ranks themselves, so every difference of rank
  counts, as measured;
- pillars, main indices, sub-indices and criteria: the run gives them no interval, so a difference counts when the
  values (each node's points over its maximum, in [0, 1]) lie at least ``MEANINGFUL_VALUE`` apart.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

#: how many units a comparison takes
FEWEST, MOST = 2, 4
#: the smallest difference of two values in [0, 1] (a twentieth of a node's maximum points) a comparison counts as
#: meaningful where the run has no interval for it
MEANINGFUL_VALUE = 0.05
#: the longest unit code read from an address (longer ones are not codes)
LONGEST_CODE = 32


class ChoiceProblem(Exception):
    """The units asked for cannot be compared: ``code`` says why (``too_few``, ``too_many``, ``unknown_unit``),
    ``params`` what the message names; the page translates it."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


def chosen_units(asked: list[str], known: list[str]) -> list[str]:
    """The units to compare, in the order asked, each once.

    :param asked: the codes of the address (``?unit=A&unit=B``)
    :param known: the codes of the round's published units
    :raises ChoiceProblem: ``unknown_unit`` (``unit``), ``too_few`` or ``too_many`` (``count``, ``fewest``,
        ``most``)
    """
    codes: list[str] = []
    for code in (code.strip() for code in asked):
        if code and code not in codes:
            codes.append(code)
    unknown = next((code for code in codes if code not in known), None)
    if unknown is not None:
        raise ChoiceProblem("unknown_unit", unit=unknown[:LONGEST_CODE])
    if len(codes) < FEWEST:
        raise ChoiceProblem("too_few", count=len(codes), fewest=FEWEST, most=MOST)
    if len(codes) > MOST:
        raise ChoiceProblem("too_many", count=len(codes), fewest=FEWEST, most=MOST)
    return codes


def _unit(card: dict[str, Any], name: str) -> dict[str, Any]:
    interval = card["interval"]
    return {
        "code": card["unit"],
        "name": name,
        "index": card["index"],
        "rank": card["rank"],
        "units": card["units"],
        "index_low": interval["index_low"],
        "index_high": interval["index_high"],
        "rank_low": interval["rank_low"],
        "rank_high": interval["rank_high"],
        "noisy": interval["noisy"],
        "missing": sum(len(group["criteria"]) for group in card["missing"]),
        "previous": card["previous"],
    }


def rank_pair(ahead: dict[str, Any], behind: dict[str, Any]) -> dict[str, Any]:
    """Whether ``ahead`` (the better or equal rank) is meaningfully ahead of ``behind``: their rank intervals do not
    overlap, the worst rank ``ahead`` takes in 95% of the draws being better than the best ``behind`` takes.

    :return: ``ahead``, ``behind`` (codes), ``tied`` (the same rank), ``meaningful``, ``difference`` (of index)
    """
    return {
        "ahead": ahead["code"],
        "behind": behind["code"],
        "tied": ahead["rank"] == behind["rank"],
        "meaningful": ahead["rank_high"] < behind["rank_low"],
        "difference": ahead["index"] - behind["index"],
    }


def node_row(node: dict[str, Any], cells: list[dict[str, Any] | None]) -> dict[str, Any]:
    """One node of the tree across the units: each unit's value, points, rank and whether it had data, the spread
    of the values, whether it is meaningful (``MEANINGFUL_VALUE``) and then which units hold the highest and the
    lowest value."""
    values = [cell["value"] for cell in cells if cell is not None and cell.get("value") is not None]
    spread = max(values) - min(values) if len(values) >= 2 else None
    # a rounding hair below the threshold is not a difference the page should call meaningful
    meaningful = spread is not None and spread >= MEANINGFUL_VALUE - 1e-9
    top = max(values) if values else None
    bottom = min(values) if values else None
    return {
        "code": node["code"],
        "kind": node["kind"],
        "name": node["name"],
        "parent": node["parent"],
        "maximum": node["maximum"],
        "scored": node["scored"],
        "excluded": node["excluded"],
        "cells": [
            None
            if cell is None
            else {
                "value": cell.get("value"),
                "points": cell.get("points"),
                "rank": cell.get("rank"),
                "missing": bool(cell.get("missing")),
                "highest": meaningful and cell.get("value") == top,
                "lowest": meaningful and cell.get("value") == bottom,
            }
            for cell in cells
        ],
        "spread": spread,
        "meaningful": meaningful,
    }


def comparison(cards: dict[str, dict[str, Any]], names: dict[str, str]) -> dict[str, Any]:
    """The units whose scorecards are ``cards`` (``publication.scorecard``, of units checked by
    :func:`chosen_units`) side by side, best rank first.

    :param names: each unit's name by code
    :return: ``units`` (each's index, rank, intervals, ``noisy``, ``missing`` criteria and last year's value as
        on its scorecard), ``pairs`` (:func:`rank_pair` for every two units), ``nodes`` (:func:`node_row` for every
        node of the tree, in framework order, ``cells`` in the order of ``units``), ``noisy`` (whether any unit's
        interval carries sampling noise), ``threshold`` (``MEANINGFUL_VALUE``)
    """
    units = sorted(
        (_unit(card, names.get(code, code)) for code, card in cards.items()), key=lambda u: (u["rank"], u["code"])
    )
    by_code = {code: {node["code"]: node for node in card["nodes"]} for code, card in cards.items()}
    first = cards[units[0]["code"]]
    nodes = [node_row(node, [by_code[unit["code"]].get(node["code"]) for unit in units]) for node in first["nodes"]]
    return {
        "units": units,
        "pairs": [rank_pair(ahead, behind) for ahead, behind in combinations(units, 2)],
        "nodes": nodes,
        "noisy": any(unit["noisy"] for unit in units),
        "threshold": MEANINGFUL_VALUE,
    }
