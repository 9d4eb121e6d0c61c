"""The error the sampling library raises: a code and the values that name what is wrong, never
translated text, so that the service can translate it and a notebook can read it."""

from __future__ import annotations


class SamplingError(ValueError):
    """A request the library cannot honour.

    ``code`` names the rule; ``params`` name the stratum, margin or level concerned.
    """

    def __init__(self, code: str, message: str, /, **params):
        self.code = code
        self.params = params
        super().__init__(message.format(**params))
