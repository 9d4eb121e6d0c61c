"""The statistical structure of an index: how its criteria correlate within their main index and its main
indices with the index, how consistent each main index is (Cronbach's alpha), and what a principal component
analysis of each main index finds (JRC/OECD handbook, steps 4 and 6)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analysis._errors import EstimationError
from analysis.audit._model import leaf_table, main_indices
from analysis.index import compute
from questionnaires import Framework

#: below this absolute correlation two criteria of a main index hardly measure the same thing
WEAK_CORRELATION = 0.3
#: above this one of two criteria adds nothing the other does not (the JRC's collinearity warning)
REDUNDANT_CORRELATION = 0.92
#: a correlation needs at least this many units
MINIMUM_UNITS = 3


def correlation_flag(r: float) -> str:
    """``redundant`` (r > 0.92), ``negative`` (r ≤ -0.3), ``near_zero`` (|r| < 0.3), ``constant`` (r undefined:
    a criterion without spread), or ""."""
    if np.isnan(r):
        return "constant"
    if r > REDUNDANT_CORRELATION:
        return "redundant"
    if r <= -WEAK_CORRELATION:
        return "negative"
    if abs(r) < WEAK_CORRELATION:
        return "near_zero"
    return ""


def cronbach_alpha(items: np.ndarray) -> float:
    """Raw Cronbach's alpha of units × items: k / (k - 1) × (1 - Σ item variances / variance of the item sum).

    NaN with fewer than two items or a sum without spread. R: ``psych::alpha(x)$total$raw_alpha``.
    """
    items = np.asarray(items, dtype=float)
    count = items.shape[1]
    total = items.sum(axis=1).var(ddof=1)
    if count < 2 or total <= 0:
        return float("nan")
    return float(count / (count - 1) * (1 - items.var(axis=0, ddof=1).sum() / total))


def principal_components(items: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (largest first) and loadings (columns, one per component) of the items' correlation matrix.

    Each component's sign is set so that its loadings sum to a positive number (an eigenvector's sign is
    arbitrary). R: ``prcomp(x, scale. = TRUE)``: ``sdev^2`` and ``rotation`` (up to that sign).
    """
    correlation = np.corrcoef(np.asarray(items, dtype=float), rowvar=False)
    eigenvalues, vectors = np.linalg.eigh(np.atleast_2d(correlation))
    order = np.argsort(eigenvalues)[::-1]
    eigenvalues, vectors = eigenvalues[order], vectors[:, order]
    signs = np.where(vectors.sum(axis=0) < 0, -1.0, 1.0)
    return eigenvalues, vectors * signs


@dataclass
class Structure:
    """Correlations, consistency and principal components of the criteria of each main index."""

    #: level ("criteria" or "main_indices"), parent (the main index, or "index"), first, second, pearson,
    #: spearman, flag (from Pearson's r, see ``correlation_flag``)
    correlations: pd.DataFrame
    #: main_index, criteria, alpha (raw Cronbach's alpha)
    alpha: pd.DataFrame
    #: main_index, component (1, 2, …), eigenvalue, share (of the variance), cumulative
    pca: pd.DataFrame
    #: main_index, node, component, loading; criteria without spread are left out of the PCA
    loadings: pd.DataFrame

    def pca_weights(self) -> dict[str, pd.Series]:
        """Per main index, its criteria's weights from the first component: the squared loadings (summing to 1),
        the criteria without spread weighing nothing. Main indices with one criterion are left out."""
        first = self.loadings[self.loadings["component"] == 1]
        found = {}
        for main, group in first.groupby("main_index", sort=False):
            if len(group) > 1:
                found[main] = pd.Series((group["loading"] ** 2).to_numpy(), index=group["node"].to_numpy())
        return found


def criterion_values(framework: Framework, points: pd.DataFrame, excluded=frozenset()) -> pd.DataFrame:
    """Units × kept criteria: the values entering the index (points over the maximum, 0 for no data)."""
    table = leaf_table(framework, points)
    maxima = {node.code: node.points for node in framework.leaves()}
    kept = [code for code in table.columns if code not in excluded]
    return table[kept].fillna(0.0) / pd.Series(maxima).reindex(kept)


