"""The service's SQLAlchemy models, a module per area; imported here so that Alembic sees them all."""

from survey_app.models.accounts import Role, StaffSession, User
from survey_app.models.audit import AuditEvent
from survey_app.models.collection import (
    ApiKey,
    Fieldwork,
    FieldworkMode,
    FieldworkStatus,
    Invitation,
    InviteeContact,
    PublishedQuestionnaire,
    Quota,
    Response,
    ResponseDraft,
)
from survey_app.models.experts import ExpertForm, ExpertPanel, Nomination, PanelSeat, SeatRole
from survey_app.models.frameworks import FrameworkNode, FrameworkVersion
from survey_app.models.outbox import OutboxMessage
from survey_app.models.rounds import EvaluationRound, RoundStatus
from survey_app.models.sampling import SamplePlan, WeightingRun
from survey_app.models.scoring import (
    CyberspaceValue,
    EvidenceDocument,
    IndicatorValue,
    ScoringRun,
    SelfAssessment,
    StrategicIndicator,
)
from survey_app.models.units import Unit, UnitList

__all__ = [
    "CyberspaceValue",
    "EvidenceDocument",
    "IndicatorValue",
    "StrategicIndicator",
    "ScoringRun",
    "SelfAssessment",
    "ExpertForm",
    "ExpertPanel",
    "Nomination",
    "PanelSeat",
    "SeatRole",
    "ApiKey",
    "Fieldwork",
    "FieldworkMode",
    "FieldworkStatus",
    "Invitation",
    "InviteeContact",
    "PublishedQuestionnaire",
    "Quota",
    "Response",
    "ResponseDraft",
    "AuditEvent",
    "EvaluationRound",
    "FrameworkNode",
    "FrameworkVersion",
    "OutboxMessage",
    "Role",
    "RoundStatus",
    "SamplePlan",
    "StaffSession",
    "Unit",
    "UnitList",
    "User",
    "WeightingRun",
]
