"""Turning a measured value into a criterion's points, by the criterion's scoring method."""

from __future__ import annotations

from questionnaires.framework import Scoring, ScoringMethod, SurveyRule


def points_for(scoring: Scoring, value: float | bool, maximum: float) -> float:
    """The points a measured value earns.

    Parameters
    ----------
    scoring : Scoring
        The node's scoring method and its parameters.
    value : float or bool
        The measured value: a ratio or count for ``ratio`` and ``thresholds``, a truth value for
        ``yes_no``, and for ``survey`` the weighted estimate the rule names (a share in [0, 1] for
        ``share_yes`` and ``share_at_least``, a mean on the scale for ``mean_scale``).
    maximum : float
        The node's maximum points.

    Returns
    -------
    float
        Points in [0, maximum].
    """
    method = scoring.method
    if method is ScoringMethod.YES_NO:
        return maximum if value else 0.0
    value = float(value)
    if method is ScoringMethod.RATIO:
        fraction = value / (scoring.target or 1.0)
    elif method is ScoringMethod.THRESHOLDS:
        reached = [step.points for step in scoring.steps if value >= step.at_least]
        return float(min(max(reached, default=0.0), maximum))
    elif scoring.rule is SurveyRule.MEAN_SCALE:
        low, high = scoring.scale
        fraction = (value - low) / (high - low)
    else:
        fraction = value
    return float(min(max(fraction, 0.0), 1.0) * maximum)
