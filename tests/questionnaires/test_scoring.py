"""Scoring methods, against hand computations."""

import pytest

from questionnaires import Scoring, ScoringMethod, Step, SurveyRule, points_for


@pytest.mark.parametrize(
    "scoring, value, maximum, expected",
    [
        (Scoring(ScoringMethod.RATIO, target=100), 85, 50, 42.5),  # 85% of a 100% target, of 50 points
        (Scoring(ScoringMethod.RATIO, target=80), 90, 40, 40.0),  # above target: capped
        (Scoring(ScoringMethod.RATIO), 0.5, 200, 100.0),  # a value in [0, 1] times the points
        (Scoring(ScoringMethod.RATIO, target=1), -0.2, 10, 0.0),
        (Scoring(ScoringMethod.THRESHOLDS, steps=(Step(1, 20), Step(2, 30), Step(3, 40))), 0, 40, 0.0),
        (Scoring(ScoringMethod.THRESHOLDS, steps=(Step(1, 20), Step(2, 30), Step(3, 40))), 2.5, 40, 30.0),
        (Scoring(ScoringMethod.THRESHOLDS, steps=(Step(1, 20), Step(2, 30), Step(3, 40))), 7, 40, 40.0),
        (Scoring(ScoringMethod.YES_NO), True, 30, 30.0),
        (Scoring(ScoringMethod.YES_NO), False, 30, 0.0),
        (Scoring(ScoringMethod.SURVEY, rule=SurveyRule.SHARE_YES), 0.62, 50, 31.0),
        (Scoring(ScoringMethod.SURVEY, rule=SurveyRule.MEAN_SCALE, scale=(1, 5)), 4.2, 40, 32.0),  # (4.2-1)/4*40
        (Scoring(ScoringMethod.SURVEY, rule=SurveyRule.SHARE_AT_LEAST, threshold=4), 0.75, 40, 30.0),
    ],
)
def test_points_for(scoring, value, maximum, expected):
    assert points_for(scoring, value, maximum) == pytest.approx(expected, abs=1e-12)
