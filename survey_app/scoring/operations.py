"""Scoring a round: the survey and expert channels' results and the stored inputs, merged into scores,
exclusions and rankings by ``analysis``; each run stored with the inputs it read so a published result can be
reproduced, and its results, uncertainty and explanations read back."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import pandas as pd
from sqlalchemy import func, select

from analysis import (
    NORMALISATIONS,
    RankUncertainty,
    Scores,
    Sensitivity,
    channel_noise,
    compute,
    criterion_points,
    explain,
    external_values,
    pillar_view_values,
    propose_exclusions,
    rank,
    self_assessed_criteria,
    sensitivity,
    simulate_ranks,
    survey_estimates,
)
from questionnaires import EXCLUSION_READINGS, Framework
from survey_app.accounts.models import User
from survey_app.audit import operations as audit
from survey_app.core.cache import Cache
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.experts import operations as experts
from survey_app.frameworks.operations import framework_of
from survey_app.rounds.models import EvaluationRound
from survey_app.rounds.operations import previous_round
from survey_app.sampling.models import WeightingRun
from survey_app.sampling.operations import responses_frame
from survey_app.scoring import rules as scoring_rules
from survey_app.scoring import stored_tables
from survey_app.scoring.channel_inputs import assessments, cyberspace_values, file_digest, units_by_code
from survey_app.scoring.models import ScoringRun
from survey_app.survey.models import Fieldwork
from survey_app.units.operations import ranking_group


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-safe records: NaN as None."""
    return json.loads(table.to_json(orient="records", force_ascii=False)) if len(table) else []


def table_hash(records: list[dict[str, Any]]) -> str:
    return file_digest(json.dumps(records, sort_keys=True, ensure_ascii=False, default=str))


def survey_inputs(evaluation_round: EvaluationRound) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """The survey channel's estimates of every fieldwork of the round: the latest weighting run's, or the
    unweighted estimates where the responses were not weighted (said in the versions).

    :return: the estimates with a ``group`` column, and what each came from
    """
    tables, sources = [], []
    fieldworks = db.session.scalars(
        select(Fieldwork).where(Fieldwork.round_id == evaluation_round.id).order_by(Fieldwork.id)
    )
    for fieldwork in fieldworks:
        published = fieldwork.questionnaire
        if published is None or published.for_experts:
            continue
        run = db.session.scalar(
            select(WeightingRun)
            .where(WeightingRun.fieldwork_id == fieldwork.id)
            .order_by(WeightingRun.id.desc())
            .limit(1)
        )
        if run is not None:
            table = pd.DataFrame(run.estimates)
            sources.append({"fieldwork": fieldwork.code, "weighting_run": run.id, "weighted": True})
        else:
            responses, ids = responses_frame(fieldwork)
            if not ids:
                continue
            table = survey_estimates(responses, framework_of(published.framework), published.questionnaire)
            sources.append(
                {"fieldwork": fieldwork.code, "weighting_run": None, "weighted": False, "responses": len(ids)}
            )
        tables.append(table.assign(group=published.group))
    table = (
        pd.concat(tables, ignore_index=True)
        if tables
        else pd.DataFrame(columns=["criterion", "unit", "group", "points"])
    )
    return table, sources


@dataclass
class Inputs:
    """Everything a run merges, as the tables ``analysis`` reads."""

    assessed: pd.DataFrame
    survey: pd.DataFrame
    expert: pd.DataFrame
    agreement: pd.DataFrame
    cyberspace: pd.DataFrame
    versions: dict[str, Any]


