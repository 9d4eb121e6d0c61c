"""Flask extensions, created unbound here and bound to the app in create_app()."""

from __future__ import annotations

import bisect
import operator
import threading
import time

from flask import request
from flask_babel import Babel
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from limits.storage import MovingWindowSupport, Storage
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from survey_app.core.rate_limits import RateLimiter

# Named constraints, so that Alembic migrations can alter them on SQLite and PostgreSQL alike.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def client_address() -> str:
    """The client's address, as ProxyFix resolved it from the trusted proxies' headers."""
    return request.remote_addr or "unknown"


class InlinePurgeMemoryStorage(Storage, MovingWindowSupport):
    """An in-process rate-limit storage (``inline-memory://``) for the fixed and moving window strategies,
    written on limits' public storage API: counted as limits' ``memory://`` storage counts, but expired
    counters are purged inline, at most once a second, instead of from a timer thread.

    The stock ``memory://`` storage starts a new timer thread 10 ms after a hit whenever the last one has
    ended: under load, a thread every few requests. On the submission benchmark that cost 0.15 ms of CPU a
    request, a tenth of a submission; and two hits at once can start the same timer twice (limits#352).
    Counters are expired when read, as in the stock storage; the purge only frees memory."""

    STORAGE_SCHEME = ["inline-memory"]
    PURGE_INTERVAL = 1.0

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self._lock = threading.Lock()
        self._purged_at = time.monotonic()
        #: fixed windows: the count per key, and when it expires (``time.time()``)
        self.storage: dict[str, int] = {}
        self.expirations: dict[str, float] = {}
        #: moving windows: per key, when each entry leaves the window, newest first
        self.events: dict[str, list[float]] = {}

    @property
    def base_exceptions(self) -> type[Exception]:
        return ValueError

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        with self._lock:
            self._purge(now)
            count = self.storage[key] = self._count(key, now) + amount
            if count == amount:
                self.expirations[key] = now + expiry
            return count

    def get(self, key: str) -> int:
        with self._lock:
            return self._count(key, time.time())

    def get_expiry(self, key: str) -> float:
        return self.expirations.get(key, time.time())

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        now = time.time()
        with self._lock:
            self._purge(now)
            events = self.events.setdefault(key, [])
            # room for `amount` more when the entry that would be the limit-th is out of the window
            if len(events) > limit - amount and events[limit - amount] >= now:
                return False
            events[:0] = [now + expiry] * amount
            del events[limit:]  # older entries can no longer decide anything
            return True

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        now = time.time()
        with self._lock:
            events = self.events.get(key, [])
            count = _in_window(events, now)
            return (events[count - 1] - expiry, count) if count else (now, 0)

    def check(self) -> bool:
        return True

    def reset(self) -> int:
        with self._lock:
            cleared = max(len(self.storage), len(self.events))
            self.storage.clear()
            self.expirations.clear()
            self.events.clear()
            return cleared

    def clear(self, key: str) -> None:
        with self._lock:
            self._forget(key)
            self.events.pop(key, None)

    def _count(self, key: str, now: float) -> int:
        if self.expirations.get(key, 0) <= now:
            self._forget(key)
            return 0
        return self.storage[key]

    def _forget(self, key: str) -> None:
        self.storage.pop(key, None)
        self.expirations.pop(key, None)

    def _purge(self, now: float) -> None:
        """Drop what has expired, at most once every PURGE_INTERVAL seconds (the caller holds the lock)."""
        moment = time.monotonic()
        if moment - self._purged_at < self.PURGE_INTERVAL:
            return
        self._purged_at = moment
        for key in [key for key, expires in self.expirations.items() if expires <= now]:
            self._forget(key)
        for key in list(self.events):
            if count := _in_window(self.events[key], now):
                del self.events[key][count:]
            else:
                del self.events[key]


def _in_window(events: list[float], now: float) -> int:
    """How many of a moving window's entries (when each leaves the window, newest first) are still in it."""
    return bisect.bisect_left(events, -now, key=operator.neg)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
babel = Babel()
#: the rate limits of the public endpoints (survey_app.core.rate_limits)
limiter = RateLimiter(key_func=client_address)