def structure(
    framework: Framework,
    points: pd.DataFrame,
    *,
    channels: pd.DataFrame | None = None,
    excluded: set[str] | frozenset = frozenset(),
    normalisation: str = "none",
    exclusion: str | None = None,
) -> Structure:
    """Correlations, Cronbach's alpha and a PCA for every main index of a run.

    Parameters
    ----------
    framework : Framework
    points : DataFrame
        ``analysis.criterion_points``' table (``unit``, ``node``, ``points``).
    channels, excluded, normalisation, exclusion
        As for :func:`analysis.compute`: the main indices and the index are the run's.

    Returns
    -------
    Structure

    Raises
    ------
    EstimationError
        ``too_few_units`` with fewer than 3 units.

    Notes
    -----
    The criteria's values are those entering the index (no data counts 0), excluded criteria left out.
    R: ``cor(x)``, ``cor(x, method = "spearman")``, ``psych::alpha(x)$total$raw_alpha``,
    ``prcomp(x, scale. = TRUE)``.
    """
    values = criterion_values(framework, points, excluded)
    if len(values) < MINIMUM_UNITS:
        raise EstimationError(
            "too_few_units",
            "{count} units are too few for a correlation (at least {minimum})",
            count=len(values),
            minimum=MINIMUM_UNITS,
        )
    main_of = main_indices(framework)
    groups: dict[str, list[str]] = {}
    for code in values.columns:
        groups.setdefault(main_of[code], []).append(code)
    pairs, alphas, eigen_rows, loading_rows = [], [], [], []
    for main, codes in groups.items():
        block = values[codes].to_numpy()
        pairs += _pairs(block, codes, "criteria", main)
        alphas.append({"main_index": main, "criteria": len(codes), "alpha": cronbach_alpha(block)})
        varying = [code for code, column in zip(codes, block.T) if np.ptp(column) > 0]
        if not varying:
            continue
        eigenvalues, vectors = principal_components(values[varying].to_numpy())
        total = eigenvalues.sum()
        for component, eigenvalue in enumerate(eigenvalues, start=1):
            eigen_rows.append(
                {
                    "main_index": main,
                    "component": component,
                    "eigenvalue": float(eigenvalue),
                    "share": float(eigenvalue / total),
                    "cumulative": float(eigenvalues[:component].sum() / total),
                }
            )
            for code, loading in zip(varying, vectors[:, component - 1]):
                loading_rows.append(
                    {"main_index": main, "node": code, "component": component, "loading": float(loading)}
                )

    scores = compute(
        framework, points, excluded=excluded, channels=channels, normalisation=normalisation, exclusion=exclusion
    )
    mains = [main for main in groups if main in scores.points.columns]
    top = scores.values()[mains].copy()
    top["index"] = scores.index_value
    block = top.to_numpy()
    with_index = [pair for pair in _pairs(block, [*mains, "index"], "main_indices", "index")]
    pairs += with_index
    return Structure(
        correlations=pd.DataFrame(pairs, columns=["level", "parent", "first", "second", "pearson", "spearman", "flag"]),
        alpha=pd.DataFrame(alphas, columns=["main_index", "criteria", "alpha"]),
        pca=pd.DataFrame(eigen_rows, columns=["main_index", "component", "eigenvalue", "share", "cumulative"]),
        loadings=pd.DataFrame(loading_rows, columns=["main_index", "node", "component", "loading"]),
    )


def _pairs(block: np.ndarray, codes: list[str], level: str, parent: str) -> list[dict]:
    """Every pair of columns (criteria of a main index; or each main index with the index, the last column)."""
    if block.shape[1] < 2:
        return []
    spread = np.ptp(block, axis=0) > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        pearson = np.corrcoef(block, rowvar=False)
        spearman = np.corrcoef(stats.rankdata(block, axis=0), rowvar=False)
    found = []
    if level == "main_indices":
        index_pairs = [(i, len(codes) - 1) for i in range(len(codes) - 1)]
    else:
        index_pairs = [(i, j) for i in range(len(codes)) for j in range(i + 1, len(codes))]
    for i, j in index_pairs:
        defined = spread[i] and spread[j]
        r = float(pearson[i, j]) if defined else float("nan")
        rho = float(spearman[i, j]) if defined else float("nan")
        found.append(
            {
                "level": level,
                "parent": parent,
                "first": codes[i],
                "second": codes[j],
                "pearson": r,
                "spearman": rho,
                "flag": correlation_flag(r),
            }
        )
    return found
