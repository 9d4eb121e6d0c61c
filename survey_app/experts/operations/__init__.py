"""The expert channel's use cases, each defined in the module named after its job: nominations, panels (with the
experts' questionnaire and personal links), answering (the expert's side) and scores. Other areas and the views
call them from here.

Rules live in the domain packages (``sampling.check_nominations``, ``sampling.select_panel``,
``questionnaires.generate_expert``, ``analysis.experts``); these modules load, call them and store.
"""

from survey_app.experts.operations.answering import (
    consent,
    form_for,
    open_link,
    questionnaire_of,
    save_draft,
    submit,
)
from survey_app.experts.operations.nominations import (
    DEFAULT_PANEL_SIZE,
    NOMINEE_RETENTION,
    STATUSES,
    NominationImport,
    erase_after,
    import_nomination_file,
    import_nominations,
    nominations,
    round_units,
)
from survey_app.experts.operations.panels import (
    IssuedLink,
    UnitPanelState,
    awaiting,
    decline,
    expert_questionnaire_code,
    issue_links,
    note_reminded,
    override,
    panel_states,
    panels,
    publish_expert_questionnaire,
    reopen,
    revoke_link,
    select_panel,
)
from survey_app.experts.operations.scores import (
    ExpertResults,
    expert_names,
    results,
    scores_frame,
    submitted_count,
)

__all__ = [
    "DEFAULT_PANEL_SIZE",
    "ExpertResults",
    "IssuedLink",
    "NOMINEE_RETENTION",
    "NominationImport",
    "STATUSES",
    "UnitPanelState",
    "awaiting",
    "consent",
    "decline",
    "erase_after",
    "expert_names",
    "expert_questionnaire_code",
    "form_for",
    "import_nomination_file",
    "import_nominations",
    "issue_links",
    "nominations",
    "note_reminded",
    "open_link",
    "override",
    "panel_states",
    "panels",
    "publish_expert_questionnaire",
    "questionnaire_of",
    "reopen",
    "results",
    "revoke_link",
    "round_units",
    "save_draft",
    "scores_frame",
    "select_panel",
    "submit",
    "submitted_count",
]
