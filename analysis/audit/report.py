"""One statistical audit of an index run, as the JRC/OECD handbook on composite indicators asks for it: the data
checks, the structure, the alternative methods as scenarios, and the global uncertainty and sensitivity of the
ranks, from what the run already has."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from analysis.audit.checks import DataChecks, data_checks
from analysis.audit.scenarios import Scenarios, scenarios
from analysis.audit.sensitivity import GlobalUncertainty, global_uncertainty
from analysis.audit.structure import Structure, structure
from questionnaires import Framework


@dataclass
class Audit:
    """The four parts of a run's audit."""

    data: DataChecks
    structure: Structure
    scenarios: Scenarios
    uncertainty: GlobalUncertainty


def audit_run(
    framework: Framework,
    points: pd.DataFrame,
    *,
    channels: pd.DataFrame | None = None,
    excluded: set[str] | frozenset = frozenset(),
    normalisation: str = "none",
    exclusion: str | None = None,
    survey: pd.DataFrame | None = None,
    expert: pd.DataFrame | None = None,
    units: list[str] | None = None,
    base_samples: int = 1024,
    seed: int = 0,
) -> Audit:
    """Audit a run.

    Parameters
    ----------
    framework : Framework
    points : DataFrame
        ``analysis.criterion_points``' table (``unit``, ``node``, ``points``, ``source``).
    channels : DataFrame, optional
        The external rows (``unit``, ``node``, ``channel``, ``value``), as :func:`analysis.compute` reads them.
    excluded : set of str
        The run's confirmed exclusions.
    normalisation : str
        The run's normalisation.
    exclusion : str, optional
        The run's reading of its exclusions (the framework's without it).
    survey, expert : DataFrame, optional
        The survey estimates with their SEs, the expert aggregates with ``value`` and ``value_se``
        (:func:`analysis.channel_noise`).
    units : list of str, optional
        The units in scope, for the data checks.
    base_samples : int
        N of the Sobol' design (a power of 2).
    seed : int

    Returns
    -------
    Audit
    """
    run = {"channels": channels, "excluded": excluded, "exclusion": exclusion, "normalisation": normalisation}
    checks = data_checks(framework, points, excluded=excluded, units=units)
    found = structure(framework, points, **run)
    weights = found.pca_weights()
    alternatives = scenarios(framework, points, pca=weights, **run)
    uncertainty = global_uncertainty(
        framework,
        points,
        **run,
        survey=survey,
        expert=expert,
        base_samples=base_samples,
        seed=seed,
        pca=weights,
    )
    return Audit(checks, found, alternatives, uncertainty)
