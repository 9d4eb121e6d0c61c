"""Rate limits on the public endpoints, counted with ``limits`` in the configured storage.

A view declares its limit with ``@limiter.limit(...)``; nothing runs for the views that declare none, so an API
submission (which counts its own limit per key, ``security.spend_rate_limit``) pays nothing for the others'
limits. Every limit counts in fixed windows, in the storage ``RATELIMIT_STORAGE_URI`` names (the in-process
``inline-memory://`` by default, Redis when several processes must share the counts), and a request over a
limit is refused with 429 and the seconds until its window frees a place (Retry-After).
"""

from __future__ import annotations

import math
import time
from functools import wraps
from typing import Callable

from flask import Flask, make_response, request
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from werkzeug.exceptions import TooManyRequests

from survey_app.core.cache import Cache

#: the configured limits, parsed once: limit text → RateLimitItem
_PARSED: Cache = Cache(32)


def parsed_limit(limit: str) -> RateLimitItem:
    """A configured limit ("20 per 10 minutes") as ``limits`` reads it, parsed once."""
    return _PARSED.get_or_make(limit, lambda: parse(limit))


class RateLimiter:
    """The service's rate limiter: created unbound, bound to the app in ``init_app``.

    :param key_func: who a limit counts for, by default (the client's address)
    """

    def __init__(self, key_func: Callable[[], str]):
        self.key_func = key_func
        self.enabled = True
        #: the ``limits`` strategy over the storage, for views that count by hand
        self.limiter: FixedWindowRateLimiter | None = None

    def init_app(self, app: Flask) -> None:
        self.enabled = app.config.get("RATELIMIT_ENABLED", True)
        self.limiter = FixedWindowRateLimiter(storage_from_string(app.config["RATELIMIT_STORAGE_URI"]))
        app.extensions["rate_limits"] = self

    def reset(self) -> None:
        """Forget every count (tests)."""
        if self.limiter is not None:
            self.limiter.storage.reset()

    def refuse(self, item: RateLimitItem, *identifiers: str):
        """Refuse the request (429) with the seconds until the limit's window frees a place (Retry-After)."""
        reset = self.limiter.get_window_stats(item, *identifiers).reset_time
        raise TooManyRequests(retry_after=max(1, math.ceil(reset - time.time())))

    def limit(
        self,
        limit: str | Callable[[], str],
        *,
        key_func: Callable[[], str] | None = None,
        methods: list[str] | None = None,
        deduct_when: Callable | None = None,
        scope: str | None = None,
    ) -> Callable:
        """Limit a view: each request counts, or with ``deduct_when`` only those whose response it accepts
        (a failed login), and a request over the limit is refused before the view runs.

        :param limit: the limit ("5 per 5 minutes") or a function that reads it from the config
        :param key_func: who the limit counts for (the client's address by default)
        :param methods: the methods that count (all by default)
        :param scope: the name the counts are kept under (the view's endpoint by default), shared by the
            views that name the same scope
        """

        def decorate(view: Callable) -> Callable:
            @wraps(view)
            def limited_view(*args, **kwargs):
                if not self.enabled or (methods is not None and request.method not in methods):
                    return view(*args, **kwargs)
                identifiers = (scope or request.endpoint or view.__name__, (key_func or self.key_func)())
                current = parsed_limit(limit() if callable(limit) else limit)
                if deduct_when is None:
                    if not self.limiter.hit(current, *identifiers):
                        self.refuse(current, *identifiers)
                    return view(*args, **kwargs)
                if not self.limiter.test(current, *identifiers):
                    self.refuse(current, *identifiers)
                response = make_response(view(*args, **kwargs))
                if deduct_when(response):
                    self.limiter.hit(current, *identifiers)
                return response

            return limited_view

        return decorate
