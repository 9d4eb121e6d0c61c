"""What-if rankings of a published round (issue 24): the weights and shares a visitor typed, read and checked
against the bounds the page states, and the ranking recomputed from the published run's stored snapshot by
``analysis.what_if``. Nothing is stored: a what-if is not a run, and the official ranking does not change.

The coefficients come from the run's stored snapshot as ``scoring.result`` computes it again (the same numbers
the run published): each main index's points per unit after the run's normalisation, exclusions and rules, and
the external channels' rows the run read. The index is linear in them (see ``analysis.what_if``), so nothing the
run did is approximated. Where the framework gives the channels shares, an external row is the points-weighted
mean of the channel's values on the main indices, which other weights average otherwise: the experts' values are
in the run's snapshot, the cyberspace values are not, so they are read from the round, whose inputs cannot change
once its results are published, and used only when their hash is the one the run recorded (else the weights do
not move: ``analysis.what_if.adjustable_weights``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping

import pandas as pd

from analysis import parse_number
from analysis.what_if import Coefficients, adjustable_weights, coefficients, share_bounds, weight_bounds, what_if
from questionnaires import ChannelShares
from survey_app.core.cache import Cache
from survey_app.scoring import channel_inputs
from survey_app.scoring import operations as scoring
from survey_app.scoring.models import ScoringRun

#: the channels whose shares a visitor may move, in the order of the form
CHANNELS = ("assessment", "cyberspace", "expert")
#: typed weights (points) and shares (percent) are kept to two decimals: finer steps change no published digit
DECIMALS = 2
#: the longest typed value echoed back in a message
ECHOED = 20

#: the coefficients of recently asked runs; a published run's snapshot never changes
_COEFFICIENTS: Cache[Coefficients] = Cache(8)
#: the official rankings beside them
_OFFICIAL: Cache[list] = Cache(8)
#: what-if rankings recently asked for (nginx keeps each address's page besides)
CACHED_CHOICES = 64
_WHAT_IFS: Cache[list] = Cache(CACHED_CHOICES)


def weight_field(code: str) -> str:
    return f"w.{code}"


def share_field(channel: str) -> str:
    return f"s.{channel}"


@dataclass(frozen=True)
class Refusal:
    """A typed value the what-if cannot take: ``code`` "not_a_number", "out_of_bounds" (with ``low`` and
    ``high``) or "shares_total" (with ``total``, in percent)."""

    field: str
    code: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Choice:
    """What the visitor chose: every main index's weight in points, the channels' shares (None when the
    framework gives them none), the values as typed (to show them again), and what was refused."""

    weights: dict[str, float]
    shares: ChannelShares | None
    typed: dict[str, str]
    refusals: list[Refusal]
    official: bool

    def key(self) -> tuple:
        """What the recomputed ranking depends on, for the cache."""
        shares = (self.shares.assessment, self.shares.cyberspace, self.shares.expert) if self.shares else None
        return tuple(sorted(self.weights.items())), shares


def model(run: ScoringRun) -> Coefficients:
    """The published run's linear coefficients (``analysis.what_if.coefficients``)."""

    def make() -> Coefficients:
        found = scoring.result(run)
        return coefficients(
            found.framework,
            found.scores,
            found.external,
            channel_values=_channel_values(run, found) if found.framework.channel_shares is not None else None,
            exclusion=scoring.exclusion_reading(run),
        )

    return _COEFFICIENTS.get_or_make((run.id, run.published_at), make)


def _channel_values(run: ScoringRun, found: scoring.RunResult) -> pd.DataFrame | None:
    """The cyberspace and expert values on every node the run's external rows averaged, or None when the
    round's cyberspace values are no longer those the run read."""
    columns = ["unit", "node", "value"]
    cyberspace = pd.DataFrame(
        [
            {"unit": row.unit.code, "node": row.node, "value": row.value}
            for row in channel_inputs.cyberspace_values(run.evaluation_round)
        ],
        columns=columns,
    )
    # the records exactly as the run hashed them (scoring.operations.gather)
    records = json.loads(cyberspace.to_json(orient="records", force_ascii=False)) if len(cyberspace) else []
    if scoring.table_hash(records) != (run.versions or {}).get("cyberspace", {}).get("hash"):
        return None
    expert = found.expert.rename(columns={"item": "node"})
    expert = expert[columns] if "value" in expert.columns else pd.DataFrame(columns=columns)
    return pd.concat([cyberspace.assign(channel="cyberspace"), expert.assign(channel="expert")], ignore_index=True)


