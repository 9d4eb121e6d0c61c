"""Alternative methods as scenarios beside the official one (JRC/OECD handbook, step 7): other normalisations,
geometric aggregation, equal and PCA-derived weights, other channel shares, winsorised data, and the index
without the run's exclusions, each scenario's ranks set against the official ranks."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis._errors import EstimationError
from analysis.audit._model import (
    AGGREGATIONS,
    AUDIT_NORMALISATIONS,
    WEIGHTINGS,
    IndexModel,
    aggregate,
    build_model,
    item_shares,
    normalise_units,
    ranks_of,
)
from analysis.audit.checks import winsorise
from analysis.audit.structure import structure
from analysis.index import rank
from analysis.uncertainty import SHARE_RANGE
from questionnaires import EXCLUSION_READINGS, Framework


@dataclass
class Scenarios:
    """One row per scenario with what it changes and how far the ranks move; the ranks themselves."""

    #: scenario (its name), data ("as measured", "winsorised", "no exclusions"), exclusion (the reading),
    #: normalisation, aggregation, weighting, cyberspace, expert (channel shares, NaN without), mean_shift (mean
    #: absolute rank shift against the official ranks), max_shift, units_moved
    table: pd.DataFrame
    #: units × scenarios (the first column "official"): every unit's rank
    ranks: pd.DataFrame

    def shifts(self) -> pd.DataFrame:
        """Units × scenarios: each scenario's rank minus the official rank (negative: the unit climbs)."""
        return self.ranks.sub(self.ranks["official"], axis=0)


def method_index(
    model: IndexModel,
    *,
    normalisation: str = "none",
    aggregation: str = "arithmetic",
    weighting: str = "official",
    cyberspace: float | None = None,
    expert: float | None = None,
    pca: dict[str, pd.Series] | None = None,
) -> pd.Series:
    """The index of every unit under one method (the official one by default, equal to
    ``analysis.compute(...).index_value``)."""
    check_method(normalisation, aggregation, weighting)
    values = normalise_units(model.values[None], normalisation)
    external = normalise_units(model.external[None], normalisation)
    within = model.within_main(weighting, pca)
    assessed = model.assessed_shares(weighting)[None]
    shares = item_shares(
        model,
        assessed,
        cyberspace=None if cyberspace is None else np.array([cyberspace]),
        expert=None if expert is None else np.array([expert]),
    )
    index = aggregate(
        model,
        values,
        external,
        within=within,
        shares=shares,
        geometric=aggregation == "geometric",
        normalisation=normalisation,
    )
    return pd.Series(index[0], index=model.units, name="index")


def check_method(normalisation: str, aggregation: str, weighting: str) -> None:
    if normalisation not in AUDIT_NORMALISATIONS:
        raise EstimationError("unknown_normalisation", "unknown normalisation {method}", method=normalisation)
    if aggregation not in AGGREGATIONS:
        raise EstimationError("unknown_aggregation", "unknown aggregation {method}", method=aggregation)
    if weighting not in WEIGHTINGS:
        raise EstimationError("unknown_weighting", "unknown weighting {weighting}", weighting=weighting)


def check_shares(share_range) -> None:
    for share in share_range:
        if not 0 <= share < 0.5:
            raise EstimationError(
                "invalid_share", "a channel share of {share:g} is outside [0, 0.5)", share=float(share)
            )


