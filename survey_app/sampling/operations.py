"""Sample design and weighting for the staff pages: plans from a population frame, invitees drawn from a list
frame into a fieldwork's invitations, and weighting runs over a fieldwork's responses with their estimates.

The statistics are the libraries' (``sampling``, ``analysis``); this module reads the uploads, stores what the
staff keep and records it in the audit log.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd
from sqlalchemy import select

from analysis import survey_estimates
from analysis.survey_channel import COLUMNS as ESTIMATE_COLUMNS
from questionnaires import QuestionType
from sampling import (
    SamplingError,
    allocate,
    diagnose,
    poststratify,
    rake,
    read_list_frame,
    read_population_frame,
    read_stratum_deviations,
    sample_size_proportion,
    trim,
)
from sampling import (
    select as select_sample,
)
from survey_app.accounts.models import User
from survey_app.audit import operations as audit
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.core.frames import column_frame
from survey_app.frameworks.operations import framework_of
from survey_app.sampling.models import WEIGHT_RECORD, SamplePlan, WeightingRun
from survey_app.survey.models import Fieldwork, FieldworkMode, Response
from survey_app.survey.operations.invitations import IssuedInvitation, issue_invitations
from survey_app.units.models import Unit

# --- sample plans ---------------------------------------------------------------------------------------

#: the figures of a plan per stratum and per unit, kept apart from the frame's own columns: those may have any
#: name, ``size`` or ``population`` among them (a business frame is stratified by firm size)
PLAN_COLUMNS = ["population", "size", "margin_of_error", "expected_respondents"]
UNIT_COLUMNS = ["population", "size", "margin_of_error"]


@dataclass
class Plan:
    #: per stratum, indexed by its values (a level per stratum column): the PLAN_COLUMNS
    strata: pd.DataFrame
    #: per unit, indexed by the unit column's values (when a stratum column names the unit): the UNIT_COLUMNS
    units: pd.DataFrame | None
    parameters: dict[str, Any]

    @property
    def total(self) -> int:
        return int(self.strata["size"].sum())

    def rows(self):
        """Every stratum as its values (one per stratum column) and its figures."""
        for key, figures in self.strata.iterrows():
            yield (list(key) if isinstance(key, tuple) else [key]), figures

    def table(self) -> pd.DataFrame:
        """The plan as one flat table, the stratum columns first; a figure whose name a stratum column already
        has is prefixed ``plan_`` (a frame stratified by ``size`` gets the sample size as ``plan_size``)."""
        keys = self.strata.index.to_frame(index=False)
        taken, names = set(keys.columns), {}
        for column in self.strata.columns:
            name = column
            while name in taken:
                name = "plan_" + name
            taken.add(name)
            names[column] = name
        return pd.concat([keys, self.strata.reset_index(drop=True).rename(columns=names)], axis=1)


def sample_plan(
    data: bytes,
    filename: str,
    strata: list[str],
    count: str,
    method: str,
    *,
    total: int | None,
    margin: float | None,
    power: float,
    minimum: int,
    maximum: int | None,
    deff: float,
    response_rate: float,
    unit: str | None = None,
    sd_column: str | None = None,
    sd_kind: str = "sd",
) -> Plan:
    """The plan of a frame: per stratum its population, sample size (invitations) and expected margin, and
    per unit (a province made of its strata) the margin its strata give together.

    The strata may be fewer than the frame's columns: the rows of a stratum are added up. With ``method ==
    "precision"`` every stratum gets the size that reaches ``margin`` on its own; otherwise ``total`` is
    allocated by the method, Neyman's taking each stratum's standard deviation (``sd_kind="sd"``) or expected
    proportion (``sd_kind="proportion"``) from the frame's column ``sd_column``.

    :raises sampling.SamplingError: for a bad frame or an impossible request
    """
    population = read_population_frame(data, strata, count, name=filename)
    if unit is not None and unit not in strata:
        raise SamplingError("unknown_column", "no column {column} among the strata", column=unit)
    if method == "precision":
        sizes = pd.Series(
            [
                min(int(n_h), sample_size_proportion(margin, population=n_h, deff=deff, response_rate=response_rate))
                if n_h > 0
                else 0
                for n_h in population
            ],
            index=population.index,
            dtype=float,
        )
        total = int(sizes.sum())
        # allocating that total in proportion to the sizes gives them back, with their margins computed
        allocation = allocate(
            population,
            total,
            "neyman",
            sd=sizes / population.where(population > 0, 1),
            deff=deff,
            response_rate=response_rate,
        )
    else:
        sd = None
        if method == "neyman" and sd_column:
            sd = read_stratum_deviations(data, strata, sd_column, kind=sd_kind, count=count, name=filename)
        allocation = allocate(
            population,
            total,
            method,
            sd=sd,
            power=power,
            minimum=minimum,
            maximum=maximum,
            deff=deff,
            response_rate=response_rate,
        )
    table = allocation.table.copy()
    table["expected_respondents"] = (table["size"] * response_rate).round(1)
    units = None
    if unit is not None:
        groups = pd.Series(table.index.get_level_values(unit), index=table.index)
        units = table.groupby(groups.to_numpy())[["population", "size"]].sum()
        units["margin_of_error"] = allocation.margin_by(groups)
        units.index.name = unit
    parameters = {
        "strata": strata,
        "count": count,
        "method": method,
        "total": total,
        "margin": margin,
        "power": power,
        "minimum": minimum,
        "maximum": maximum,
        "deff": deff,
        "response_rate": response_rate,
        "unit": unit,
    }
    if method == "neyman":
        parameters |= {"sd_column": sd_column, "sd_kind": sd_kind}
    return Plan(table[PLAN_COLUMNS], units, parameters)


def save_plan(plan: Plan, name: str, data: bytes, filename: str, *, actor: User | None) -> SamplePlan:
    """Store a plan: a record per stratum ``{"stratum": {column: value}, "population": …, "size": …}`` and per
    unit ``{"unit": value, "population": …}``, the frame's values nested apart from the figures."""
    strata = [
        {"stratum": dict(zip(plan.parameters["strata"], values)), **figures}
        for values, figures in zip(_keys(plan.strata.index), _records(plan.strata))
    ]
    units = []
    if plan.units is not None:
        units = [{"unit": value, **figures} for value, figures in zip(plan.units.index, _records(plan.units))]
    stored = SamplePlan(
        name=name,
        frame_name=filename[:255],
        frame_hash=_file_hash(data),
        parameters=plan.parameters,
        strata=strata,
        units=units,
        total=plan.total,
        created_by_id=actor.id if actor else None,
    )
    db.session.add(stored)
    db.session.flush()
    audit.record("sample_plan.save", actor=actor, entity=stored, new={"name": name, "total": stored.total})
    return stored


