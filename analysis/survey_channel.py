"""The survey channel's estimates: per criterion and unit, the weighted value of the rule the framework names,
its standard error and interval, the unweighted value beside it, and the points it earns.

A criterion answered by several questions takes, for each respondent, the mean of the values of the questions
they answered (each by the criterion's rule), so that one respondent counts once in the criterion's estimate.
"""

from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np
import pandas as pd

from analysis._errors import EstimationError
from analysis._intervals import share_bounds
from analysis.design import Design
from questionnaires import Framework, Node, Questionnaire, ScoringMethod, SurveyRule, points_for, respondent_value

#: the interval of a criterion's estimate, by its rule: a share's stays within [0, 1] (R's ``svyciprop``, logit,
#: or Clopper-Pearson where everyone answered alike or one answered), a scale's mean is the Wald interval
SHARE_RULES = (SurveyRule.SHARE_YES, SurveyRule.SHARE_AT_LEAST)

COLUMNS = [
    "criterion",
    "unit",
    "rule",
    "respondents",
    "unweighted",
    "unweighted_low",
    "unweighted_high",
    "weighted",
    "se",
    "ci_low",
    "ci_high",
    "deff",
    "interval",
    "maximum",
    "points",
    "points_low",
    "points_high",
]


def survey_criteria(framework: Framework, questionnaire: Questionnaire) -> dict[str, tuple[Node, list]]:
    """The criteria the questionnaire measures that the framework scores by a survey rule, each with its node
    and its questions, in framework order."""
    questions: dict[str, list] = {}
    for question in questionnaire.questions():
        if question.criterion:
            questions.setdefault(question.criterion, []).append(question)
    found = {}
    for node, _ in framework.walk():
        if node.code in questions and node.scoring is not None and node.scoring.method is ScoringMethod.SURVEY:
            found[node.code] = (node, questions[node.code])
    return found


def criterion_values(responses: pd.DataFrame, framework: Framework, questionnaire: Questionnaire) -> pd.DataFrame:
    """Each respondent's value on every survey-scored criterion (NaN where they answered none of its
    questions): 1/0 for the share rules, the scale's number for a mean."""
    values = {}
    for code, (node, questions) in survey_criteria(framework, questionnaire).items():
        per_question = []
        for question in questions:
            answers = (
                responses[question.code]
                if question.code in responses.columns
                else pd.Series([None] * len(responses), index=responses.index)
            )
            per_question.append(_question_values(question, node, answers))
        with warnings.catch_warnings():
            # a respondent who answered none of the questions has no value: NaN by design, not a warning
            warnings.simplefilter("ignore", RuntimeWarning)
            values[code] = np.nanmean(np.array(per_question, dtype=float).reshape(len(questions), -1), axis=0)
    return pd.DataFrame(values, index=responses.index)


def _question_values(question, node, answers: pd.Series) -> np.ndarray:
    """Every respondent's value on one question: computed once per distinct answer (a survey has a few
    distinct answers and up to millions of respondents)."""
    try:
        codes, distinct = pd.factorize(answers, use_na_sentinel=True)
    except TypeError:
        # multiple-choice answers are lists: compared as tuples
        codes, distinct = pd.factorize(answers.map(lambda a: tuple(a) if isinstance(a, list) else a))
        distinct = [list(a) if isinstance(a, tuple) else a for a in distinct]
    values = np.array([_value(question, node, answer) for answer in distinct] + [np.nan], dtype=float)
    return values[codes]


def _value(question, node, answer) -> float:
    if answer is None or (isinstance(answer, float) and np.isnan(answer)):
        return np.nan
    value = respondent_value(question, node.scoring.rule, answer, node.scoring.threshold)
    return np.nan if value is None else value


