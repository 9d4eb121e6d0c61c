"""Flask extensions, created unbound here and bound to the app in create_app()."""
import threading
import time

from flask import request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from limits.storage import MemoryStorage
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

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


class InlinePurgeMemoryStorage(MemoryStorage):
    """limits' in-process rate-limit storage (``inline-memory://``), purging expired counters inline at most
    once a second instead of from a timer thread.

    The stock ``memory://`` storage starts a new timer thread 10 ms after a hit whenever the last one has
    ended: under load, a thread every few requests. On the submission benchmark that cost 0.15 ms of CPU a
    request, a tenth of a submission; and two hits at once can start the same timer twice (limits#352).
    Counters are still expired on read, as in the stock storage; the purge only frees memory."""

    STORAGE_SCHEME = ["inline-memory"]
    PURGE_INTERVAL = 1.0

    def __init__(self, uri: str | None = None, **options):
        super().__init__(uri, **options)
        self._purge_lock = threading.Lock()
        self._purged_at = time.monotonic()

    # replaces MemoryStorage's private timer scheduling, which every hit calls (tests/app/test_rate_limits.py
    # fails if a hit starts a thread again, for example after limits renames it)
    def _MemoryStorage__schedule_expiry(self) -> None:
        now = time.monotonic()
        if now - self._purged_at < self.PURGE_INTERVAL or not self._purge_lock.acquire(blocking=False):
            return
        try:
            self._purged_at = now
            self._MemoryStorage__expire_events()
        finally:
            self._purge_lock.release()


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=client_address, default_limits=[])