def gather(evaluation_round: EvaluationRound) -> Inputs:
    """The round's inputs as they stand now, each with the hash of its content."""
    assessed = pd.DataFrame(
        [
            {
                "unit": row.unit.code,
                "criterion": row.criterion,
                "value": row.value,
                "points": row.points,
                "appraised_points": row.appraised_points,
                "appraisal_reason": row.appraisal_reason,
                "evidence": row.evidence,
                "explanation": row.explanation,
            }
            for row in assessments(evaluation_round)
        ],
        columns=[
            "unit",
            "criterion",
            "value",
            "points",
            "appraised_points",
            "appraisal_reason",
            "evidence",
            "explanation",
        ],
    )
    cyberspace = pd.DataFrame(
        [{"unit": row.unit.code, "node": row.node, "value": row.value} for row in cyberspace_values(evaluation_round)],
        columns=["unit", "node", "value"],
    )
    survey, survey_sources = survey_inputs(evaluation_round)
    expert_results = experts.results(evaluation_round)
    expert = expert_results.items
    if expert.empty:
        expert = pd.DataFrame(columns=["unit", "item", "n", "trimmed_mean", "value", "points"])
    agreement = (
        expert_results.agreement
        if not expert_results.agreement.empty
        else pd.DataFrame(columns=["unit", "kendall_w", "raters"])
    )
    version = evaluation_round.framework
    versions = {
        "framework": {
            "id": version.id,
            "code": version.code,
            "year": version.year,
            "version": version.version,
            "hash": version.content_hash,
        },
        "self_assessment": {
            "rows": len(assessed),
            "appraised": int(assessed["appraised_points"].notna().sum()),
            "hash": table_hash(_records(assessed)),
        },
        "cyberspace": {"rows": len(cyberspace), "hash": table_hash(_records(cyberspace))},
        "survey": {"sources": survey_sources, "rows": len(survey), "hash": table_hash(_records(survey))},
        "expert": {
            "forms": experts.submitted_count(evaluation_round),
            "trim": expert_results.trim,
            "hash": table_hash(_records(expert)),
        },
    }
    return Inputs(assessed, survey, expert, agreement, cyberspace, versions)


def merged_points(framework: Framework, units: list[str], inputs: Inputs) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every unit's points per criterion with the channel they came from, and the external channels' rows."""
    points = criterion_points(
        framework,
        units,
        assessed=inputs.assessed,
        survey=inputs.survey,
        expert=inputs.expert.rename(columns={"item": "node"}),
        cyberspace=inputs.cyberspace,
    )
    expert_values = (
        inputs.expert.rename(columns={"item": "node"})[["unit", "node", "value"]]
        if "value" in inputs.expert.columns
        else pd.DataFrame(columns=["unit", "node", "value"])
    )
    external = pd.concat(
        [
            external_values(framework, inputs.cyberspace, "cyberspace"),
            external_values(framework, expert_values, "expert"),
        ],
        ignore_index=True,
    )
    return points, external


def proposed_exclusions(evaluation_round: EvaluationRound, inputs: Inputs | None = None) -> pd.DataFrame:
    """The criteria fewer than half of the round's units have data for [1726 II.2.b.vi]."""
    framework = framework_of(evaluation_round.framework)
    units = list(units_by_code(evaluation_round))
    points, _ = merged_points(framework, units, inputs or gather(evaluation_round))
    return propose_exclusions(points, units)


def check_run_options(
    evaluation_round: EvaluationRound,
    *,
    excluded: Sequence[str],
    kept: Sequence[str],
    normalisation: str,
    exclusion: str | None,
) -> tuple[Framework, str, list[str]]:
    """What a run's options can be refused for before anything is computed (a run asked for as a job is
    refused on its form, not on its job's page). Returns the framework, the exclusion reading and the units.

    :raises ServiceError: ``unknown_normalisation``, ``unknown_exclusion_reading``, ``no_units``,
        ``unknown_criterion``, ``excluded_and_kept``
    """
    if normalisation not in NORMALISATIONS:
        raise ServiceError("unknown_normalisation", method=normalisation)
    framework = framework_of(evaluation_round.framework)
    exclusion = exclusion or framework.exclusion
    if exclusion not in EXCLUSION_READINGS:
        raise ServiceError("unknown_exclusion_reading", reading=exclusion)
    units = list(units_by_code(evaluation_round))
    if not units:
        raise ServiceError("no_units")
    leaves = {node.code for node in framework.leaves() if node.scored}
    unknown = next((code for code in [*excluded, *kept] if code not in leaves), None)
    if unknown:
        raise ServiceError("unknown_criterion", criterion=unknown)
    both = sorted(set(excluded) & set(kept))
    if both:
        raise ServiceError("excluded_and_kept", criterion=both[0])
    return framework, exclusion, units


