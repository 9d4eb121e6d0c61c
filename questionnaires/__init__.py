"""Questionnaires generated from the index framework, and the framework itself as data.

The public API is flat: ``from questionnaires import read_yaml, validate, Framework``.
"""
from questionnaires.framework import (
    Channel,
    ChannelShares,
    ChannelUse,
    Framework,
    Node,
    NodeKind,
    PillarView,
    PublishedAs,
    RespondentGroup,
    Scoring,
    ScoringMethod,
    Step,
    SurveyRule,
    Text,
    UnitLevel,
)
from questionnaires.framework_files import (
    channel_text,
    framework_from_dict,
    framework_to_dict,
    read_workbook,
    read_yaml,
    scoring_to_dict,
    shipped_framework_files,
    to_workbook,
    to_yaml,
)
from questionnaires.bank_files import document_hash, questionnaire_from_dict, questionnaire_to_dict, read_bank
from questionnaires.expert import (
    CANNOT_JUDGE,
    DEFAULT_SCALE,
    EXPERT_GROUP,
    Anchor,
    CheckedExpertAnswers,
    ExpertAnswerProblem,
    ExpertItem,
    ExpertQuestionnaire,
    ExpertScale,
    ExpertSection,
    check_expert_answers,
    expert_questionnaire_from_dict,
    expert_questionnaire_to_dict,
    expert_scores,
    generate_expert,
)
from questionnaires.collected import read_collected_csv, to_odk_csv
from questionnaires.questions import (
    AnswerProblem,
    Choice,
    Question,
    QuestionBank,
    Questionnaire,
    QuestionType,
    Section,
    check_answer,
    coverage,
    generate,
    is_relevant,
    respondent_value,
)
from questionnaires.responses import (
    CheckedAnswers,
    QualityFlag,
    check_answers,
    median_duration,
    quality_flags,
    stratum_of,
)
from questionnaires.scoring import points_for
from questionnaires.xlsform import to_xlsform
from questionnaires.validation import FrameworkInvalid, Issue, validate

__all__ = [
    "Anchor", "CANNOT_JUDGE", "CheckedExpertAnswers", "DEFAULT_SCALE", "EXPERT_GROUP", "ExpertAnswerProblem",
    "ExpertItem", "ExpertQuestionnaire", "ExpertScale", "ExpertSection", "check_expert_answers",
    "expert_questionnaire_from_dict", "expert_questionnaire_to_dict", "expert_scores", "generate_expert",
    "AnswerProblem", "CheckedAnswers", "Choice", "Question", "QuestionBank", "Questionnaire", "QuestionType",
    "QualityFlag", "Section", "check_answer", "check_answers", "coverage", "document_hash", "generate",
    "is_relevant", "median_duration", "quality_flags", "questionnaire_from_dict", "questionnaire_to_dict",
    "read_bank", "read_collected_csv", "respondent_value", "stratum_of", "to_odk_csv", "to_xlsform",
    "Channel", "ChannelShares", "ChannelUse", "Framework", "FrameworkInvalid", "Issue", "Node", "NodeKind",
    "PillarView", "PublishedAs", "RespondentGroup", "Scoring", "ScoringMethod", "Step", "SurveyRule", "Text",
    "UnitLevel", "channel_text", "framework_from_dict", "framework_to_dict", "points_for", "read_workbook", "read_yaml", "scoring_to_dict",
    "shipped_framework_files", "to_workbook", "to_yaml", "validate",
]
