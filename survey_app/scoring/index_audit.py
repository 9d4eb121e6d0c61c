"""The statistical audit of a scoring run (``analysis.audit``, the JRC/OECD handbook's checks): computed once per
run from the run's stored snapshot, stored as a JSON document of the numbers its page, its PDF report and the
public robustness note read, and read back into what an official should look at.

The computation takes up to a minute on a full year (``benchmarks/audit.py``): it runs as a background job that
reports its progress (``start_index_audit`` asks for it).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import pandas as pd
from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from analysis.audit import data_checks, global_uncertainty, scenarios, structure
from analysis.audit.sensitivity import LEVEL, SHARE_BOUNDS, WEIGHT_PERTURBATION
from survey_app.accounts.models import User
from survey_app.audit import operations as audit
from survey_app.core import jobs
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.core.i18n import fixed
from survey_app.core.security import STAFF
from survey_app.scoring import operations as scoring
from survey_app.scoring.channel_inputs import units_by_code
from survey_app.scoring.models import IndexAudit, ScoringRun

#: N of the Sobol' design on the service (the benchmark's: a 63-province year in under a minute); the
#: configuration's ``INDEX_AUDIT_BASE_SAMPLES`` overrides it
BASE_SAMPLES = 1024
#: every draw of an audit is seeded, so the same run always gets the same audit
SEED = 0
#: the steps a progress bar shows, in order
STEPS = ("data_checks", "structure", "scenarios", "uncertainty", "storing")
#: below this Cronbach's alpha the criteria of a main index do not move together (Nunnally's rule of thumb)
LOW_ALPHA = 0.7
#: a unit whose rank can move by more than this share of the ranking's places is "not robust"
WIDE_SHARE = 0.1
#: a criterion with data for fewer than this share of units rests on little data [1726 II.2.b.vi]
SPARSE_SHARE = 0.5

#: Progress = progress(done, total, note): the job queue's progress bar; ``note`` is one of ``STEPS``
Progress = Callable[[int, int, str], None]

STEP_LABELS = {
    "data_checks": _l("Data checks"),
    "structure": _l("Correlations, Cronbach's alpha and principal components"),
    "scenarios": _l("Alternative methods"),
    "uncertainty": _l("Global uncertainty and sensitivity analysis"),
    "storing": _l("Storing the audit"),
}
#: the audit's input factors and method choices in words (``analysis.audit`` names them by code)
AUDIT_LABELS = {
    "survey": _l("the survey's sampling error"),
    "expert": _l("the expert panels' spread"),
    "normalisation": _l("the normalisation"),
    "aggregation": _l("the aggregation (arithmetic or geometric)"),
    "weighting": _l("the criteria's weights (official, equal or from a PCA)"),
    "weights": _l("the main index and pillar weights"),
    "exclusion": _l("what excluding a criterion does"),
    "cyberspace share": _l("the cyberspace channel's share"),
    "expert share": _l("the expert channel's share"),
    "official": _l("official"),
    "equal": _l("equal"),
    "pca": _l("from a PCA"),
    "arithmetic": _l("arithmetic"),
    "geometric": _l("geometric"),
    "none": _l("none"),
    "min-max": _l("min-max"),
    "z-score": _l("z-score"),
    "rank": _l("rank"),
    "target": _l("distance to the leader"),
    "as measured": _l("as measured"),
    "winsorised": _l("winsorised"),
    "no exclusions": _l("no exclusions"),
    "redistribute": _l("points passed to siblings"),
    "remove": _l("points left the total"),
    "redundant": _l("redundant (r > 0.92)"),
    "negative": _l("negative (r ≤ −0.3)"),
    "near_zero": _l("near zero (|r| < 0.3)"),
    "constant": _l("no spread"),
    # a main index correlated above 0.92 with the index: it all but decides the index alone
    "dominant": _l("drives the index (r > 0.92)"),
    "mean_shift": _l("average rank shift"),
}


def audit_label(value) -> str:
    """An audit code in words; a scenario's name (S1, official, …) or a unit's code as it is."""
    text = str(value)
    if text.startswith("exclusion: "):
        return f"{_l('exclusions')}: {AUDIT_LABELS.get(text[11:], text[11:])}"
    return str(AUDIT_LABELS[text]) if text in AUDIT_LABELS else text


def levels_label(text: str) -> str:
    """What an input of the Monte Carlo is drawn among, in words: its choices ("none, min-max"), its pre-drawn
    realisations ("500 draws") or its range ("0.05-0.15")."""
    if text.endswith(" draws"):
        return _("%(count)s draws", count=text.split()[0])
    if ", " in text:
        return ", ".join(audit_label(level) for level in text.split(", "))
    return text


def audit_of(run: ScoringRun) -> IndexAudit | None:
    return db.session.scalar(select(IndexAudit).where(IndexAudit.run_id == run.id))


#: the job kind of an audit
AUDIT_JOB = "scoring.index_audit"


def audit_subject(run: ScoringRun) -> str:
    return f"scoring_run:{run.id}"


def start_index_audit(run: ScoringRun, user: User | None) -> jobs.Job | None:
    """Ask for the audit of a run as a background job (at national scale it takes seconds to a minute); the
    job already under way when there is one; None when the run has its audit."""
    if audit_of(run) is not None:
        return None
    return jobs.unfinished(audit_subject(run), AUDIT_JOB) or jobs.enqueue(
        AUDIT_JOB, subject=audit_subject(run), params={"run_id": run.id}, actor=user
    )


def _audit_page(job: jobs.Job) -> str:
    return url_for("scoring.audit", run_id=job.params["run_id"])


@jobs.job_kind(
    AUDIT_JOB, title=_l("Statistical audit of a scoring run"), roles=STAFF, result_url=_audit_page, steps=STEP_LABELS
)
def _audit_job(context: jobs.JobContext, *, run_id: int) -> dict:
    stored = run_index_audit(run_id, context.progress, actor_id=context.actor_id)
    return {"audit_id": stored.id}


def run_index_audit(
    run_id: int, progress: Progress, *, actor_id: int | None = None, base_samples: int | None = None
) -> IndexAudit:
    """Audit a scoring run and store the result (flushed, not committed).

    :param progress: called as ``progress(done, total, note)`` before each of ``STEPS`` and once at the end
    :param base_samples: N of the Sobol' design (a power of 2); the configuration's by default
    :return: the stored audit; the one already stored when the run has one (nothing is recomputed)
    :raises ServiceError: ``unknown_run``
    :raises analysis.EstimationError: what the audit cannot do with the run's data (``too_few_units``, …)
    """
    run = db.session.get(ScoringRun, run_id)
    if run is None:
        raise ServiceError("unknown_run", run=run_id)
    total = len(STEPS)
    found = audit_of(run)
    if found is not None:
        progress(total, total, STEPS[-1])
        return found
    samples = base_samples or current_app.config.get("INDEX_AUDIT_BASE_SAMPLES", BASE_SAMPLES)
    started = time.perf_counter()
    result = scoring.result(run)
    framework, points = result.framework, result.points
    units = list(result.scores.index_value.index)
    method = {
        "channels": result.external,
        "excluded": set(run.excluded),
        "normalisation": run.normalisation,
        "exclusion": scoring.exclusion_reading(run),
    }
    progress(0, total, "data_checks")
    checks = data_checks(framework, points, excluded=method["excluded"], units=units)
    progress(1, total, "structure")
    found_structure = structure(framework, points, **method)
    weights = found_structure.pca_weights()
    progress(2, total, "scenarios")
    alternatives = scenarios(framework, points, pca=weights, **method)
    progress(3, total, "uncertainty")
    uncertainty = global_uncertainty(
        framework,
        points,
        **method,
        survey=result.survey,
        expert=result.expert,
        base_samples=samples,
        seed=SEED,
        pca=weights,
    )
    progress(4, total, "storing")
    stored = IndexAudit(
        run_id=run.id,
        base_samples=samples,
        seed=SEED,
        result=audit_document(checks, found_structure, alternatives, uncertainty),
        seconds=round(time.perf_counter() - started, 2),
        created_by_id=actor_id,
    )
    try:
        with db.session.begin_nested():
            db.session.add(stored)
    except IntegrityError:
        # another request or worker stored the run's audit while this one computed: the run keeps that one
        progress(total, total, STEPS[-1])
        return audit_of(run)
    audit.record(
        "scoring.index_audit",
        actor=db.session.get(User, actor_id) if actor_id else None,
        entity=stored,
        new={"run": run.id, "base_samples": samples, "seed": SEED, "seconds": stored.seconds},
    )
    progress(total, total, "storing")
    return stored


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-safe records: NaN as null, numpy numbers as plain ones."""
    return json.loads(table.to_json(orient="records", force_ascii=False)) if len(table) else []


