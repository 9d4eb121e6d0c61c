"""The in-process rate-limit storage (survey_app.extensions.InlinePurgeMemoryStorage): limits as limits'
memory storage does, without starting a thread per hit."""
import threading
import time

from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

from survey_app.extensions import InlinePurgeMemoryStorage


def test_the_default_storage_is_the_inline_one(app):
    from survey_app.extensions import limiter

    assert app.config["RATELIMIT_STORAGE_URI"] == "inline-memory://"
    assert isinstance(limiter.limiter.storage, InlinePurgeMemoryStorage)


def test_hits_start_no_thread(monkeypatch):
    storage = storage_from_string("inline-memory://")
    started = []
    monkeypatch.setattr(threading.Thread, "start", lambda thread: started.append(thread))
    for strategy in (FixedWindowRateLimiter(storage), MovingWindowRateLimiter(storage)):
        for i in range(200):
            strategy.hit(parse("1000 per minute"), "client", str(i % 7))
    assert started == []


def test_limits_hold_and_expire_and_expired_counters_are_purged(monkeypatch):
    storage = InlinePurgeMemoryStorage("inline-memory://")
    monkeypatch.setattr(InlinePurgeMemoryStorage, "PURGE_INTERVAL", 0.0)
    fixed = FixedWindowRateLimiter(storage)
    limit = parse("2 per 1 second")
    assert [fixed.hit(limit, "a") for _ in range(3)] == [True, True, False]
    assert fixed.hit(limit, "b")  # another client has its own count
    assert set(storage.storage) == {"LIMITER/a/2/1/second", "LIMITER/b/2/1/second"}
    time.sleep(1.1)
    assert fixed.hit(limit, "a")  # the window has passed
    time.sleep(1.1)
    fixed.hit(parse("5 per minute"), "c")  # any hit purges what has expired
    assert set(storage.storage) == {"LIMITER/c/5/1/minute"}
