"""Design-based estimates, channel scores, the merge of channels, normalisation, rankings and their
explanation. A plain library (no web framework or database), usable from a notebook.

The public API is flat: ``from analysis import Design``.
"""

from analysis._errors import EstimationError
from analysis.contrasts import Estimates, contrast, difference
from analysis.design import Design, FirstStage
from analysis.distribution import quantiles, variance
from analysis.experts import (
    aggregate,
    agreement,
    channel_points,
    channel_values,
    composition_weighted,
    icc_2k,
    kendall_w,
    outlying_experts,
    trimmed_mean,
    value_se,
)
from analysis.explain import explain
from analysis.glm import Regression, regression
from analysis.index import (
    NORMALISATIONS,
    Scores,
    apply_full_marks,
    apply_peer_maximum,
    compute,
    index_from_values,
    merge_units,
    normalise,
    propose_exclusions,
    rank,
)
from analysis.inputs import (
    CYBERSPACE_COLUMNS,
    SELF_ASSESSMENT_COLUMNS,
    Checked,
    RejectedRow,
    check_cyberspace,
    check_self_assessment,
    cyberspace_nodes,
    parse_number,
    self_assessed_criteria,
    template_rows,
)
from analysis.merge import SOURCES, criterion_points, external_values
from analysis.replicates import ReplicateDesign, as_replicate_design, hadamard, replicate_design
from analysis.survey_channel import criterion_values, survey_criteria, survey_estimates
from analysis.tables import TableTest, independence_test
from analysis.uncertainty import (
    RankUncertainty,
    Sensitivity,
    channel_noise,
    external_coefficients,
    leaf_coefficients,
    sensitivity,
    simulate_ranks,
)

__all__ = [
    "Estimates",
    "Regression",
    "TableTest",
    "contrast",
    "difference",
    "independence_test",
    "quantiles",
    "regression",
    "variance",
    "CYBERSPACE_COLUMNS",
    "SELF_ASSESSMENT_COLUMNS",
    "SOURCES",
    "Checked",
    "RejectedRow",
    "check_cyberspace",
    "check_self_assessment",
    "criterion_points",
    "cyberspace_nodes",
    "explain",
    "parse_number",
    "external_values",
    "self_assessed_criteria",
    "template_rows",
    "agreement",
    "aggregate",
    "channel_points",
    "channel_values",
    "composition_weighted",
    "icc_2k",
    "kendall_w",
    "outlying_experts",
    "trimmed_mean",
    "value_se",
    "NORMALISATIONS",
    "Sensitivity",
    "channel_noise",
    "external_coefficients",
    "sensitivity",
    "Design",
    "EstimationError",
    "FirstStage",
    "RankUncertainty",
    "ReplicateDesign",
    "as_replicate_design",
    "hadamard",
    "replicate_design",
    "Scores",
    "apply_full_marks",
    "apply_peer_maximum",
    "compute",
    "criterion_values",
    "index_from_values",
    "leaf_coefficients",
    "merge_units",
    "normalise",
    "propose_exclusions",
    "rank",
    "simulate_ranks",
    "survey_criteria",
    "survey_estimates",
]