def stored_plan(stored: SamplePlan) -> Plan:
    """A saved plan's tables, columns in their order (JSONB keeps no key order)."""
    columns = stored.parameters["strata"]
    index = _index([_stratum_values(row, columns) for row in stored.strata], columns)
    strata = pd.DataFrame(
        [{column: row.get(column) for column in PLAN_COLUMNS} for row in stored.strata],
        columns=PLAN_COLUMNS,
        index=index,
    ).astype({"margin_of_error": float})
    units = None
    if stored.units:
        unit = stored.parameters["unit"]
        # plans saved before the figures were nested keyed the unit by its column's name
        index = pd.Index([row["unit"] if "unit" in row else row[unit] for row in stored.units], name=unit)
        units = pd.DataFrame(
            [{column: row.get(column) for column in UNIT_COLUMNS} for row in stored.units],
            columns=UNIT_COLUMNS,
            index=index,
        ).astype({"margin_of_error": float})
    return Plan(strata, units, stored.parameters)


def run_estimates(run: WeightingRun) -> pd.DataFrame:
    """A weighting run's estimates, columns in their order."""
    return pd.DataFrame(run.estimates, columns=ESTIMATE_COLUMNS)


def plan_sizes(plan: SamplePlan) -> dict:
    """The plan's size per stratum, keyed as ``sampling.select`` expects (a tuple for several columns)."""
    columns = plan.parameters["strata"]
    sizes = {}
    for row in plan.strata:
        values = tuple(str(value) for value in _stratum_values(row, columns))
        sizes[values if len(columns) > 1 else values[0]] = int(row["size"])
    return sizes


def _stratum_values(row: dict[str, Any], columns: list[str]) -> list:
    # plans saved before the figures were nested kept the stratum's values beside them
    values = row["stratum"] if isinstance(row.get("stratum"), dict) else row
    return [values[column] for column in columns]