def audit_document(checks, found_structure, alternatives, uncertainty) -> dict[str, Any]:
    """The audit's four parts (``analysis.audit``) as the JSON document stored with it."""
    ranks = alternatives.ranks.rename_axis("unit").reset_index()
    return {
        "data": {
            "criteria": _records(checks.criteria),
            "units": _records(checks.units),
            "outliers": _records(checks.outliers),
        },
        "structure": {
            "correlations": _records(found_structure.correlations),
            "alpha": _records(found_structure.alpha),
            "pca": _records(found_structure.pca),
            "loadings": _records(found_structure.loadings[found_structure.loadings["component"] == 1]),
        },
        "scenarios": {"table": _records(alternatives.table), "ranks": _records(ranks)},
        "uncertainty": {
            "factors": _records(uncertainty.factors),
            "units": _records(uncertainty.units),
            "shift": {key: float(value) for key, value in uncertainty.shift.items()},
            "sobol": _records(uncertainty.sobol),
            "base_samples": uncertainty.base_samples,
            "draws": uncertainty.draws,
            "level": LEVEL,
            "perturbation": WEIGHT_PERTURBATION,
            "share_bounds": list(SHARE_BOUNDS),
        },
    }


# --- reading an audit -------------------------------------------------------------------------------------


@dataclass
class Findings:
    """What an official should look at in an audit, each list in the order to read it."""

    units: int
    #: a unit "could move" when its interval reaches more than this many places from its rank
    places: int
    level: float
    draws: int
    #: criteria failing the JRC skew and kurtosis check; criteria with data for under half the units
    skewed: list[dict] = field(default_factory=list)
    sparse: list[dict] = field(default_factory=list)
    outliers: int = 0
    #: pairs of criteria of a main index: redundant, negative; main indices hardly or negatively tied to the index
    redundant: list[dict] = field(default_factory=list)
    negative: list[dict] = field(default_factory=list)
    weak_mains: list[dict] = field(default_factory=list)
    #: the correlations to read one by one: redundant and negative pairs of criteria, and the main indices hardly
    #: or negatively tied to the index (pairs of criteria near zero are too many on a full framework to list)
    pairs: list[dict] = field(default_factory=list)
    #: per main index, its pairs of criteria hardly correlated (|r| < 0.3) among those with a correlation
    near_zero: list[dict] = field(default_factory=list)
    #: main indices whose criteria do not move together (alpha < 0.7), or that measure more than one thing
    low_alpha: list[dict] = field(default_factory=list)
    multidimensional: list[dict] = field(default_factory=list)
    #: the alternative method that moves the ranks most
    scenario: dict | None = None
    #: units whose rank could move by more than ``places`` (widest first), with the input that moves each most
    wide: list[dict] = field(default_factory=list)
    #: the inputs by their total effect on the average rank shift, largest first
    drivers: list[dict] = field(default_factory=list)

    @property
    def stable(self) -> int:
        return self.units - len(self.wide)

    @property
    def driver(self) -> dict | None:
        return self.drivers[0] if self.drivers else None


