"""The experts' questionnaire: generated from the expert-measured nodes, checked answers, stored form."""

import math
from pathlib import Path

import pytest

from questionnaires import (
    CANNOT_JUDGE,
    DEFAULT_SCALE,
    ExpertAnswerProblem,
    FrameworkInvalid,
    NodeKind,
    check_expert_answers,
    expert_questionnaire_from_dict,
    expert_questionnaire_to_dict,
    expert_scores,
    generate_expert,
    read_yaml,
)

DEMO = Path(__file__).resolve().parents[2] / "survey_app" / "core" / "demo"
FRAMEWORK = read_yaml(DEMO / "national-province-2021-demo.yaml")
QUESTIONNAIRE = generate_expert(FRAMEWORK)
MAIN_INDICES = ("AW", "INST", "INFRA", "HR", "SEC", "DG", "DE", "DS")


def test_items_are_the_expert_measured_nodes_in_framework_order_by_parent():
    # the demo's experts measure one criterion per scored main index, its ".E" (smart city is not scored)
    assert [item.code for item in QUESTIONNAIRE.items()] == [f"{code}.E" for code in MAIN_INDICES]
    assert [section.code for section in QUESTIONNAIRE.sections] == list(MAIN_INDICES)
    assert QUESTIONNAIRE.sections[0].title.vi == "Chuyển đổi nhận thức"
    first = QUESTIONNAIRE.items()[0]
    # 10% of awareness's 100 points
    assert (first.kind, first.points) == (NodeKind.CRITERION, 10)
    assert first.name.en == "Awareness — expert assessment"


def test_every_point_of_the_scale_has_words_in_both_languages():
    assert list(DEFAULT_SCALE.values()) == [1, 2, 3, 4, 5]
    assert [anchor.value for anchor in DEFAULT_SCALE.anchors] == [1, 2, 3, 4, 5]
    assert all(anchor.label.vi and anchor.label.en for anchor in DEFAULT_SCALE.anchors)


def test_a_draft_may_leave_items_blank_but_the_final_form_may_not():
    raw = {"AW.E": {"choice": "4", "comment": " Họp đều đặn "}, "INST.E": {"choice": CANNOT_JUDGE}}
    draft = check_expert_answers(QUESTIONNAIRE, raw, complete=False)
    assert draft.problems == {}
    assert draft.answers == {"AW.E": {"score": 4, "comment": "Họp đều đặn"}, "INST.E": {CANNOT_JUDGE: True}}
    final = check_expert_answers(QUESTIONNAIRE, raw, complete=True)
    assert final.problems == {f"{code}.E": ExpertAnswerProblem.REQUIRED for code in MAIN_INDICES[2:]}


@pytest.mark.parametrize("choice", ["0", "6", "3.5", "nine", "-1"])
def test_a_score_off_the_scale_is_refused(choice):
    checked = check_expert_answers(QUESTIONNAIRE, {"AW.E": {"choice": choice}}, complete=False)
    assert checked.problems == {"AW.E": ExpertAnswerProblem.NOT_A_CHOICE}
    assert checked.answers == {}


def test_a_long_comment_is_refused_and_unknown_items_ignored():
    checked = check_expert_answers(
        QUESTIONNAIRE, {"AW.E": {"choice": "2", "comment": "x" * 2001}, "ZZ.9": {"choice": "5"}}, complete=False
    )
    assert checked.problems == {"AW.E": ExpertAnswerProblem.TOO_LONG}
    assert "ZZ.9" not in checked.answers


def test_cannot_judge_is_not_a_score():
    scores = expert_scores(QUESTIONNAIRE, {"AW.E": {"score": 5}, "INST.E": {CANNOT_JUDGE: True, "comment": "?"}})
    assert scores["AW.E"] == 5.0
    assert math.isnan(scores["INST.E"]) and math.isnan(scores["DE.E"])


def test_the_stored_document_reads_back_the_same():
    document = expert_questionnaire_to_dict(QUESTIONNAIRE)
    assert document["group"] == "experts"
    assert expert_questionnaire_from_dict(document) == QUESTIONNAIRE


def test_a_survey_document_is_not_an_experts_questionnaire():
    with pytest.raises(FrameworkInvalid):
        expert_questionnaire_from_dict({"group": "citizens", "sections": []})
