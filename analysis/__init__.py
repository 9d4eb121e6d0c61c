"""Design-based estimates, channel scores, the merge of channels, normalisation, rankings and their
explanation. A plain library (no web framework or database), usable from a notebook.

The public API is flat: ``from analysis import Design``.
"""
from analysis._errors import EstimationError
from analysis.design import Design, ReplicateDesign

__all__ = ["Design", "EstimationError", "ReplicateDesign"]
