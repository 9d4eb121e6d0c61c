"""A statistical audit of every index run (JRC/OECD Handbook on Constructing Composite Indicators, 2008; COINr):
data checks, structure, alternative methods as scenarios, and global uncertainty and sensitivity analysis.

The public API is flat: ``from analysis.audit import audit_run`` (or ``from analysis import audit_run``).
"""

from analysis.audit._model import AGGREGATIONS, AUDIT_NORMALISATIONS, WEIGHTINGS, normalise_units
from analysis.audit.checks import DataChecks, data_checks, kurtosis, skew_kurtosis_flag, skewness, winsorise
from analysis.audit.report import Audit, audit_run
from analysis.audit.scenarios import Scenarios, method_index, scenarios
from analysis.audit.sensitivity import Factor, GlobalUncertainty, global_uncertainty, sobol_indices
from analysis.audit.structure import (
    Structure,
    correlation_flag,
    cronbach_alpha,
    principal_components,
    structure,
)

__all__ = [
    "AGGREGATIONS",
    "AUDIT_NORMALISATIONS",
    "WEIGHTINGS",
    "Audit",
    "DataChecks",
    "Factor",
    "GlobalUncertainty",
    "Scenarios",
    "Structure",
    "audit_run",
    "correlation_flag",
    "cronbach_alpha",
    "data_checks",
    "global_uncertainty",
    "kurtosis",
    "method_index",
    "normalise_units",
    "principal_components",
    "scenarios",
    "skew_kurtosis_flag",
    "skewness",
    "sobol_indices",
    "structure",
    "winsorise",
]