def wide_places(units: int) -> int:
    """How many places a unit's rank may move before the page calls it not robust: a tenth of the ranking."""
    return max(1, math.ceil(WIDE_SHARE * units))


def findings(document: dict[str, Any]) -> Findings:
    """Read an audit document into what an official should look at."""
    uncertainty = document["uncertainty"]
    unit_rows = uncertainty["units"]
    places = wide_places(len(unit_rows))
    found = Findings(units=len(unit_rows), places=places, level=uncertainty["level"], draws=uncertainty["draws"])
    criteria = document["data"]["criteria"]
    found.skewed = [row for row in criteria if row["flagged"]]
    found.sparse = [row for row in criteria if row["share"] < SPARSE_SHARE and not row["excluded"]]
    found.outliers = len(document["data"]["outliers"])
    pairs = document["structure"]["correlations"]
    found.redundant = [row for row in pairs if row["level"] == "criteria" and row["flag"] == "redundant"]
    found.negative = [row for row in pairs if row["level"] == "criteria" and row["flag"] == "negative"]
    found.weak_mains = [
        row for row in pairs if row["level"] == "main_indices" and row["flag"] in ("negative", "near_zero")
    ]
    found.pairs = [
        row
        for row in pairs
        if row["flag"] in ("redundant", "negative") or (row["level"] == "main_indices" and row["flag"] == "near_zero")
    ]
    for main in dict.fromkeys(row["parent"] for row in pairs if row["level"] == "criteria"):
        defined = [
            row for row in pairs if row["parent"] == main and row["level"] == "criteria" and row["flag"] != "constant"
        ]
        weak = sum(row["flag"] == "near_zero" for row in defined)
        if weak:
            found.near_zero.append({"main_index": main, "pairs": weak, "of": len(defined)})
    found.low_alpha = [row for row in document["structure"]["alpha"] if _below(row["alpha"], LOW_ALPHA)]
    # Kaiser's rule: a second component with an eigenvalue above 1 carries more than one criterion's variance
    found.multidimensional = [
        row for row in document["structure"]["pca"] if row["component"] == 2 and row["eigenvalue"] > 1
    ]
    table = document["scenarios"]["table"]
    official = next(row for row in table if row["scenario"] == "official")
    alternatives = [row for row in table if row["scenario"] != "official"]
    if alternatives and max(row["mean_shift"] for row in alternatives) > 0:
        moved = max(alternatives, key=lambda row: row["mean_shift"])
        keys = ("normalisation", "aggregation", "weighting", "cyberspace", "expert")
        found.scenario = {**moved, "changes": [key for key in keys if moved[key] != official[key]]}
    sobol = uncertainty["sobol"]
    by_unit: dict[str, dict] = {}
    for row in sobol:
        best = by_unit.get(row["output"])
        if best is None or (row["total"] or 0) > (best["total"] or 0):
            by_unit[row["output"]] = row
    for row in unit_rows:
        reach = rank_reach(row)
        if reach > places:
            driver = by_unit.get(row["unit"])
            found.wide.append({**row, "reach": reach, "driver": driver["factor"] if driver else None})
    found.wide.sort(key=lambda row: (-row["reach"], row["rank"]))
    found.drivers = sorted(
        (row for row in sobol if row["output"] == "mean_shift"), key=lambda row: -(row["total"] or 0)
    )
    return found


