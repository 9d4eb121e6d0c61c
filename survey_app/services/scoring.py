"""Scoring a round: self-assessed data (by file or form) and its appraisal, cyberspace values, the survey and
expert channels' results, merged into scores, exclusions and rankings by ``analysis``; each run stored with the
inputs it read so a published result can be reproduced."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from analysis import (
    NORMALISATIONS,
    RankUncertainty,
    RejectedRow,
    Scores,
    Sensitivity,
    apply_full_marks,
    apply_peer_maximum,
    channel_noise,
    check_cyberspace,
    check_self_assessment,
    compute,
    criterion_points,
    explain,
    external_values,
    merge_units,
    propose_exclusions,
    self_assessed_criteria,
    sensitivity,
    simulate_ranks,
    survey_estimates,
    template_rows,
)
from analysis.inputs import VIETNAMESE_HEADERS
from questionnaires import Channel, Framework
from survey_app.cache import Cache
from survey_app.extensions import db
from survey_app.models import (
    CyberspaceValue,
    EvaluationRound,
    Fieldwork,
    ScoringRun,
    SelfAssessment,
    Unit,
    User,
    WeightingRun,
)
from survey_app.models.types import utcnow
from survey_app.services import ServiceError, audit, experts
from survey_app.services.collection import read_rows
from survey_app.services.frameworks import framework_of, freeze
from survey_app.services.sampling import responses_frame

#: the Tuyên Quang rules a run can apply [742 Art. 7]
RULES = ("peer_maximum", "full_marks")


def _units(evaluation_round: EvaluationRound) -> dict[str, Unit]:
    return {unit.code: unit for unit in experts.round_units(evaluation_round)}


# --- self-assessment ------------------------------------------------------------------------------------


def template(evaluation_round: EvaluationRound, unit: Unit | None = None, language: str = "vi") -> pd.DataFrame:
    """The self-assessment template of a round (or one unit), with the values already reported filled in; the
    headers in the language asked for (Vietnamese headers and codes are both read back)."""
    framework = framework_of(evaluation_round.framework)
    codes = [unit.code] if unit is not None else list(_units(evaluation_round))
    table = pd.DataFrame(template_rows(framework, codes, language))
    reported = {(row.unit.code, row.criterion): row for row in assessments(evaluation_round)}
    for position, (code, criterion) in enumerate(zip(table.get("unit", []), table.get("criterion", []))):
        row = reported.get((code, criterion))
        if row is not None:
            table.loc[position, ["value", "evidence", "explanation"]] = [
                f"{row.value:g}",
                row.evidence,
                row.explanation,
            ]
    if language == "vi":
        table = table.rename(columns=VIETNAMESE_HEADERS)
    return table


def assessments(evaluation_round: EvaluationRound, unit: Unit | None = None) -> list[SelfAssessment]:
    query = select(SelfAssessment).where(SelfAssessment.round_id == evaluation_round.id)
    if unit is not None:
        query = query.where(SelfAssessment.unit_id == unit.id).options(selectinload(SelfAssessment.documents))
    return list(db.session.scalars(query.order_by(SelfAssessment.unit_id, SelfAssessment.id)))


@dataclass
class InputImport:
    stored: int
    rejected: list[RejectedRow]


def ensure_open(evaluation_round: EvaluationRound) -> None:
    """Refuse a change to a round whose results are published: they stay as the public saw them."""
    if evaluation_round.published_at is not None:
        raise ServiceError("round_published")


def import_self_assessment(
    evaluation_round: EvaluationRound, data: bytes, filename: str, *, unit: Unit | None = None, actor: User | None
) -> InputImport:
    """Store a self-assessment file (CSV or Excel, the template's columns); see ``store_self_assessment``.

    :raises ServiceError: ``unreadable_file``, ``empty_file``, ``round_published``
    """
    return store_self_assessment(
        evaluation_round, read_rows(data, filename), unit=unit, actor=actor, file_hash=_digest(data)
    )


def store_self_assessment(
    evaluation_round: EvaluationRound,
    rows: list[Mapping[str, Any]],
    *,
    unit: Unit | None = None,
    actor: User | None,
    file_hash: str | None = None,
) -> InputImport:
    """Store self-assessed rows: every row or, when any row is rejected, none. A row for a criterion the unit
    reported before replaces it (and clears its appraisal, which judged the old value).

    :param unit: the unit of every row when the rows name none (a unit's own file)
    :raises ServiceError: ``empty_file``, ``round_published``
    """
    ensure_open(evaluation_round)
    framework = framework_of(evaluation_round.framework)
    units = _units(evaluation_round)
    checked = check_self_assessment(rows, framework, units, unit=unit.code if unit is not None else None)
    if not checked.valid and not checked.rejected:
        raise ServiceError("empty_file")
    if checked.rejected:
        return InputImport(0, checked.rejected)
    existing = {(row.unit_id, row.criterion): row for row in assessments(evaluation_round)}
    for row in checked.valid:
        _store_assessment(
            evaluation_round,
            units[row.unit],
            row.criterion,
            row.value,
            row.points,
            row.evidence,
            row.explanation,
            source="file",
            actor=actor,
            stored=existing.get((units[row.unit].id, row.criterion)),
        )
    db.session.flush()
    audit.record(
        "scoring.self_assessment",
        actor=actor,
        entity=evaluation_round,
        new={"stored": len(checked.valid), "source": "file", "file_hash": file_hash},
    )
    return InputImport(len(checked.valid), [])


def report_value(
    evaluation_round: EvaluationRound,
    unit: Unit,
    criterion: str,
    value: str,
    *,
    evidence: str,
    explanation: str,
    actor: User | None,
) -> SelfAssessment:
    """Store one self-assessed value entered in the form, checked as a file row would be.

    :raises ServiceError: the row's problem code (``invalid_value``, ``no_evidence``, ...), ``round_published``
    """
    ensure_open(evaluation_round)
    framework = framework_of(evaluation_round.framework)
    checked = check_self_assessment(
        [{"unit": unit.code, "criterion": criterion, "value": value, "evidence": evidence, "explanation": explanation}],
        framework,
        [unit.code],
    )
    if checked.rejected:
        problem = checked.rejected[0]
        raise ServiceError(problem.code, **problem.params)
    row = checked.valid[0]
    stored = _store_assessment(
        evaluation_round,
        unit,
        criterion,
        row.value,
        row.points,
        row.evidence,
        row.explanation,
        source="form",
        actor=actor,
    )
    db.session.flush()
    audit.record("scoring.self_assessment", actor=actor, entity=stored, new={"value": row.value, "points": row.points})
    return stored


def _store_assessment(
    evaluation_round,
    unit,
    criterion,
    value,
    points,
    evidence,
    explanation,
    *,
    source,
    actor,
    stored: SelfAssessment | None = None,
):
    if stored is None:
        stored = db.session.scalar(
            select(SelfAssessment).where(
                SelfAssessment.round_id == evaluation_round.id,
                SelfAssessment.unit_id == unit.id,
                SelfAssessment.criterion == criterion,
            )
        )
    if stored is None:
        stored = SelfAssessment(round_id=evaluation_round.id, unit=unit, criterion=criterion)
        db.session.add(stored)
    elif stored.value != value:
        stored.appraised_points = stored.appraisal_reason = stored.appraised_at = stored.appraised_by_id = None
    stored.value, stored.points, stored.evidence, stored.explanation = value, points, evidence, explanation
    stored.source, stored.reported_at, stored.reported_by_id = source, utcnow(), actor.id if actor else None
    return stored


def appraise(assessment: SelfAssessment, points: float | None, reason: str, *, actor: User) -> None:
    """An officer's appraisal of a self-assessed row: ``points`` None accepts the self-assessed points, a number
    corrects them (a reason is then required); both values are kept and the change is audited.

    :raises ServiceError: ``points_out_of_range``, ``reason_required``, ``round_published``
    """
    evaluation_round = db.session.get(EvaluationRound, assessment.round_id)
    ensure_open(evaluation_round)
    node = framework_of(evaluation_round.framework).find(assessment.criterion)
    if points is None:
        points = assessment.points
    elif not (0 <= points <= node.points and np.isfinite(points)):
        raise ServiceError("points_out_of_range", maximum=node.points)
    elif abs(points - assessment.points) > 1e-9 and not reason.strip():
        raise ServiceError("reason_required")
    old = {"appraised_points": assessment.appraised_points, "reason": assessment.appraisal_reason}
    assessment.appraised_points, assessment.appraisal_reason = float(points), reason.strip()
    assessment.appraised_at, assessment.appraised_by_id = utcnow(), actor.id
    db.session.flush()
    audit.record(
        "scoring.appraise",
        actor=actor,
        entity=assessment,
        old=old,
        new={"self_assessed": assessment.points, "appraised_points": float(points), "reason": reason.strip()},
    )


# --- cyberspace -----------------------------------------------------------------------------------------


def cyberspace_values(evaluation_round: EvaluationRound) -> list[CyberspaceValue]:
    return list(
        db.session.scalars(
            select(CyberspaceValue)
            .where(CyberspaceValue.round_id == evaluation_round.id)
            .order_by(CyberspaceValue.unit_id, CyberspaceValue.node)
        )
    )


def import_cyberspace(
    evaluation_round: EvaluationRound, data: bytes, filename: str, *, actor: User | None
) -> InputImport:
    """Store a cyberspace file (CSV or Excel); see ``store_cyberspace``."""
    return store_cyberspace(evaluation_round, read_rows(data, filename), actor=actor, file_hash=_digest(data))


def store_cyberspace(
    evaluation_round: EvaluationRound,
    rows: list[Mapping[str, Any]],
    *,
    actor: User | None,
    file_hash: str | None = None,
) -> InputImport:
    """Store cyberspace values (unit, main index, value in [0, 1]): every row, or none when a row is rejected;
    a value for a unit and node already loaded replaces it."""
    ensure_open(evaluation_round)
    units = _units(evaluation_round)
    checked = check_cyberspace(rows, framework_of(evaluation_round.framework), units)
    if not checked.valid and not checked.rejected:
        raise ServiceError("empty_file")
    if checked.rejected:
        return InputImport(0, checked.rejected)
    existing = {(row.unit_id, row.node): row for row in cyberspace_values(evaluation_round)}
    for row in checked.valid:
        unit = units[row.unit]
        stored = existing.get((unit.id, row.node))
        if stored is None:
            stored = CyberspaceValue(round_id=evaluation_round.id, unit=unit, node=row.node)
            db.session.add(stored)
        stored.value, stored.loaded_at, stored.loaded_by_id = row.value, utcnow(), actor.id if actor else None
    db.session.flush()
    audit.record(
        "scoring.cyberspace",
        actor=actor,
        entity=evaluation_round,
        new={"stored": len(checked.valid), "file_hash": file_hash},
    )
    return InputImport(len(checked.valid), [])


# --- the channels merged --------------------------------------------------------------------------------


def _digest(data: bytes | str) -> str:
    return hashlib.sha256(data if isinstance(data, bytes) else data.encode()).hexdigest()


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """JSON-safe records: NaN as None."""
    return json.loads(table.to_json(orient="records", force_ascii=False)) if len(table) else []


def _table_hash(records: list[dict[str, Any]]) -> str:
    return _digest(json.dumps(records, sort_keys=True, ensure_ascii=False, default=str))


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
            "hash": _table_hash(_records(assessed)),
        },
        "cyberspace": {"rows": len(cyberspace), "hash": _table_hash(_records(cyberspace))},
        "survey": {"sources": survey_sources, "rows": len(survey), "hash": _table_hash(_records(survey))},
        "expert": {
            "forms": experts.submitted_count(evaluation_round),
            "trim": expert_results.trim,
            "hash": _table_hash(_records(expert)),
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
    units = list(_units(evaluation_round))
    points, _ = merged_points(framework, units, inputs or gather(evaluation_round))
    return propose_exclusions(points, units)


def _apply_rules(
    framework: Framework, points: pd.DataFrame, rules: Mapping[str, Mapping[str, list[str]]], units: list[str]
) -> pd.DataFrame:
    leaves = {node.code for node in framework.leaves() if node.scored}
    for name, rule in rules.items():
        if name not in RULES:
            raise ServiceError("unknown_rule", rule=name)
        unknown_unit = next((u for u in rule.get("units", []) if u not in units), None)
        if unknown_unit:
            raise ServiceError("unknown_unit", unit=unknown_unit)
        unknown = next((c for c in rule.get("criteria", []) if c not in leaves), None)
        if unknown:
            raise ServiceError("unknown_criterion", criterion=unknown)
        if not rule.get("units") or not rule.get("criteria"):
            continue
        if name == "peer_maximum":
            points = apply_peer_maximum(points, rule["units"], rule["criteria"])
        else:
            points = apply_full_marks(framework, points, rule["units"], rule["criteria"])
        points.loc[points["rule"] == name, "source"] = name
    return points


def run_scoring(
    evaluation_round: EvaluationRound,
    *,
    excluded: list[str],
    kept: Sequence[str] = (),
    rules: Mapping[str, Any] | None = None,
    normalisation: str = "none",
    note: str = "",
    actor: User | None,
) -> ScoringRun:
    """Compute the round's scores from its inputs as they stand, and store the run with that snapshot.

    :param excluded: criteria an officer confirmed for exclusion (proposed or not; the reason goes in ``note``)
    :param kept: criteria proposed for exclusion that the officer keeps in the ranking (units without data score
        0 on them); with ``excluded``, the decisions publication asks for (see ``exclusion_decisions``)
    :param rules: Tuyên Quang's rules, ``{"peer_maximum": {"units": [...], "criteria": [...]}, ...}``
    :param normalisation: one of ``analysis.NORMALISATIONS``
    :raises ServiceError: ``unknown_criterion``, ``unknown_unit``, ``unknown_rule``, ``no_units``,
        ``unknown_normalisation``, ``excluded_and_kept``
    """
    if normalisation not in NORMALISATIONS:
        raise ServiceError("unknown_normalisation", method=normalisation)
    framework = framework_of(evaluation_round.framework)
    units = list(_units(evaluation_round))
    if not units:
        raise ServiceError("no_units")
    leaves = {node.code for node in framework.leaves() if node.scored}
    unknown = next((code for code in [*excluded, *kept] if code not in leaves), None)
    if unknown:
        raise ServiceError("unknown_criterion", criterion=unknown)
    both = sorted(set(excluded) & set(kept))
    if both:
        raise ServiceError("excluded_and_kept", criterion=both[0])
    rules = {
        name: {"units": list(rule.get("units", [])), "criteria": list(rule.get("criteria", []))}
        for name, rule in (rules or {}).items()
    }
    inputs = gather(evaluation_round)
    points, external = merged_points(framework, units, inputs)
    points = _apply_rules(framework, points, rules, units)
    scores = compute(framework, points, excluded=set(excluded), channels=external, normalisation=normalisation)
    number = (
        db.session.scalar(select(func.max(ScoringRun.number)).where(ScoringRun.round_id == evaluation_round.id)) or 0
    ) + 1
    run = ScoringRun(
        round_id=evaluation_round.id,
        number=number,
        excluded=sorted(excluded),
        rules=rules,
        normalisation=normalisation,
        versions={**inputs.versions, "exclusions": {"kept": sorted(kept)}},
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
            framework, points, excluded=set(run.excluded), channels=external, normalisation=run.normalisation
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
        )
    return found.uncertainty


def not_meaningfully_ahead(run: ScoringRun) -> set[str]:
    """Units whose lead over the next one in the ranking is not meaningful: it holds in under 95% of the draws."""
    pairs = uncertainty(run).neighbours
    return set(pairs.loc[~pairs["meaningful"].astype(bool), "higher"]) if len(pairs) else set()


def sensitivity_of(run: ScoringRun) -> Sensitivity:
    """How the run's ranks move under the other normalisations and channel shares within ±5 points."""
    found = result(run)
    if found.sensitivity is None:
        found.sensitivity = sensitivity(
            found.framework,
            found.points,
            channels=found.external,
            excluded=set(run.excluded),
            normalisation=run.normalisation,
        )
    return found.sensitivity


def ranking_nodes(run: ScoringRun) -> list:
    """The pillars (or groups) and main indices a ranking shows beside the index, in framework order."""
    found = result(run)
    columns = set(found.scores.points.columns)
    return [node for node, _ in found.framework.walk() if node.kind.depth <= 2 and node.code in columns]


def ranking(run: ScoringRun) -> pd.DataFrame:
    """One row per unit, best first: index value, rank, their simulated 95% intervals, and the value and rank on
    every pillar and main index."""
    found = result(run)
    values, ranks = found.scores.values(), found.scores.ranks()
    units = _units(run.evaluation_round)
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
    for node in ranking_nodes(run):
        table[node.code] = values[node.code].to_numpy()
        table[f"{node.code} rank"] = ranks[node.code].to_numpy()
    return table.sort_values(["rank", "unit"]).reset_index(drop=True)


def explanation(run: ScoringRun, unit_code: str) -> dict[str, Any]:
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
    )


def runs(evaluation_round: EvaluationRound) -> list[ScoringRun]:
    return list(
        db.session.scalars(
            select(ScoringRun).where(ScoringRun.round_id == evaluation_round.id).order_by(ScoringRun.number.desc())
        )
    )


def input_summary(evaluation_round: EvaluationRound) -> dict[str, Any]:
    """What the round has so far, per input, for the scoring page."""
    framework = framework_of(evaluation_round.framework)
    units = _units(evaluation_round)
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


# --- publication ----------------------------------------------------------------------------------------


def exclusion_decisions(run: ScoringRun) -> list[dict[str, Any]]:
    """The criteria proposed for exclusion on the run's own snapshot (fewer than half of its units have data
    [1726 II.2.b.vi]), each with the officer's decision in the run: ``"excluded"``, ``"kept"`` or None (none).

    :return: per criterion ``node``, ``units_with_data``, ``share``, ``decision``, in framework order
    """
    found = result(run)
    units = sorted(found.points["unit"].unique()) if len(found.points) else []
    if not units:
        return []
    proposed = propose_exclusions(found.points, units).set_index("node")
    kept = set((run.versions.get("exclusions") or {}).get("kept", []))
    order = [node.code for node in found.framework.leaves() if node.code in proposed.index]
    return [
        {
            "node": code,
            "units_with_data": int(proposed.loc[code, "units_with_data"]),
            "share": float(proposed.loc[code, "share"]),
            "decision": "excluded" if code in run.excluded else "kept" if code in kept else None,
        }
        for code in order
    ]


def publish(run: ScoringRun, *, actor: User | None) -> None:
    """Publish a run as the round's results: the round's inputs and its framework version are frozen from now on
    (a later change makes a new framework version). A run on which a criterion proposed for exclusion was neither
    excluded nor kept is refused: publishing it would score every unit without data 0 on it by default.

    :raises ServiceError: ``round_published`` when the round already has published results,
        ``exclusions_undecided`` (``criteria``: their codes) when a proposed exclusion has no decision
    """
    evaluation_round = run.evaluation_round
    ensure_open(evaluation_round)
    undecided = [entry["node"] for entry in exclusion_decisions(run) if entry["decision"] is None]
    if undecided:
        raise ServiceError("exclusions_undecided", criteria=undecided)
    now = utcnow()
    run.published_at = evaluation_round.published_at = now
    evaluation_round.status = "published"
    if not evaluation_round.framework.frozen:
        freeze(evaluation_round.framework, actor=actor)
    db.session.flush()
    audit.record(
        "scoring.publish",
        actor=actor,
        entity=run,
        new={"round": evaluation_round.code, "number": run.number, "index_hash": _table_hash([run.index])},
    )


def published_run(evaluation_round: EvaluationRound) -> ScoringRun | None:
    return db.session.scalar(
        select(ScoringRun).where(ScoringRun.round_id == evaluation_round.id, ScoringRun.published_at.is_not(None))
    )


def published_rounds() -> list[EvaluationRound]:
    """Rounds with published results, newest year first."""
    return list(
        db.session.scalars(
            select(EvaluationRound)
            .where(EvaluationRound.published_at.is_not(None))
            .order_by(EvaluationRound.year.desc(), EvaluationRound.level)
        )
    )


def previous_round(evaluation_round: EvaluationRound) -> EvaluationRound | None:
    """The latest published round of the same level before this one's year."""
    return db.session.scalar(
        select(EvaluationRound)
        .where(
            EvaluationRound.level == evaluation_round.level,
            EvaluationRound.year < evaluation_round.year,
            EvaluationRound.published_at.is_not(None),
        )
        .order_by(EvaluationRound.year.desc())
        .limit(1)
    )


def previous_values(evaluation_round: EvaluationRound) -> dict[str, dict[str, Any]]:
    """Last year's index of each unit of the round: its own, or for a unit formed by a merger the average of its
    predecessors' (as the 2024 results were published for the 34 provinces of 2025), with their codes."""
    before = previous_round(evaluation_round)
    run = published_run(before) if before is not None else None
    if run is None:
        return {}
    found: dict[str, dict[str, Any]] = {}
    for unit in experts.round_units(evaluation_round):
        if unit.code in run.index and not unit.predecessors:
            found[unit.code] = {"year": before.year, "index": run.index[unit.code], "from": [unit.code]}
            continue
        olds = [old.code for old in unit.predecessors if old.code in run.index]
        if olds:
            found[unit.code] = {
                "year": before.year,
                "index": float(np.mean([run.index[c] for c in olds])),
                "from": olds,
            }
    return found


def merger_series(run: ScoringRun) -> list[dict[str, Any]]:
    """For every unit of the run's round formed by merging several older units: this year's index and values
    beside last year's as the 2024 results were published for the 34 provinces of 2025 (the average of the
    predecessors' index and of each node's value), and each predecessor's own index and rank last year."""
    evaluation_round = run.evaluation_round
    before = previous_round(evaluation_round)
    earlier = published_run(before) if before is not None else None
    merged = [unit for unit in experts.round_units(evaluation_round) if len(unit.predecessors) >= 2]
    if earlier is None or not merged:
        return []
    then, now = result(earlier).scores, result(run).scores
    then_values, now_values = then.values(), now.values()
    then_ranks = then.ranks()["index"]
    shared = [code for code in now_values.columns if code in then_values.columns]
    rows = []
    for unit in merged:
        olds = [old for old in unit.predecessors if old.code in then_values.index]
        if not olds or unit.code not in now_values.index:
            continue
        averaged = merge_units(then_values[shared], {unit.code: [old.code for old in olds]}).loc[unit.code]
        rows.append(
            {
                "unit": unit.code,
                "name": unit.name,
                "year": evaluation_round.year,
                "index": float(now.index_value[unit.code]),
                "values": {code: _plain_number(now_values.loc[unit.code, code]) for code in shared},
                "previous_year": before.year,
                "previous_index": float(np.mean([then.index_value[old.code] for old in olds])),
                "previous_values": {code: _plain_number(averaged[code]) for code in shared},
                "predecessors": [
                    {
                        "unit": old.code,
                        "name": old.name,
                        "index": float(then.index_value[old.code]),
                        "rank": int(then_ranks[old.code]),
                    }
                    for old in olds
                ],
            }
        )
    return rows


def _plain_number(value) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


#: the order in which a scorecard names the channels of the criteria a unit has no data on
_CHANNEL_ORDER = [
    str(channel)
    for channel in (Channel.SURVEY, Channel.SELF_ASSESSMENT, Channel.APPRAISAL, Channel.EXPERT, Channel.CYBERSPACE)
]


def _measured_by(node) -> str:
    """The channel that scores a criterion when it has data (as ``analysis.criterion_points`` picks it)."""
    kinds = set(node.channel_kinds())
    if Channel.SURVEY in kinds:
        return str(Channel.SURVEY)
    if kinds & {Channel.SELF_ASSESSMENT, Channel.APPRAISAL}:
        return str(Channel.SELF_ASSESSMENT)
    return str(node.channel_kinds()[0]) if kinds else str(Channel.SELF_ASSESSMENT)


def missing_by_channel(framework: Framework, nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The criteria of an explanation on which the unit has no data and scores 0 (excluded ones aside), grouped by
    the channel that should have measured them: ``[{"channel": "survey", "criteria": ["AW.3", ...]}, ...]``."""
    grouped: dict[str, list[str]] = {}
    for entry in nodes:
        if entry.get("missing") and entry.get("scored") and not entry.get("excluded"):
            grouped.setdefault(_measured_by(framework.find(entry["code"])), []).append(entry["code"])
    return [{"channel": channel, "criteria": grouped[channel]} for channel in sorted(grouped, key=_CHANNEL_ORDER.index)]


def scorecard(run: ScoringRun, unit_code: str, *, public: bool = True) -> dict[str, Any]:
    """A unit's published scorecard: the explanation with last year's index beside this year's, and the criteria
    it has no data on by channel (``missing``: they score 0, so a rank without sampling noise is still not a
    measured one); in public, the self-assessment's free text (evidence references, explanations, appraisal
    reasons) is left out."""
    card = explanation(run, unit_code)
    card["missing"] = missing_by_channel(result(run).framework, card["nodes"])
    card["previous"] = previous_values(run.evaluation_round).get(unit_code)
    simulated = uncertainty(run).units.loc[unit_code]
    card["interval"] = {
        "index_low": float(simulated["index_low"]),
        "index_high": float(simulated["index_high"]),
        "rank_low": int(simulated["rank_low"]),
        "rank_high": int(simulated["rank_high"]),
        "level": 0.95,
        "replicates": REPLICATES,
        "noisy": bool(simulated["index_high"] - simulated["index_low"] > 1e-12),
    }
    if public:
        for node in card["nodes"]:
            for channel in ("self_assessment", "appraisal"):
                entry = node.get("channels", {}).get(channel)
                if entry:
                    for text in ("evidence", "explanation", "reason"):
                        entry.pop(text, None)
    return card