def _index(keys: list[list], columns: list[str]) -> pd.Index:
    if len(columns) > 1:
        return pd.MultiIndex.from_tuples([tuple(key) for key in keys], names=columns)
    return pd.Index([key[0] for key in keys], name=columns[0])


def _keys(index: pd.Index) -> list[list]:
    return [list(key) if isinstance(key, tuple) else [key] for key in index]


def _records(table: pd.DataFrame) -> list[dict[str, Any]]:
    # JSON has no NaN, infinity or numpy numbers: plain floats and ints, None for a missing or unbounded
    # value (the margin of a stratum given no sample)
    def plain(value):
        value = value.item() if isinstance(value, np.generic) else value
        return None if isinstance(value, float) and not math.isfinite(value) else value

    return [{key: plain(value) for key, value in row.items()} for row in table.to_dict("records")]


def _file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- drawing invitees -----------------------------------------------------------------------------------


@dataclass
class Draw:
    selected: pd.DataFrame
    issued: list[IssuedInvitation]


def draw_invitations(
    fieldwork: Fieldwork,
    data: bytes,
    filename: str,
    *,
    strata: list[str],
    unit: str,
    sizes: dict,
    method: str,
    size: str | None,
    seed: int,
    actor: User | None,
) -> Draw:
    """Select invitees from a list frame, stratum by stratum, and give each a personal link in the fieldwork,
    with their stratum and inclusion probability (the base of their weight).

    :param sizes: the number to draw per stratum (a saved plan's sizes)
    :raises sampling.SamplingError: a bad frame or sizes the frame cannot give
    :raises ServiceError: ``not_invitation_mode``, ``rows_rejected`` for rows whose unit is not in the fieldwork
    """
    if fieldwork.mode != FieldworkMode.INVITATION:
        raise ServiceError("not_invitation_mode")
    frame = read_list_frame(data, strata + ([unit] if unit not in strata else []), size=size, name=filename)
    selected = select_sample(
        frame, sizes, method=method, strata=strata, size=size if method == "pps_systematic" else None, seed=seed
    )
    invitees = []
    for row in selected.to_dict("records"):
        invitees.append(
            {
                "unit": row[unit],
                "stratum": " × ".join(str(row[c]) for c in strata),
                "inclusion_probability": row["inclusion_probability"],
                **{key: row.get(key) for key in ("name", "email", "phone") if _present(row.get(key))},
            }
        )
    issued = issue_invitations(fieldwork, invitees, actor=actor)
    audit.record(
        "fieldwork.draw",
        actor=actor,
        entity=fieldwork,
        new={
            "frame": filename[:255],
            "frame_hash": _file_hash(data),
            "method": method,
            "seed": seed,
            "drawn": len(issued),
        },
    )
    return Draw(selected, issued)


def _present(value) -> bool:
    return value is not None and not (isinstance(value, float) and np.isnan(value)) and str(value).strip() != ""


# --- weighting ------------------------------------------------------------------------------------------

WEIGHTING_METHODS = ("rake", "poststratify")
HISTOGRAM_EDGES = (0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 3, 5, np.inf)


def responses_frame(fieldwork: Fieldwork, extra: Sequence[str] = ()) -> tuple[pd.DataFrame, list[int]]:
    """The fieldwork's responses that count (not excluded): one row per response with ``unit`` and a column per
    question that measures a criterion (and per code of ``extra``), and their ids in row order.

    Read as columns by one narrow query (``core.frames``): the database takes each answer out of the stored
    document, so that neither the whole documents nor an object per response are made.
    """
    questions = {
        question.code: question
        for question in fieldwork.questionnaire.questionnaire.questions()
        if question.type is not QuestionType.UNIT and (question.criterion or question.code in extra)
    }
    table = column_frame(
        db.session,
        select(
            Response.id.label("id"),
            Unit.code.label("unit"),
            *(Response.answers[code].as_string().label(f"a{position}") for position, code in enumerate(questions)),
        )
        .join(Unit, Unit.id == Response.unit_id)
        .where(Response.fieldwork_id == fieldwork.id, Response.excluded.is_(False))
        .order_by(Response.id),
    )
    responses = pd.DataFrame({"unit": table["unit"]})
    for position, (code, question) in enumerate(questions.items()):
        answers = table[f"a{position}"]
        if not answers.notna().any():
            continue  # nobody answered it: no column, as a table made from the answers would have none
        if question.type in (QuestionType.NUMBER, QuestionType.PERCENTAGE):
            answers = pd.to_numeric(answers)
        elif question.type is QuestionType.MULTIPLE:
            # a few distinct sets of choices among a million answers: each parsed once (the rows share the
            # list, which nothing changes)
            codes, texts = pd.factorize(answers)
            parsed = np.empty(len(texts) + 1, dtype=object)  # None first, for a blank (code -1)
            for slot, text in enumerate(texts, start=1):
                parsed[slot] = json.loads(text)  # one by one: lists given at once would make a 2-D array
            answers = pd.Series(parsed[codes + 1], index=answers.index, dtype=object)
        responses[code] = answers
    return responses, table["id"].tolist()


