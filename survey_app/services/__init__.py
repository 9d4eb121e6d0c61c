"""Use cases: load from the database, call the domain packages, store. Services flush, never commit: the
one commit happens at the request (or command) boundary."""


class ServiceError(Exception):
    """A refused operation, with a code the interface translates and the values its message names."""

    def __init__(self, code: str, **params):
        self.code = code
        self.params = params
        super().__init__(code, params)