def run_scoring(
    evaluation_round: EvaluationRound,
    *,
    excluded: list[str],
    kept: Sequence[str] = (),
    rules: Mapping[str, Any] | None = None,
    normalisation: str = "none",
    exclusion: str | None = None,
    note: str = "",
    actor: User | None,
) -> ScoringRun:
    """Compute the round's scores from its inputs as they stand, and store the run with that snapshot.

    :param excluded: criteria an officer confirmed for exclusion (proposed or not; the reason goes in ``note``)
    :param kept: criteria proposed for exclusion that the officer keeps in the ranking (units without data score
        0 on them); with ``excluded``, the decisions publication asks for (see ``exclusion_decisions``)
    :param rules: Tuyên Quang's rules, ``{"peer_maximum": {"units": [...], "criteria": [...]}, ...}``
    :param normalisation: one of ``analysis.NORMALISATIONS``
    :param exclusion: what excluding a criterion does, one of ``questionnaires.EXCLUSION_READINGS``; the
        framework's reading without it (stored with the run, so recomputing it gives the same scores)
    :raises ServiceError: ``unknown_criterion``, ``unknown_unit``, ``unknown_rule``, ``no_units``,
        ``unknown_normalisation``, ``unknown_exclusion_reading``, ``excluded_and_kept``
    """
    framework, exclusion, units = check_run_options(
        evaluation_round, excluded=excluded, kept=kept, normalisation=normalisation, exclusion=exclusion
    )
    rules = {
        name: {"units": list(rule.get("units", [])), "criteria": list(rule.get("criteria", []))}
        for name, rule in (rules or {}).items()
    }
    inputs = gather(evaluation_round)
    points, external = merged_points(framework, units, inputs)
    attribute_rules = scoring_rules.from_attributes(framework, units_by_code(evaluation_round))
    points = scoring_rules.apply_attribute_rules(framework, points, attribute_rules)
    # an officer's rules come after the units' own: a rule named on the run has the last word
    points = scoring_rules.apply_rules(framework, points, rules, units)
    scores = compute(
        framework,
        points,
        excluded=set(excluded),
        channels=external,
        normalisation=normalisation,
        exclusion=exclusion,
    )
    number = (
        db.session.scalar(select(func.max(ScoringRun.number)).where(ScoringRun.round_id == evaluation_round.id)) or 0
    ) + 1
    run = ScoringRun(
        round_id=evaluation_round.id,
        number=number,
        excluded=sorted(excluded),
        rules=rules,
        normalisation=normalisation,
        versions={
            **inputs.versions,
            "exclusions": {"kept": sorted(kept), "reading": exclusion},
            "attribute_rules": attribute_rules,
        },
        inputs={
            "points": _records(points),
            "external": _records(external),
            "assessed": _records(inputs.assessed),
            "survey": _records(inputs.survey),
            "expert": _records(inputs.expert),
            "agreement": _records(inputs.agreement),
        },
        index={unit: float(value) for unit, value in scores.index_value.items()},
        note=note.strip(),
        created_by_id=actor.id if actor else None,
    )
    db.session.add(run)
    if evaluation_round.status in ("preparing", "collecting"):
        evaluation_round.status = "scoring"
    db.session.flush()
    audit.record(
        "scoring.run",
        actor=actor,
        entity=run,
        new={
            "round": evaluation_round.code,
            "number": number,
            "excluded": run.excluded,
            "kept": sorted(kept),
            "rules": rules,
            "attribute_rules": attribute_rules,
            "normalisation": normalisation,
            "versions": {name: entry.get("hash") for name, entry in inputs.versions.items()},
        },
    )
    return run


# --- a run's results ------------------------------------------------------------------------------------


@dataclass
class RunResult:
    framework: Framework
    scores: Scores
    points: pd.DataFrame
    external: pd.DataFrame
    assessed: pd.DataFrame
    survey: pd.DataFrame
    expert: pd.DataFrame
    agreement: pd.DataFrame
    #: computed on first use: the rank simulation and the sensitivity run
    uncertainty: RankUncertainty | None = None
    sensitivity: Sensitivity | None = None


