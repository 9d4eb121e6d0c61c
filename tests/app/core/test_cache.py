"""The one cache of the service (``survey_app.cache``): its bound, the order it lets entries go, time to live,
use from many threads, a cache per database engine; and every cache built on it keeping what it did before."""

import gc
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest
from flask import session

from survey_app.core.cache import Cache, PerEngine
from survey_app.core.extensions import db
from survey_app.core.i18n import LANGUAGE_KEY


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_cache_holds_its_size_and_lets_the_least_recently_used_go_first():
    cache = Cache(3)
    for key in "abc":
        cache.set(key, key.upper())
    assert cache.get("a") == "A"  # a is now the most recently used
    cache.set("d", "D")
    assert (cache.get("b"), len(cache)) == (None, 3)
    cache.set("c", "C again")  # storing again counts as a use
    cache.set("e", "E")
    assert [cache.get(key) for key in "acde"] == [None, "C again", "D", "E"]
    with pytest.raises(ValueError):
        Cache(0)


def test_an_entry_lives_its_time_to_live_from_when_it_was_stored():
    clock = Clock()
    cache = Cache(10, ttl=30, clock=clock)
    cache.set("key", "live")
    clock.now += 20
    assert cache.get("key") == "live"  # a use does not lengthen its life
    clock.now += 9.9
    assert cache.get("key") == "live"
    clock.now += 0.1
    assert cache.get("key", "gone") == "gone" and len(cache) == 0
    cache.set("key", "again")
    clock.now += 29
    assert cache.get("key") == "again"


def test_get_or_make_makes_once_and_never_under_the_lock():
    cache, made = Cache(10), []
    assert cache.get_or_make("k", lambda: made.append(1) or "v") == "v"
    assert cache.get_or_make("k", lambda: made.append(1) or "other") == "v" and made == [1]
    assert cache.get_or_make("none", lambda: None) is None  # None is a value like any other
    assert cache.get_or_make("none", lambda: "made again") is None
    # a slow make holds up no other key
    started, release = threading.Event(), threading.Event()

    def slow():
        started.set()
        release.wait(5)
        return "slow"

    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(cache.get_or_make, "slow", slow)
        assert started.wait(5)
        assert cache.get_or_make("quick", lambda: "quick") == "quick" and cache.get("k") == "v"
        release.set()
        assert waiting.result(5) == "slow"
    cache.pop("k")
    cache.pop("never there")
    assert cache.get("k") is None
    cache.clear()
    assert len(cache) == 0


def test_many_threads_at_once_keep_the_bound_and_never_see_a_wrong_value():
    clock = Clock()
    cache, sizes, errors = Cache(16, ttl=5, clock=clock), [], []

    def work(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(3000):
            key = rng.randrange(64)
            action = rng.random()
            if action < 0.4:
                value = cache.get(key)
            elif action < 0.7:
                value = cache.get_or_make(key, lambda key=key: key * 10)
            elif action < 0.9:
                value = cache.set(key, key * 10)
            else:
                cache.pop(key)
                clock.now += 0.01
                value = None
            if value not in (None, key * 10):
                errors.append((key, value))
            sizes.append(len(cache))

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(work, range(16)))
    assert errors == [] and max(sizes) <= 16 and len(sizes) == 16 * 3000


def test_a_cache_per_engine_keeps_engines_apart_and_goes_with_its_engine():
    class Engine:
        pass

    first, second = Engine(), Engine()
    caches = PerEngine(4, ttl=30)
    caches.of(first).set("fieldwork", "of the first database")
    assert caches.of(first) is caches.of(first) and caches.of(first).ttl == 30
    assert caches.of(second).get("fieldwork") is None
    del first
    gc.collect()
    assert len(caches._caches) == 1
    caches.clear()
    assert len(caches._caches) == 0


# --- the caches of the service ----------------------------------------------------------------------------


def test_a_live_api_key_is_asked_again_after_30_seconds(survey, create_user):
    from survey_app.survey import operations as collection
    from survey_app.survey.operations import api_keys

    admin = create_user("administrator")
    record, key = collection.create_api_key("CATI", [survey.invited], actor=admin)
    db.session.commit()
    keys, clock = api_keys._KEYS.of(db.engine), Clock()
    keys.clock = clock
    assert keys.ttl == collection.KEY_RECHECK.total_seconds() == 30
    live = collection.api_key_for(key)
    assert live is not None and live.fieldwork_ids == {survey.invited.id}
    collection.revoke_api_key(record, actor=admin)
    db.session.commit()
    clock.now += 29.9
    assert collection.api_key_for(key) is live  # admitted as found; the insert itself checks the key
    clock.now += 0.1
    assert collection.api_key_for(key) is None
    assert api_keys._KEYS.of(db.engine) is keys and len(keys) == 0


def test_a_fieldworks_fixed_facts_are_kept_for_its_database(survey):
    from survey_app.survey import operations as collection
    from survey_app.survey.operations import api_submissions

    target = collection.submission_target("invited")
    assert collection.submission_target("invited") is target
    assert api_submissions._TARGETS.of(db.engine).get("invited") is target
    assert collection.submission_target("no-such-fieldwork") is None
    assert api_submissions._TARGETS.of(db.engine).get("no-such-fieldwork") is None
    assert api_submissions._TARGETS.of(type("OtherEngine", (), {})()).get("invited") is None


def test_published_results_are_made_once_per_run_language_and_key(app):
    from survey_app.publication.views import results

    results._PUBLISHED_CACHE.clear()
    assert results._PUBLISHED_CACHE.size == results.CACHE_ENTRIES and results._PUBLISHED_CACHE.ttl is None
    made = []
    run = SimpleNamespace(id=7, published_at=datetime(2026, 1, 5, tzinfo=timezone.utc))

    def page(run, key):
        return results.published_cached(run, key, lambda: made.append((run.id, key)) or f"page {len(made)}")

    with app.test_request_context():
        assert page(run, ("ranking",)) == page(run, ("ranking",)) == "page 1"
        assert page(run, ("scorecard", "01")) == "page 2"
        # published again (a new published_at): made again
        assert (
            page(SimpleNamespace(id=7, published_at=datetime(2026, 2, 1, tzinfo=timezone.utc)), ("ranking",))
            == "page 3"
        )
    with app.test_request_context():
        session[LANGUAGE_KEY] = "en"
        assert page(run, ("ranking",)) == "page 4"
    assert len(made) == 4
    results._PUBLISHED_CACHE.clear()


def test_a_rate_limit_is_parsed_once():
    from survey_app.core import security

    assert security.parsed_limit("7 per minute") is security.parsed_limit("7 per minute")
    assert security.parsed_limit("20 per 10 minutes") is security.parsed_limit("20 per 10 minutes")
    assert security.parsed_limit("7 per minute").amount == 7
