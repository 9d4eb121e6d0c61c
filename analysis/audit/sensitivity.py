"""Global uncertainty and sensitivity analysis of a ranking (JRC/OECD handbook, step 7; Saisana, Saltelli and
Tarantola 2005): every uncertain input drawn together, many times, and how much of the spread of each unit's rank
each input explains (Sobol' indices).

The inputs are the survey's sampling error, the expert panels' spread, the normalisation, the aggregation, the
weighting, the weights perturbed around their values and, where the run has them, the reading of its exclusions
and the channel shares.
A random input with thousands of dimensions (one sampling error per unit and criterion) enters the design as
one factor, a *trigger* choosing one of many pre-drawn realisations; discrete choices likewise choose a level.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
from SALib.analyze import sobol as sobol_analysis
from SALib.sample import sobol as sobol_sample

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
from analysis.audit.scenarios import check_method, check_shares, method_index, structure_weights
from analysis.index import rank
from analysis.uncertainty import channel_noise
from questionnaires import EXCLUSION_READINGS, Framework

#: the weights of main indices and pillars are each multiplied by a uniform factor in 1 ± this
WEIGHT_PERTURBATION = 0.2
#: the channel shares' range (Decision 1726 sets 10% each)
SHARE_BOUNDS = (0.05, 0.15)
#: pre-drawn realisations of each random input a trigger chooses from
REALISATIONS = 500
#: the coverage of the rank intervals
LEVEL = 0.90
#: draws evaluated at once: bounds the memory (a batch holds draws × units × criteria values)
BATCH = 256


def sobol_indices(
    function: Callable[[np.ndarray], np.ndarray],
    names: list[str],
    base_samples: int,
    *,
    bounds: list[tuple[float, float]] | None = None,
    outputs: list[str] | None = None,
    seed: int = 0,
    resamples: int = 100,
) -> pd.DataFrame:
    """First-order and total-effect Sobol' indices of independent uniform factors on one or more outputs.

    Parameters
    ----------
    function : callable
        Takes the design (rows × factors) and returns rows × outputs (or a vector for one output).
    names : list of str
        The factors.
    base_samples : int
        N, a power of 2: the design has N (k + 2) rows (Saltelli's scheme without second-order indices).
    bounds : list of (low, high), optional
        Each factor's uniform range; [0, 1] by default.
    outputs : list of str, optional
        The outputs' names (0, 1, … by default).
    seed : int
        Seeds the scrambled Sobol' sequence and the bootstrap of the confidence intervals.

    Returns
    -------
    DataFrame
        ``output``, ``factor``, ``first_order``, ``first_order_conf``, ``total``, ``total_conf`` (half-widths of
        95% bootstrap intervals). An output that never moves has indices 0.

    Notes
    -----
    The sample is SALib's (Saltelli 2002, scrambled Sobol' sequence); the estimators are SALib's: Saltelli et
    al. (2010) for the first-order index, Jansen (1999) for the total effect. R: ``sensitivity::soboljansen``
    gives the same total effect (its first-order index uses Jansen's formula instead).

    References
    ----------
    Saltelli, A., Annoni, P., Azzini, I., Campolongo, F., Ratto, M. and Tarantola, S. (2010). Variance based
    sensitivity analysis of model output. Computer Physics Communications 181, 259-270.
    """
    _check_base_samples(base_samples)
    problem = {"num_vars": len(names), "names": list(names), "bounds": bounds or [(0.0, 1.0)] * len(names)}
    design = sobol_sample.sample(problem, base_samples, calc_second_order=False, seed=seed)
    results = np.asarray(function(design), dtype=float)
    return sobol_table(problem, results, outputs, seed=seed, resamples=resamples)


def _check_base_samples(count: int) -> None:
    if count < 2 or count & (count - 1):
        raise EstimationError(
            "invalid_base_samples", "{count} base samples: a Sobol' design needs a power of 2", count=count
        )


def sobol_table(problem: dict, results: np.ndarray, outputs=None, *, seed=0, resamples=100) -> pd.DataFrame:
    """The indices of every output column of a Saltelli design's results (see :func:`sobol_indices`)."""
    results = results.reshape(len(results), -1)
    outputs = list(range(results.shape[1])) if outputs is None else list(outputs)
    rows = []
    for column, output in enumerate(outputs):
        values = results[:, column]
        if np.ptp(values) == 0:
            found = {key: np.zeros(problem["num_vars"]) for key in ("S1", "S1_conf", "ST", "ST_conf")}
        else:
            # SALib seeds its bootstrap only for a seed that is true (`if seed:`): 0 would leave the confidence
            # half-widths drawn afresh on every call, so the seed handed on is never 0
            found = sobol_analysis.analyze(
                problem, values, calc_second_order=False, num_resamples=resamples, seed=seed + 1
            )
        for position, name in enumerate(problem["names"]):
            rows.append(
                {
                    "output": output,
                    "factor": name,
                    "first_order": float(found["S1"][position]),
                    "first_order_conf": float(found["S1_conf"][position]),
                    "total": float(found["ST"][position]),
                    "total_conf": float(found["ST_conf"][position]),
                }
            )
    return pd.DataFrame(rows)


@dataclass
class Factor:
    """One uncertain input of the Monte Carlo: its name, what it does, and the levels a draw chooses among
    (None for a continuous input drawn uniformly between ``low`` and ``high``)."""

    name: str
    description: str
    levels: tuple | None = None
    low: float = 0.0
    high: float = 1.0

    def level(self, u: np.ndarray) -> np.ndarray:
        """The position of the chosen level for uniform draws in [0, 1]."""
        return np.minimum((u * len(self.levels)).astype(int), len(self.levels) - 1)

    def value(self, u: np.ndarray) -> np.ndarray:
        return self.low + u * (self.high - self.low)


@dataclass
class GlobalUncertainty:
    """What the page shows: the inputs, per unit its official and median rank with an interval (the data of a
    rank-shift plot), the mean absolute rank shift's distribution, and the Sobol' indices."""

    #: factor, description, levels (the choices, or the range of a continuous input)
    factors: pd.DataFrame
    #: unit, index (official), rank (official), median_rank, rank_low, rank_high (the ``LEVEL`` interval), sorted
    #: by official rank; the index is not summarised over the draws, whose normalisations put it on other scales
    units: pd.DataFrame
    #: median, low, high of the mean absolute rank shift over the draws
    shift: pd.Series
    #: output (a unit, or "mean_shift"), factor, first_order, first_order_conf, total, total_conf
    sobol: pd.DataFrame
    base_samples: int
    draws: int


class RankModel:
    """The ranks of a run under draws of the audit's factors, evaluated in batches."""

    def __init__(
        self,
        models: list[IndexModel],
        *,
        normalisation: str,
        normalisations: tuple[str, ...],
        aggregations: tuple[str, ...],
        weightings: tuple[str, ...],
        pca: dict[str, pd.Series],
        survey_cells: pd.DataFrame,
        expert_cells: pd.DataFrame,
        expert_external: pd.DataFrame,
        perturbation: float,
        share_bounds: tuple[float, float],
        realisations: int,
        seed: int,
    ):
        # one model per exclusion reading, the run's first: the same data, other shares of the index
        self.models = models
        model = self.model = models[0]
        rng = np.random.default_rng(seed)
        self.factors: list[Factor] = []
        position = {code: i for i, code in enumerate(model.leaves)}
        unit_position = {unit: i for i, unit in enumerate(model.units)}
        self.cells = {}
        keys = {key: i for i, key in enumerate(model.external_keys)}
        for name, cells, description in (
            ("survey", survey_cells, "the survey's sampling error: one of {n} draws of every estimate"),
            ("expert", expert_cells, "the expert panels' spread: one of {n} draws of every panel's value"),
        ):
            kept = cells[cells["node"].isin(position) & cells["unit"].isin(unit_position)]
            external = expert_external if name == "expert" else expert_external.iloc[:0]
            known = [(node, channel) in keys for node, channel in zip(external["node"], external["channel"])]
            external = external[np.array(known, dtype=bool) & external["unit"].isin(unit_position).to_numpy()]
            if not len(kept) and not len(external):
                continue
            rows = np.array([unit_position[u] for u in kept["unit"]], dtype=int)
            columns = np.array([position[c] for c in kept["node"]], dtype=int)
            sd = kept["sd"].to_numpy(float) / model.maximum[columns]
            external_rows = np.array([unit_position[u] for u in external["unit"]], dtype=int)
            external_columns = np.array(
                [keys[(n, c)] for n, c in zip(external["node"], external["channel"])], dtype=int
            )
            self.cells[name] = (
                rows,
                columns,
                rng.standard_normal((realisations, len(rows))) * sd,
                external_rows,
                external_columns,
                rng.standard_normal((realisations, len(external_rows))) * external["sd"].to_numpy(float),
            )
            self.factors.append(Factor(name, description.format(n=realisations), tuple(range(realisations))))
        self.normalisations = normalisations
        self.factors.append(Factor("normalisation", "how criterion values are normalised", normalisations))
        self.factors.append(Factor("aggregation", "how main indices and channel values add up", aggregations))
        self.factors.append(Factor("weighting", "the criteria's weights within each main index", weightings))
        self.perturbed = perturbation > 0
        if self.perturbed:
            self.main_factor = rng.uniform(1 - perturbation, 1 + perturbation, (realisations, len(model.mains)))
            self.part_factor = rng.uniform(1 - perturbation, 1 + perturbation, (realisations, len(model.parts)))
            self.factors.append(
                Factor(
                    "weights",
                    f"main index and pillar weights each times a uniform factor in 1 ± {perturbation:g}",
                    tuple(range(realisations)),
                )
            )
        if len(models) > 1:
            readings = tuple(m.exclusion for m in models)
            self.factors.append(Factor("exclusion", "what excluding a criterion does to the total", readings))
        if model.stated is not None:
            low, high = share_bounds
            for channel in ("cyberspace", "expert"):
                self.factors.append(Factor(f"{channel} share", f"the {channel} channel's share", None, low, high))
        self.aggregations, self.weightings = aggregations, weightings
        self.within = [np.stack([m.within_main(w, pca) for w in weightings]) for m in models]
        self.assessed = [np.stack([m.assessed_shares(w) for w in weightings]) for m in models]
        self.official_rank = rank(method_index(model, normalisation=normalisation, pca=pca)).to_numpy()

    @property
    def names(self) -> list[str]:
        return [factor.name for factor in self.factors]

    def __call__(self, design: np.ndarray) -> np.ndarray:
        """Draws × (units' ranks, mean absolute rank shift) for draws in [0, 1]^k."""
        column = {factor.name: design[:, i] for i, factor in enumerate(self.factors)}
        by = {factor.name: factor for factor in self.factors}
        normalisation = by["normalisation"].level(column["normalisation"])
        readings = by["exclusion"].level(column["exclusion"]) if "exclusion" in by else np.zeros(len(design), int)
        units = len(self.model.units)
        result = np.empty((len(design), units + 1))
        for method, reading in itertools.product(np.unique(normalisation), np.unique(readings)):
            chosen = np.flatnonzero((normalisation == method) & (readings == reading))
            for start in range(0, len(chosen), BATCH):
                rows = chosen[start : start + BATCH]
                ranks = ranks_of(self._index(column, by, rows, self.normalisations[method], reading))
                result[rows, :units] = ranks
                result[rows, -1] = np.abs(ranks - self.official_rank).mean(axis=1)
        return result

    def _index(self, column, by, rows, normalisation, reading) -> np.ndarray:
        """The index of the draws ``rows`` of the design, all under one normalisation and exclusion reading."""
        model = self.models[reading]
        values = np.repeat(model.values[None], len(rows), axis=0)
        external = np.repeat(model.external[None], len(rows), axis=0)
        for name, (r, c, noise, er, ec, external_noise) in self.cells.items():
            chosen = by[name].level(column[name][rows])
            values[:, r, c] = np.clip(model.values[r, c] + noise[chosen], 0.0, 1.0)
            if len(er):
                external[:, er, ec] = np.clip(model.external[er, ec] + external_noise[chosen], 0.0, 1.0)
        values = normalise_units(values, normalisation)
        external = normalise_units(external, normalisation)
        weighting = by["weighting"].level(column["weighting"][rows])
        perturbation = {}
        if self.perturbed:
            chosen = by["weights"].level(column["weights"][rows])
            perturbation = {"main_factor": self.main_factor[chosen], "part_factor": self.part_factor[chosen]}
        shares = {}
        if model.stated is not None:
            shares = {
                channel: by[f"{channel} share"].value(column[f"{channel} share"][rows])
                for channel in ("cyberspace", "expert")
            }
        return aggregate(
            model,
            values,
            external,
            within=self.within[reading][weighting],
            shares=item_shares(model, self.assessed[reading][weighting], **shares, **perturbation),
            geometric=np.array(self.aggregations)[by["aggregation"].level(column["aggregation"][rows])] == "geometric",
            normalisation=normalisation,
        )


def global_uncertainty(
    framework: Framework,
    points: pd.DataFrame,
    *,
    channels: pd.DataFrame | None = None,
    excluded: set[str] | frozenset = frozenset(),
    normalisation: str = "none",
    exclusion: str | None = None,
    survey: pd.DataFrame | None = None,
    expert: pd.DataFrame | None = None,
    normalisations: tuple[str, ...] = AUDIT_NORMALISATIONS,
    aggregations: tuple[str, ...] = AGGREGATIONS,
    weightings: tuple[str, ...] = WEIGHTINGS,
    perturbation: float = WEIGHT_PERTURBATION,
    share_bounds: tuple[float, float] = SHARE_BOUNDS,
    base_samples: int = 1024,
    realisations: int = REALISATIONS,
    level: float = LEVEL,
    seed: int = 0,
    pca: dict[str, pd.Series] | None = None,
) -> GlobalUncertainty:
    """Draw every uncertain input of a run together and measure what each does to the ranks.

    Parameters
    ----------
    framework, points, channels, excluded, normalisation, exclusion
        The run, as for :func:`analysis.compute`; its ranks are the official ranks. Where it has exclusions, a
        draw chooses between the readings of them (``questionnaires.EXCLUSION_READINGS``).
    survey, expert : DataFrame, optional
        As for :func:`analysis.channel_noise`: the survey estimates with their SEs and the expert aggregates
        with ``value`` and ``value_se``; without them the data are taken as exact.
    normalisations, aggregations, weightings : tuple of str
        The methods a draw chooses among, each equally likely.
    perturbation : float
        Main index and pillar weights are each multiplied by a uniform factor in 1 ± this (0: not perturbed).
    share_bounds : (float, float)
        The cyberspace and expert shares are each uniform in this range, where the framework has shares.
    base_samples : int
        N of the Sobol' design (a power of 2); the analysis evaluates N (k + 2) draws for k factors.
    realisations : int
        Pre-drawn realisations of the survey error, the expert spread and the weight factors.
    level : float
        Coverage of the rank and index intervals, from the design's 2N independent draws (its A and B rows).
    pca : dict, optional
        PCA-derived weights (:meth:`Structure.pca_weights`), computed when not given.

    Returns
    -------
    GlobalUncertainty
        Sobol' indices of every factor on every unit's rank and on the mean absolute rank shift.
    """
    for method in normalisations:
        check_method(method, "arithmetic", "official")
    for method in aggregations:
        check_method("none", method, "official")
    for method in weightings:
        check_method("none", "arithmetic", method)
    check_shares(share_bounds)
    if not 0 <= perturbation < 1:
        raise EstimationError(
            "invalid_perturbation",
            "weights perturbed by {perturbation:g}: the perturbation must be in [0, 1)",
            perturbation=perturbation,
        )
    if not 0 < level < 1:
        raise EstimationError("invalid_level", "the confidence level must be between 0 and 1, not {level}", level=level)
    if realisations < 1:
        raise EstimationError(
            "invalid_realisations", "cannot draw {count} realisations (at least 1)", count=realisations
        )
    if not share_bounds[0] <= share_bounds[1]:
        raise EstimationError(
            "invalid_share_bounds",
            "the lowest channel share {low:g} is above the highest {high:g}",
            low=float(share_bounds[0]),
            high=float(share_bounds[1]),
        )
    _check_base_samples(base_samples)
    run = {"channels": channels, "excluded": excluded, "exclusion": exclusion}
    model = build_model(framework, points, **run)
    models = [model]
    if excluded:
        models += [
            build_model(framework, points, **{**run, "exclusion": reading})
            for reading in EXCLUSION_READINGS
            if reading != model.exclusion
        ]
    if pca is None and "pca" in weightings:
        pca = structure_weights(framework, points, normalisation=normalisation, **run)
    leaves = pd.DataFrame(columns=["unit", "node", "sd", "kind"])
    external_noise = pd.DataFrame(columns=["unit", "node", "channel", "value", "sd"])
    if survey is not None or expert is not None:
        if "source" not in points.columns:
            raise EstimationError("unknown_column", "no column {column} in the data", column="source")
        leaves, external_noise = channel_noise(framework, points, survey=survey, expert=expert)
        source = points.set_index(["unit", "node"])["source"]
        leaves = leaves.assign(kind=[source.get(key) for key in zip(leaves["unit"], leaves["node"])])
    ranks = RankModel(
        models,
        normalisation=normalisation,
        normalisations=normalisations,
        aggregations=aggregations,
        weightings=weightings,
        pca=pca,
        survey_cells=leaves[leaves["kind"] == "survey"],
        expert_cells=leaves[leaves["kind"] == "expert"],
        expert_external=external_noise,
        perturbation=perturbation,
        share_bounds=share_bounds,
        realisations=realisations,
        seed=seed,
    )
    names = ranks.names
    problem = {"num_vars": len(names), "names": names, "bounds": [(0.0, 1.0)] * len(names)}
    design = sobol_sample.sample(problem, base_samples, calc_second_order=False, seed=seed)
    outputs = ranks(design)
    units = list(model.units)
    count = len(units)
    sobol = sobol_table(problem, outputs, [*units, "mean_shift"], seed=seed)

    # the A and B rows of Saltelli's design are 2N independent draws; the others re-use their columns
    step = len(names) + 2
    independent = np.sort(np.concatenate([np.arange(0, len(design), step), np.arange(step - 1, len(design), step)]))
    tail = (1 - level) / 2
    unit_ranks, shift = outputs[independent, :count], outputs[independent, -1]
    official_index = method_index(model, normalisation=normalisation, pca=pca)
    table = pd.DataFrame(
        {
            "unit": units,
            "index": official_index.to_numpy(),
            "rank": ranks.official_rank,
            "median_rank": np.median(unit_ranks, axis=0),
            "rank_low": np.quantile(unit_ranks, tail, axis=0, method="lower").astype(int),
            "rank_high": np.quantile(unit_ranks, 1 - tail, axis=0, method="higher").astype(int),
        }
    ).sort_values(["rank", "median_rank"], ignore_index=True)
    factors = pd.DataFrame(
        [
            {
                "factor": factor.name,
                "description": factor.description,
                "levels": (
                    f"{len(factor.levels)} draws"
                    if factor.name in ("survey", "expert", "weights")
                    else ", ".join(map(str, factor.levels))
                )
                if factor.levels is not None
                else f"{factor.low:g}-{factor.high:g}",
            }
            for factor in ranks.factors
        ]
    )
    return GlobalUncertainty(
        factors=factors,
        units=table,
        shift=pd.Series(
            {
                "median": float(np.median(shift)),
                "low": float(np.quantile(shift, tail)),
                "high": float(np.quantile(shift, 1 - tail)),
            }
        ),
        sobol=sobol,
        base_samples=base_samples,
        draws=len(design),
    )