def _frame(records: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame(records) if records else pd.DataFrame(columns=columns)


#: recomputed results of recent runs, keyed by what identifies a run's snapshot
_RESULTS: Cache[RunResult] = Cache(16)


def result(run: ScoringRun) -> RunResult:
    """The run's scores, computed again from its stored snapshot (the same numbers every time: the snapshot
    and the framework version do not change once stored)."""
    version = run.evaluation_round.framework
    key = (
        run.id,
        version.content_hash,
        json.dumps(run.versions, sort_keys=True),
        json.dumps(run.index, sort_keys=True),
        tuple(run.excluded),
        run.normalisation,
    )

    def recompute() -> RunResult:
        framework = framework_of(version)
        stored = run.inputs
        points = _frame(stored["points"], ["unit", "node", "points", "source"])
        external = _frame(stored["external"], ["unit", "node", "channel", "value"])
        scores = compute(
            framework,
            points,
            excluded=set(run.excluded),
            channels=external,
            normalisation=run.normalisation,
            exclusion=exclusion_reading(run),
        )
        return RunResult(
            framework,
            scores,
            points,
            external,
            _frame(stored["assessed"], ["unit", "criterion"]),
            _frame(stored["survey"], ["criterion", "unit"]),
            _frame(stored["expert"], ["unit", "item"]),
            _frame(stored["agreement"], ["unit"]),
        )

    return _RESULTS.get_or_make(key, recompute)


#: draws of the rank simulation shown with a run
REPLICATES = 1000


def uncertainty(run: ScoringRun) -> RankUncertainty:
    """How much of the run's ranking is noise: every unit's index and rank with a 95% interval from the survey
    estimates' standard errors and the expert panels' spread, and which neighbours are not meaningfully apart.
    The same draws every time (a fixed seed), so a page and its export agree."""
    found = result(run)
    stored = (run.derived or {}).get("uncertainty")
    if found.uncertainty is None and stored:
        found.uncertainty = RankUncertainty(
            stored_tables.table(stored["units"]), stored_tables.table(stored["neighbours"])
        )
    if found.uncertainty is None:
        leaves, external = channel_noise(found.framework, found.points, survey=found.survey, expert=found.expert)
        noisy = found.points.merge(leaves[["unit", "node"]], on=["unit", "node"])
        found.uncertainty = simulate_ranks(
            found.framework,
            noisy,
            leaves,
            index_value=found.scores.index_value,
            excluded=found.scores.excluded,
            replicates=REPLICATES,
            external_noise=external,
            slopes=found.scores.slopes,
            exclusion=exclusion_reading(run),
        )
    return found.uncertainty


def not_meaningfully_ahead(run: ScoringRun) -> set[str]:
    """Units whose lead over the next one in the ranking is not meaningful: it holds in under 95% of the draws."""
    pairs = uncertainty(run).neighbours
    return set(pairs.loc[~pairs["meaningful"].astype(bool), "higher"]) if len(pairs) else set()


def sensitivity_of(run: ScoringRun) -> Sensitivity:
    """How the run's ranks move under the other normalisations and channel shares within ±5 points."""
    found = result(run)
    stored = (run.derived or {}).get("sensitivity")
    if found.sensitivity is None and stored:
        found.sensitivity = Sensitivity(
            stored["scenarios"], stored_tables.table(stored["ranks"]), stored_tables.table(stored["summary"])
        )
    if found.sensitivity is None:
        found.sensitivity = sensitivity(
            found.framework,
            found.points,
            channels=found.external,
            excluded=set(run.excluded),
            normalisation=run.normalisation,
            exclusion=exclusion_reading(run),
        )
    return found.sensitivity


def store_derived(run: ScoringRun) -> None:
    """Compute the run's rank simulation and sensitivity run and keep them with the run (the run's job does, so
    that no page computes them, whichever process serves it)."""
    found_uncertainty, found_sensitivity = uncertainty(run), sensitivity_of(run)
    run.derived = {
        "uncertainty": {
            "units": stored_tables.document(found_uncertainty.units),
            "neighbours": stored_tables.document(found_uncertainty.neighbours),
        },
        "sensitivity": {
            "scenarios": found_sensitivity.scenarios,
            "ranks": stored_tables.document(found_sensitivity.ranks),
            "summary": stored_tables.document(found_sensitivity.summary),
        },
    }


def exclusion_reading(run: ScoringRun) -> str:
    """What the run's exclusions did (``questionnaires.EXCLUSION_READINGS``); runs stored before the choice
    existed redistributed, which is what their framework then always did."""
    return (run.versions or {}).get("exclusions", {}).get("reading") or "redistribute"


def ranking_nodes(run: ScoringRun) -> list:
    """The pillars (or groups) and main indices a ranking shows beside the index, in framework order, then the
    framework's pillar views (Tuyên Quang's district pillars of 450, ranked beside the 850-point index)."""
    found = result(run)
    columns = set(found.scores.points.columns)
    nodes = [node for node, _ in found.framework.walk() if node.kind.depth <= 2 and node.code in columns]
    return nodes + [view for view in found.framework.pillar_views if set(view.includes) & columns]


def ranking(run: ScoringRun) -> pd.DataFrame:
    """One row per unit, best first: index value, rank, their simulated 95% intervals, and the value and rank on
    every pillar and main index; where the round's units fall into ranking groups (``units.ranking_group``: the
    ministries that provide online public services and those that do not), each unit's ``group`` and its
    ``group_rank`` among its group."""
    found = result(run)
    values, ranks = found.scores.values(), found.scores.ranks()
    units = units_by_code(run.evaluation_round)
    simulated = uncertainty(run).units
    codes = found.scores.index_value.index
    table = pd.DataFrame(
        {
            "unit": codes,
            "name": [units[c].name if c in units else c for c in codes],
            "index": found.scores.index_value.to_numpy(),
            "rank": ranks["index"].to_numpy(),
            "index_low": simulated["index_low"].reindex(codes).to_numpy(),
            "index_high": simulated["index_high"].reindex(codes).to_numpy(),
            "rank_low": simulated["rank_low"].reindex(codes).to_numpy(),
            "rank_high": simulated["rank_high"].reindex(codes).to_numpy(),
        }
    )
    views = pillar_view_values(found.framework, found.scores)
    for node in ranking_nodes(run):
        if node.code in values.columns:
            table[node.code] = values[node.code].to_numpy()
            table[f"{node.code} rank"] = ranks[node.code].to_numpy()
        else:  # a pillar view
            table[node.code] = views[node.code].reindex(codes).to_numpy()
            table[f"{node.code} rank"] = rank(views[node.code]).reindex(codes).to_numpy()
    groups = [ranking_group(units[c]) if c in units else None for c in codes]
    if any(groups):
        table["group"] = groups
        table["group_rank"] = 0
        for group in {g for g in groups if g}:
            members = table["group"] == group
            table.loc[members, "group_rank"] = rank(
                pd.Series(table.loc[members, "index"].to_numpy(), index=table.loc[members, "unit"])
            ).to_numpy()
    return table.sort_values(["rank", "unit"]).reset_index(drop=True)


def published_run(evaluation_round: EvaluationRound) -> ScoringRun | None:
    return db.session.scalar(
        select(ScoringRun).where(ScoringRun.round_id == evaluation_round.id, ScoringRun.published_at.is_not(None))
    )


def explanation(run: ScoringRun, unit_code: str) -> dict[str, Any]:
    """Why the unit ranks where it does (``analysis.explain``), each survey estimate with its change since the
    latest published round of the level before this one's year, where that round surveyed the same criterion."""
    found = result(run)
    if unit_code not in found.scores.index_value.index:
        raise ServiceError("unknown_unit", unit=unit_code)
    return explain(
        found.framework,
        found.scores,
        unit_code,
        points=found.points,
        assessed=found.assessed,
        survey=found.survey,
        expert=found.expert,
        agreement=found.agreement,
        previous_survey=_previous_survey(run),
    )


def _previous_survey(run: ScoringRun) -> pd.DataFrame | None:
    before = previous_round(run.evaluation_round)
    earlier = published_run(before) if before is not None else None
    return result(earlier).survey if earlier is not None and earlier.id != run.id else None


def runs(evaluation_round: EvaluationRound) -> list[ScoringRun]:
    return list(
        db.session.scalars(
            select(ScoringRun).where(ScoringRun.round_id == evaluation_round.id).order_by(ScoringRun.number.desc())
        )
    )


def input_summary(evaluation_round: EvaluationRound) -> dict[str, Any]:
    """What the round has so far, per input, for the scoring page."""
    framework = framework_of(evaluation_round.framework)
    units = units_by_code(evaluation_round)
    reported = assessments(evaluation_round)
    criteria = self_assessed_criteria(framework)
    per_unit = {code: {"reported": 0, "appraised": 0} for code in units}
    for row in reported:
        entry = per_unit.setdefault(row.unit.code, {"reported": 0, "appraised": 0})
        entry["reported"] += 1
        entry["appraised"] += row.appraised_points is not None
    return {
        "criteria": len(criteria),
        "units": len(units),
        "per_unit": per_unit,
        "reported": len(reported),
        "appraised": sum(row.appraised_points is not None for row in reported),
        "cyberspace": len(cyberspace_values(evaluation_round)),
        "expert_forms": experts.submitted_count(evaluation_round),
    }