def survey_estimates(
    responses: pd.DataFrame,
    framework: Framework,
    questionnaire: Questionnaire,
    *,
    weights: Sequence[float] | None = None,
    calibrations: Sequence = (),
    unit: str = "unit",
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Per survey-scored criterion and unit: the weighted estimate with its standard error, interval and design
    effect, the unweighted estimate with its interval, the respondent count, and the points.

    Parameters
    ----------
    responses : DataFrame
        One row per (non-excluded) response: the column ``unit`` and a column per question code.
    framework, questionnaire
        The framework whose criteria carry the survey rules; the questionnaire the responses answered.
    weights : array, optional
        The final weights (one per row); without them every response weighs 1 and the weighted columns equal
        the unweighted ones.
    calibrations : sequence of sampling.Calibration
        The adjustments that made the weights, so that standard errors account for them as R's do.
    unit : str
        The column of the unit: each unit is a stratum of the design (its sample is drawn, or weighted, on its
        own) and a domain of the estimates.

    Returns
    -------
    DataFrame
        Columns ``COLUMNS``; a unit with no answer to a criterion has ``respondents`` 0 and NaN elsewhere,
        which the index scores as missing.
    """
    if unit not in responses.columns:
        raise EstimationError("unknown_column", "no column {column} in the data", column=unit)
    criteria = survey_criteria(framework, questionnaire)
    data = criterion_values(responses, framework, questionnaire)
    unit_codes, unit_labels = pd.factorize(responses[unit].astype(str).to_numpy(dtype=object), sort=True)
    unit_labels = np.asarray(unit_labels, dtype=object)
    data[unit] = unit_labels[unit_codes]
    units = sorted(unit_labels)
    answered = {}
    for code in criteria:
        valid = data[code].notna().to_numpy()
        answered[code] = set(unit_labels[np.unique(unit_codes[valid])])
        if answered[code]:
            # rows without a value weigh nothing in the estimate whatever their domain, so they are labelled
            # with an answered unit: a unit nobody answered is then absent, not an empty domain
            first = list(unit_labels).index(min(answered[code]))
            # categorical, so that the design reads the domains from their codes instead of comparing text
            data[f"{code} domain"] = pd.Categorical.from_codes(
                np.where(valid, unit_codes, first), categories=unit_labels
            )
    if weights is None:
        weights = np.ones(len(data))
    weighted = Design(data, np.asarray(weights, float), strata=unit, lonely_psu="certainty", calibrations=calibrations)
    plain = Design(data, np.ones(len(data)), strata=unit, lonely_psu="certainty")
    rows = []
    for code, (node, _) in criteria.items():
        if answered[code]:
            estimate = weighted.mean(code, by=f"{code} domain", confidence=confidence)
            unweighted = plain.mean(code, by=f"{code} domain", confidence=confidence)
            if node.scoring.rule in SHARE_RULES:
                estimate, unweighted = (_within_0_1(table, confidence) for table in (estimate, unweighted))
        for unit_code in units:
            present = unit_code in answered[code]
            rows.append(
                _row(
                    node,
                    unit_code,
                    estimate.loc[unit_code] if present else None,
                    unweighted.loc[unit_code] if present else None,
                )
            )
    return pd.DataFrame(rows, columns=COLUMNS)


def _within_0_1(table: pd.DataFrame, confidence: float) -> pd.DataFrame:
    """A table of shares by unit with intervals that stay within [0, 1] (``share_bounds``): each unit is a stratum
    of respondents sampled as elements, so its degrees of freedom are its respondents less one, as R's
    ``svyciprop`` on the unit's subset counts them."""
    low, high, method = share_bounds(table["estimate"], table["se"], table["n"], table["n"] - 1, confidence)
    return table.assign(ci_low=low, ci_high=high, interval=method)


def _row(node: Node, unit_code: str, estimate, unweighted) -> dict:
    row = {
        "criterion": node.code,
        "unit": unit_code,
        "rule": str(node.scoring.rule),
        "maximum": node.points,
        "respondents": 0,
    }
    if estimate is None:
        return row
    row.update(
        respondents=int(estimate["n"]),
        unweighted=unweighted["estimate"],
        unweighted_low=unweighted["ci_low"],
        unweighted_high=unweighted["ci_high"],
        weighted=estimate["estimate"],
        se=estimate["se"],
        ci_low=estimate["ci_low"],
        ci_high=estimate["ci_high"],
        deff=estimate["deff"],
        interval=estimate.get("interval", "normal"),
    )
    # every rule's points grow with the estimate, so the interval's ends give the points' interval
    for column, value in (
        ("points", estimate["estimate"]),
        ("points_low", estimate["ci_low"]),
        ("points_high", estimate["ci_high"]),
    ):
        row[column] = points_for(node.scoring, value, node.points)
    return row
