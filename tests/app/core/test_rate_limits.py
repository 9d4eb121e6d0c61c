"""The in-process rate-limit storage (survey_app.extensions.InlinePurgeMemoryStorage): limits as limits'
memory storage does, without starting a thread per hit."""

import threading
import time

import pytest
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

from survey_app.core.extensions import InlinePurgeMemoryStorage


def test_the_default_storage_is_the_inline_one(app):
    from survey_app.core.extensions import limiter

    assert app.config["RATELIMIT_STORAGE_URI"] == "inline-memory://"
    assert isinstance(limiter.limiter.storage, InlinePurgeMemoryStorage)


def test_hits_start_no_thread(monkeypatch):
    started = []
    monkeypatch.setattr(threading.Thread, "start", lambda thread: started.append(thread))
    storage = storage_from_string("inline-memory://")
    for strategy in (FixedWindowRateLimiter(storage), MovingWindowRateLimiter(storage)):
        for i in range(200):
            strategy.hit(parse("1000 per minute"), "client", str(i % 7))
    assert started == []


def test_limits_hold_and_expire_and_expired_counters_are_purged(monkeypatch):
    storage = InlinePurgeMemoryStorage("inline-memory://")
    monkeypatch.setattr(InlinePurgeMemoryStorage, "PURGE_INTERVAL", 0.0)
    fixed, moving = FixedWindowRateLimiter(storage), MovingWindowRateLimiter(storage)
    limit = parse("2 per 1 second")
    for strategy in (fixed, moving):
        assert [strategy.hit(limit, "a") for _ in range(3)] == [True, True, False]
        assert strategy.hit(limit, "b")  # another client has its own count
    assert set(storage.storage) == set(storage.events) == {"LIMITER/a/2/1/second", "LIMITER/b/2/1/second"}
    time.sleep(1.1)
    assert fixed.hit(limit, "a") and moving.hit(limit, "a")  # the window has passed
    time.sleep(1.1)
    fixed.hit(parse("5 per minute"), "c")  # any hit purges what has expired
    assert set(storage.storage) == {"LIMITER/c/5/1/minute"} and storage.events == {}


@pytest.mark.parametrize("strategy", [FixedWindowRateLimiter, MovingWindowRateLimiter])
def test_it_answers_as_limits_memory_storage_does(strategy, monkeypatch):
    now = [1_000_000.0]
    monkeypatch.setattr(time, "time", lambda: now[0])  # both storages read the clock through time.time()
    ours, stock = strategy(storage_from_string("inline-memory://")), strategy(storage_from_string("memory://"))
    limits = [parse("3 per 10 seconds"), parse("5 per minute")]
    for step in range(200):
        now[0] += (0.5, 1.7, 4.0, 0.1)[step % 4]
        limit, client = limits[step % 2], "abc"[step % 3]
        if step % 5 == 0:
            assert ours.test(limit, client) == stock.test(limit, client)
        assert ours.hit(limit, client) == stock.hit(limit, client), step
        assert ours.get_window_stats(limit, client) == stock.get_window_stats(limit, client), step
    ours.clear(limits[0], "a")
    stock.clear(limits[0], "a")
    assert ours.get_window_stats(limits[0], "a") == stock.get_window_stats(limits[0], "a")
