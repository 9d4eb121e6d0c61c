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
from questionnaires.scoring import points_for
from questionnaires.validation import FrameworkInvalid, Issue, validate

__all__ = [
    "Channel", "ChannelShares", "ChannelUse", "Framework", "FrameworkInvalid", "Issue", "Node", "NodeKind",
    "PillarView", "PublishedAs", "RespondentGroup", "Scoring", "ScoringMethod", "Step", "SurveyRule", "Text",
    "UnitLevel", "channel_text", "framework_from_dict", "framework_to_dict", "points_for", "read_workbook", "read_yaml", "scoring_to_dict",
    "shipped_framework_files", "to_workbook", "to_yaml", "validate",
]