def read_choice(found: Coefficients, args: Mapping[str, str]) -> Choice:
    """The weights (``w.<main index>``, points) and shares (``s.<channel>``, percent) of a what-if's form, each
    checked against its stated bounds; a field left empty keeps its official value."""
    refusals: list[Refusal] = []
    typed: dict[str, str] = {}

    def read(name: str, official: float, low: float, high: float) -> float:
        text = (args.get(name) or "").strip()
        if not text:
            return official
        typed[name] = text[:ECHOED]
        value = parse_number(text)
        if value is None:
            refusals.append(Refusal(name, "not_a_number", {"value": text[:ECHOED]}))
            return official
        value = round(value, DECIMALS)
        if not low - 1e-9 <= value <= high + 1e-9:
            refusals.append(Refusal(name, "out_of_bounds", {"low": low, "high": high}))
            return official
        return value

    official_weights = adjustable_weights(found)
    weights = {
        code: read(weight_field(code), official_weights[code], low, high)
        for code, (low, high) in weight_bounds(found).items()
    }
    stated = found.framework.channel_shares
    shares = None
    if stated is not None:
        bounds = share_bounds(found.framework)
        percent = {
            channel: read(
                share_field(channel),
                round(getattr(stated, channel) * 100, DECIMALS),
                round(bounds[channel][0] * 100, DECIMALS),
                round(bounds[channel][1] * 100, DECIMALS),
            )
            for channel in CHANNELS
        }
        total = round(sum(percent.values()), DECIMALS)
        # the form shows the stated shares to two decimals: sent back unchanged they are the stated shares, which
        # may not add up to 100 at that precision (⅓ each)
        typed_shares = any(
            abs(percent[channel] - round(getattr(stated, channel) * 100, DECIMALS)) > 1e-9 for channel in CHANNELS
        )
        if not refusals and typed_shares and abs(total - 100) > 1e-9:
            refusals.append(Refusal("shares", "shares_total", {"total": total}))
        shares = ChannelShares(*(percent[channel] / 100 for channel in CHANNELS), level=stated.level)
        if refusals or not typed_shares:
            # the stated shares as they are: rounded to the form's hundredths they may not add up to 100 (⅓ each)
            shares = stated
    if refusals:
        weights = dict(official_weights)
    official = weights == official_weights and (
        shares is None or all(abs(getattr(shares, c) - getattr(stated, c)) < 1e-12 for c in CHANNELS)
    )
    return Choice(weights, shares, typed, refusals, official)


def cached_ranking(run: ScoringRun, found: Coefficients, choice: Choice) -> list[dict[str, Any]]:
    """``ranking``, kept for the last ``CACHED_CHOICES`` weights asked for. A cache of its own: visitors can ask
    for as many weights as they like, which must not push the published pages out of theirs."""
    return _WHAT_IFS.get_or_make((run.id, run.published_at, choice.key()), lambda: ranking(run, found, choice))


def ranking(run: ScoringRun, found: Coefficients, choice: Choice) -> list[dict[str, Any]]:
    """Every unit of the published ranking with its what-if index and rank beside the official ones, and how
    many places it moves (positive: up), best what-if rank first."""
    recomputed = what_if(found, choice.weights, choice.shares)
    rows = []
    for row in _official(run):
        mine = recomputed.loc[row["unit"]]
        rows.append(
            {
                "unit": row["unit"],
                "name": row["name"],
                "official_index": float(row["index"]),
                "official_rank": int(row["rank"]),
                "index": float(mine["index"]),
                "rank": int(mine["rank"]),
                "change": int(row["rank"]) - int(mine["rank"]),
            }
        )
    rows.sort(key=lambda entry: (entry["rank"], entry["official_rank"], entry["unit"]))
    return rows


def _official(run: ScoringRun) -> list[dict[str, Any]]:
    """The published ranking's units, names, indices and ranks (read once per run: a what-if's rows change, these
    do not)."""
    return _OFFICIAL.get_or_make(
        (run.id, run.published_at),
        lambda: scoring.ranking(run)[["unit", "name", "index", "rank"]].to_dict("records"),
    )


def names(found: Coefficients, language: str) -> dict[str, str]:
    """The main indices a visitor may weigh, each with its name in ``language``, in framework order."""
    return {code: found.framework.find(code).name.in_language(language) for code in adjustable_weights(found)}
