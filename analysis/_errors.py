"""The error the analysis library raises: a code and the values naming what is wrong, never translated."""

from __future__ import annotations


class EstimationError(ValueError):
    """An estimate that cannot be made; ``code`` names the rule and ``params`` the stratum, domain or column."""

    def __init__(self, code: str, message: str, /, **params):
        self.code = code
        self.params = params
        super().__init__(message.format(**params))
