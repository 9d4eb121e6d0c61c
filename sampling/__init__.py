"""Sample design and weighting: sizes, allocation, selection and weights, in the order a survey statistician
works. A plain library (no web framework or database), usable from a notebook.

The public API is flat: ``from sampling import allocate, rake``.
"""

from sampling._errors import SamplingError
from sampling.allocation import Allocation, allocate
from sampling.calibration import calibrate
from sampling.frames import read_list_frame, read_population_frame, read_stratum_deviations
from sampling.nominations import (
    CheckedNominations,
    NominationRow,
    RejectedNomination,
    check_nominations,
    person_key,
    plain_text,
)
from sampling.panels import (
    COMPOSITION,
    PANEL_SIZES,
    ExpertCategory,
    Panel,
    Shortfall,
    panel_quotas,
    replace_member,
    select_panel,
    shortfalls,
)
from sampling.selection import pps_probabilities, select
from sampling.size import margin_of_error, sample_size_mean, sample_size_proportion, z_value
from sampling.weights import (
    Calibration,
    Diagnostics,
    Weighting,
    adjust_nonresponse,
    base_weights,
    diagnose,
    poststratify,
    rake,
    trim,
)

__all__ = [
    "plain_text",
    "CheckedNominations",
    "NominationRow",
    "RejectedNomination",
    "check_nominations",
    "person_key",
    "COMPOSITION",
    "PANEL_SIZES",
    "ExpertCategory",
    "Panel",
    "Shortfall",
    "panel_quotas",
    "replace_member",
    "select_panel",
    "shortfalls",
    "Allocation",
    "Calibration",
    "Diagnostics",
    "SamplingError",
    "Weighting",
    "adjust_nonresponse",
    "allocate",
    "base_weights",
    "calibrate",
    "diagnose",
    "margin_of_error",
    "poststratify",
    "pps_probabilities",
    "rake",
    "read_list_frame",
    "read_population_frame",
    "read_stratum_deviations",
    "sample_size_mean",
    "sample_size_proportion",
    "select",
    "trim",
    "z_value",
]