def scenarios(
    framework: Framework,
    points: pd.DataFrame,
    *,
    channels: pd.DataFrame | None = None,
    excluded: set[str] | frozenset = frozenset(),
    normalisation: str = "none",
    exclusion: str | None = None,
    normalisations: tuple[str, ...] = AUDIT_NORMALISATIONS,
    aggregations: tuple[str, ...] = AGGREGATIONS,
    weightings: tuple[str, ...] = WEIGHTINGS,
    share_range: tuple[float, ...] = SHARE_RANGE,
    combine: bool = False,
    pca: dict[str, pd.Series] | None = None,
) -> Scenarios:
    """Recompute the ranking under each alternative method and compare it with the official ranking.

    Parameters
    ----------
    framework, points, channels, excluded, normalisation, exclusion
        The run, as for :func:`analysis.compute`; the official method is its normalisation and exclusion reading,
        arithmetic aggregation, the framework's points as weights and its channel shares.
    normalisations, aggregations, weightings : tuple of str
        The alternatives: ``AUDIT_NORMALISATIONS``, ``AGGREGATIONS`` (geometric across main indices and channel
        values), ``WEIGHTINGS`` (``pca``: the first component's squared loadings within each main index).
    share_range : tuple of float
        Cyberspace and expert shares tried (each pair), where the framework has channel shares.
    combine : bool
        False: change one choice at a time from the official method (a short, readable list); True: every
        combination of the choices.
    pca : dict, optional
        PCA-derived weights (:meth:`Structure.pca_weights`), computed when not given.

    Returns
    -------
    Scenarios
        Beside the method scenarios, with the official method: winsorised data (criteria failing the JRC
        skew and kurtosis check); where the run has exclusions, the other reading of them and no exclusions.
    """
    for method in normalisations:
        check_method(method, "arithmetic", "official")
    for method in aggregations:
        check_method("none", method, "official")
    for method in weightings:
        check_method("none", "arithmetic", method)
    check_shares(share_range)
    run = {"channels": channels, "excluded": excluded, "exclusion": exclusion}
    model = build_model(framework, points, **run)
    if pca is None and "pca" in weightings:
        pca = structure_weights(framework, points, normalisation=normalisation, **run)
    stated = model.stated
    pairs = [(None, None)] if stated is None else list(itertools.product(share_range, share_range))
    official = {
        "normalisation": normalisation,
        "aggregation": "arithmetic",
        "weighting": "official",
        "cyberspace": None,
        "expert": None,
    }
    if combine:
        methods = [
            {"normalisation": n, "aggregation": a, "weighting": w, "cyberspace": c, "expert": e}
            for n, a, w, (c, e) in itertools.product(normalisations, aggregations, weightings, pairs)
        ]
    else:
        methods = (
            [{**official, "normalisation": n} for n in normalisations]
            + [{**official, "aggregation": a} for a in aggregations]
            + [{**official, "weighting": w} for w in weightings]
            + [{**official, "cyberspace": c, "expert": e} for c, e in pairs]
        )
    stated_pair = (stated[1], stated[2]) if stated else (None, None)
    unique = []
    for method in methods:
        if (method["cyberspace"], method["expert"]) == stated_pair:
            method = {**method, "cyberspace": None, "expert": None}
        if method != official and method not in unique:
            unique.append(method)

    official_index = method_index(model, **_method(official), pca=pca)
    official_rank = rank(official_index)
    columns = {"official": official_rank}
    rows = [_row("official", "as measured", official, official_rank, official_rank, model)]
    batch = np.array([method_index(model, **_method(method), pca=pca).to_numpy() for method in unique])
    batch = batch.reshape(len(unique), len(model.units))
    for number, (method, ranks) in enumerate(zip(unique, ranks_of(batch)), start=1):
        name = f"S{number}"
        columns[name] = pd.Series(ranks, index=model.units)
        rows.append(_row(name, "as measured", method, columns[name], official_rank, model))

    treated, moves = winsorise(framework, points)
    if len(moves):
        winsorised = build_model(framework, treated, **run)
        columns["winsorised"] = rank(method_index(winsorised, **_method(official), pca=pca))
        rows.append(_row("winsorised", "winsorised", official, columns["winsorised"], official_rank, model))
    if excluded:
        for reading in EXCLUSION_READINGS:
            if reading != model.exclusion:
                other = build_model(framework, points, **{**run, "exclusion": reading})
                name = f"exclusion: {reading}"
                columns[name] = rank(method_index(other, **_method(official), pca=pca))
                rows.append(_row(name, "as measured", official, columns[name], official_rank, other))
        kept = build_model(framework, points, channels=channels)
        columns["no exclusions"] = rank(method_index(kept, **_method(official)))
        rows.append(_row("no exclusions", "no exclusions", official, columns["no exclusions"], official_rank, kept))
    return Scenarios(table=pd.DataFrame(rows), ranks=pd.DataFrame(columns))


def structure_weights(framework, points, **run) -> dict[str, pd.Series]:
    """The PCA-derived weights within each main index (see :meth:`Structure.pca_weights`)."""
    return structure(framework, points, **run).pca_weights()


def _method(method: dict) -> dict:
    return {key: method[key] for key in ("normalisation", "aggregation", "weighting", "cyberspace", "expert")}


def _row(name: str, data: str, method: dict, ranks: pd.Series, official: pd.Series, model: IndexModel) -> dict:
    shift = (ranks - official).abs()
    if method["cyberspace"] is None and model.stated is not None:
        method = {**method, "cyberspace": model.stated[1], "expert": model.stated[2]}
    return {
        "scenario": name,
        "data": data,
        "exclusion": model.exclusion,
        **{key: method[key] for key in ("normalisation", "aggregation", "weighting")},
        "cyberspace": np.nan if method["cyberspace"] is None else method["cyberspace"],
        "expert": np.nan if method["expert"] is None else method["expert"],
        "mean_shift": float(shift.mean()),
        "max_shift": int(shift.max()),
        "units_moved": int((shift > 0).sum()),
    }