def advice(found: Findings, unit_names: dict[str, str]) -> list[str]:
    """What an official should look at, in plain words, most pressing last (the ranks' robustness and what
    drives it): the same sentences on the page and in the PDF report."""
    said = []

    def pairs(rows):
        return ", ".join(f"{row['first']}–{row['second']} ({fixed(row['pearson'], 2)})" for row in rows)

    def codes(rows, key):
        return ", ".join(row[key] for row in rows)

    if found.skewed:
        said.append(
            _(
                "Skewed criteria (|skewness| above 2 and kurtosis above 3.5, the JRC's check): %(codes)s. A few "
                "units far from the others make most of the spread of these criteria: check their values and "
                "evidence; the “winsorised” scenario shows what taming them would change.",
                codes=codes(found.skewed, "node"),
            )
        )
    if found.sparse:
        said.append(
            _(
                "Criteria with data for fewer than half of the units: %(codes)s. Every unit without data scores 0 "
                "on them.",
                codes=codes(found.sparse, "node"),
            )
        )
    if found.outliers:
        said.append(
            ngettext(
                "%(num)s value lies outside Tukey's fences or more than 3 standard deviations from its criterion's "
                "mean: check it before publishing.",
                "%(num)s values lie outside Tukey's fences or more than 3 standard deviations from their "
                "criterion's mean: check them before publishing.",
                found.outliers,
            )
        )
    if found.redundant:
        said.append(
            _(
                "Redundant pairs (correlation above 0.92): %(pairs)s. One criterion of each pair adds nothing the "
                "other does not: the main index counts the same thing twice.",
                pairs=pairs(found.redundant),
            )
        )
    if found.negative:
        said.append(
            _(
                "Pairs that run against each other (correlation −0.3 or below): %(pairs)s. A unit gains on one "
                "what it loses on the other: check that both point the same way.",
                pairs=pairs(found.negative),
            )
        )
    if found.weak_mains:
        said.append(
            _(
                "Main indices hardly or negatively tied to the index: %(codes)s. The index says little about them.",
                codes=codes(found.weak_mains, "first"),
            )
        )
    if found.low_alpha:
        said.append(
            _(
                "Main indices whose criteria do not move together (Cronbach's alpha below %(limit)s): %(codes)s.",
                limit=fixed(LOW_ALPHA, 1),
                codes=codes(found.low_alpha, "main_index"),
            )
        )
    if found.multidimensional:
        said.append(
            _(
                "Main indices that measure more than one thing (a second principal component with an eigenvalue "
                "above 1): %(codes)s.",
                codes=codes(found.multidimensional, "main_index"),
            )
        )
    if found.scenario:
        said.append(
            _(
                "The alternative method that moves the ranks most is %(scenario)s: ranks move by %(mean)s places "
                "on average, at most %(max)s.",
                scenario=scenario_name(found.scenario),
                mean=fixed(found.scenario["mean_shift"], 2),
                max=found.scenario["max_shift"],
            )
        )
    level = round(found.level * 100)
    if found.wide:
        named = ", ".join(
            f"{unit_names.get(row['unit'], row['unit'])} ({row['rank_low']}–{row['rank_high']})" for row in found.wide
        )
        said.append(
            ngettext(
                "%(count)s of %(units)s units' ranks could move by more than %(num)s place (a tenth of the "
                "ranking) within their %(level)s%% interval: %(names)s. Read their ranks as ranges.",
                "%(count)s of %(units)s units' ranks could move by more than %(num)s places (a tenth of the "
                "ranking) within their %(level)s%% interval: %(names)s. Read their ranks as ranges.",
                found.places,
                count=len(found.wide),
                units=found.units,
                level=level,
                names=named,
            )
        )
    else:
        said.append(
            ngettext(
                "No unit's rank moves by more than %(num)s place (a tenth of the ranking) within its %(level)s%% "
                "interval: the ranking is robust.",
                "No unit's rank moves by more than %(num)s places (a tenth of the ranking) within its %(level)s%% "
                "interval: the ranking is robust.",
                found.places,
                level=level,
            )
        )
    if found.driver and (found.driver["total"] or 0) > 0:
        said.append(
            _(
                "What drives the uncertainty of the ranks most: %(factor)s (total effect %(total)s on the average "
                "rank shift). Narrowing it, or settling the choice, would steady the ranking most.",
                factor=audit_label(found.driver["factor"]),
                total=fixed(found.driver["total"], 2),
            )
        )
    return said