def run_weights(run: WeightingRun) -> dict[int, float]:
    """A weighting run's weights by response id."""
    pairs = np.frombuffer(run.weights or b"", dtype=WEIGHT_RECORD)
    return dict(zip(pairs["response"].tolist(), pairs["weight"].tolist()))


def _packed_weights(ids: Sequence[int], weights: np.ndarray) -> bytes:
    pairs = np.empty(len(ids), dtype=WEIGHT_RECORD)
    pairs["response"] = ids
    pairs["weight"] = weights
    return pairs.tobytes()


#: the steps of a weighting run a progress bar counts: reading the responses, weighting, estimating, storing
WEIGHTING_STEPS = 4


def _no_progress(done: int, total: int, step: str) -> None:
    return None


def check_weighting_request(
    fieldwork: Fieldwork, data: bytes, filename: str, *, margins: list[str], method: str, count: str
) -> pd.DataFrame:
    """What can be refused before a weighting run is started: margins the questionnaire does not ask, an unknown
    method, a population file that does not read. Returns the population's counts per cell.

    :raises sampling.SamplingError: a bad population file
    :raises ServiceError: ``unknown_margin``, ``unknown_weighting_method``
    """
    asked = {question.code for question in fieldwork.questionnaire.questionnaire.questions()}
    unknown = [margin for margin in margins if margin not in asked]
    if unknown:
        raise ServiceError("unknown_margin", margin=unknown[0])
    if method not in WEIGHTING_METHODS:
        raise ServiceError("unknown_weighting_method", method=method)
    return read_population_frame(data, ["unit"] + margins, count, name=filename)


def run_weighting(
    fieldwork: Fieldwork,
    data: bytes,
    filename: str,
    *,
    margins: list[str],
    method: str,
    lower: float | None,
    upper: float | None,
    count: str = "population",
    actor: User | None,
    progress: Callable[[int, int, str], None] | None = None,
) -> WeightingRun:
    """Weight the fieldwork's responses to a population file within each unit, trim, and estimate every
    survey-scored criterion per unit; store the run.

    The population file has a row per cell: the unit's code (column ``unit``), a column per background variable
    (named as the questionnaire's background question) and the population count. Every response starts from
    the same weight within its unit: an anonymous response keeps no link to its invitation's probability, and
    the adjustment to the population carries the design's unequal chances where they follow the margins.
    ``rake`` matches every unit's count by each margin; ``poststratify`` matches the count of every cell of the
    margins crossed.

    ``progress(done, total, step)`` hears of each of its ``WEIGHTING_STEPS`` steps (a job's progress bar).

    :raises sampling.SamplingError: a bad file, a level with no respondent, margins that disagree, raking that
        does not converge, bounds that cannot hold
    :raises ServiceError: ``no_responses``, ``unknown_margin`` for a variable the questionnaire does not ask,
        ``margin_unanswered`` when respondents left a margin's question blank
    """
    progress = progress or _no_progress
    questionnaire = fieldwork.questionnaire.questionnaire
    population = check_weighting_request(fieldwork, data, filename, margins=margins, method=method, count=count)
    progress(0, WEIGHTING_STEPS, "job_step_reading_responses")
    responses, ids = responses_frame(fieldwork, margins)
    if not ids:
        raise ServiceError("no_responses")
    for margin in margins:
        blank = int(responses[margin].isna().sum()) if margin in responses.columns else len(responses)
        if blank:
            raise ServiceError("margin_unanswered", margin=margin, count=blank)
    progress(1, WEIGHTING_STEPS, "job_step_weighting")
    respondents = responses.astype({margin: str for margin in margins})
    units = respondents["unit"].to_numpy()
    # each unit's rows, found once by hashing (comparing a million codes per unit took seconds)
    rows_by_unit = pd.Series(units).groupby(units, sort=True).indices
    if not margins:
        weighting = poststratify(respondents, np.ones(len(ids)), "unit", population)
    elif method == "poststratify":
        weighting = poststratify(respondents, np.ones(len(ids)), ["unit"] + margins, population)
    else:
        targets = {
            ("unit", margin): population.groupby(level=[0, position + 1]).sum()
            for position, margin in enumerate(margins)
        }
        weighting = rake(respondents, np.ones(len(ids)), targets)
    weights = weighting.weights
    if lower is not None or upper is not None:
        weights = _trim_within_units(weights, rows_by_unit, lower, upper)
    progress(2, WEIGHTING_STEPS, "job_step_estimating")
    table = survey_estimates(
        responses,
        framework_of(fieldwork.questionnaire.framework),
        questionnaire,
        weights=weights,
        calibrations=[weighting.calibration] if weighting.calibration is not None else [],
    )
    run = WeightingRun(
        fieldwork_id=fieldwork.id,
        method=method,
        margins=margins,
        lower=lower,
        upper=upper,
        population_name=filename[:255],
        population_hash=_file_hash(data),
        diagnostics=_diagnostics(weights, rows_by_unit, weighting),
        histogram=_histogram(weights, rows_by_unit),
        estimates=_records(table),
        weights=_packed_weights(ids, np.asarray(weights, dtype=float)),
        created_by_id=actor.id if actor else None,
    )
    # the last progress before the run's rows are written: a job's writes come after its news (see core.jobs)
    progress(3, WEIGHTING_STEPS, "job_step_storing")
    db.session.add(run)
    db.session.flush()
    audit.record(
        "fieldwork.weighting",
        actor=actor,
        entity=fieldwork,
        new={
            "run": run.id,
            "method": method,
            "margins": margins,
            "lower": lower,
            "upper": upper,
            "population_hash": run.population_hash,
        },
    )
    return run


def _trim_within_units(
    weights: np.ndarray, rows_by_unit: dict[str, np.ndarray], lower: float | None, upper: float | None
) -> np.ndarray:
    """Trim each unit's weights to [lower, upper] times the unit's mean weight, keeping the unit's total."""
    trimmed = weights.copy()
    for rows in rows_by_unit.values():
        mean = weights[rows].mean()
        trimmed[rows] = trim(
            weights[rows],
            lower=(lower or 0.0) * mean,
            upper=(upper if upper is not None else np.inf) * mean,
            strict=True,  # every weight within the bounds, as the page promises (R's default is one pass)
        ).weights
    return trimmed


def _diagnostics(weights: np.ndarray, rows_by_unit: dict[str, np.ndarray], weighting) -> dict[str, Any]:
    def plain(diagnostics) -> dict[str, Any]:
        # a figure without a value (the ratio of weights that include a negative one, a unit whose weights are
        # all 0) is stored as null: JSON has no NaN, and the pages show "—" for it
        values = {key: (v.item() if isinstance(v, np.generic) else v) for key, v in diagnostics.__dict__.items()}
        return {key: None if isinstance(v, float) and not math.isfinite(v) else v for key, v in values.items()}

    overall = plain(diagnose(weights, weighting.diagnostics.iterations, weighting.diagnostics.converged))
    return {
        "overall": overall,
        "units": {str(code): plain(diagnose(weights[rows])) for code, rows in sorted(rows_by_unit.items())},
    }


def _histogram(weights: np.ndarray, rows_by_unit: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    """Counts of weights relative to their unit's mean: one scale for units of any size."""
    relative = np.empty_like(weights)
    for rows in rows_by_unit.values():
        relative[rows] = weights[rows] / weights[rows].mean()
    counts, _ = np.histogram(relative, bins=np.array(HISTOGRAM_EDGES, dtype=float))
    return [
        {"low": float(low), "high": None if np.isinf(high) else float(high), "count": int(count)}
        for low, high, count in zip(HISTOGRAM_EDGES[:-1], HISTOGRAM_EDGES[1:], counts)
    ]