def scenario_name(row: dict) -> str:
    """A scenario by what it changes from the official method: "S3 (z-score)", "winsorised"."""
    changed = []
    for key in row.get("changes", []):
        if key in ("cyberspace", "expert"):
            changed.append(f"{audit_label(key + ' share')} {fixed(100 * row[key], 0)}%")
        else:
            changed.append(audit_label(row[key]))
    name = audit_label(row["scenario"])
    return f"{name} ({'; '.join(changed)})" if changed else name


def rank_reach(row: dict) -> int:
    """How many places a unit's rank can move within its interval: to its best or to its worst rank."""
    return int(max(row["rank"] - row["rank_low"], row["rank_high"] - row["rank"]))


def _below(value, limit: float) -> bool:
    return value is not None and value < limit


def robustness(run: ScoringRun) -> dict[str, Any] | None:
    """The public note on a published run's ranking from its stored audit (None without one): how many units'
    ranks could move by more than a tenth of the ranking in the audit's interval, which ones, and what moves the
    ranks most."""
    stored = audit_of(run)
    if stored is None:
        return None
    found = findings(stored.result)
    names = {code: unit.name for code, unit in units_by_code(run.evaluation_round).items()}
    return {
        "units": found.units,
        "places": found.places,
        "moving": len(found.wide),
        "stable": found.stable,
        "level": round(found.level * 100),
        "draws": found.draws,
        "driver": found.driver["factor"] if found.driver and (found.driver["total"] or 0) > 0 else None,
        "wide": [
            {"unit": row["unit"], "name": names.get(row["unit"], row["unit"]), **_interval(row)} for row in found.wide
        ],
    }


def _interval(row: dict) -> dict[str, Any]:
    return {key: row[key] for key in ("rank", "median_rank", "rank_low", "rank_high", "reach")}


def audit_version(run: ScoringRun) -> int | None:
    """What identifies a run's stored audit in a cache key: its id (an audit is stored once and never changed)."""
    return db.session.scalar(select(IndexAudit.id).where(IndexAudit.run_id == run.id))
