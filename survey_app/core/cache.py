"""What a process keeps between requests, one way: a bounded, locked cache that lets the least recently used
entry go first, whose entries may expire. Each cache of the service says only what it keys on, how many
entries it holds and how long one lives (published results, recomputed scoring runs, parsed questionnaire
snapshots, fieldworks' fixed facts and live API keys per database engine, parsed rate limits). Every worker
process has its own; nothing here is shared between them.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Generic, TypeVar
from weakref import WeakKeyDictionary

V = TypeVar("V")
_MISSING: Any = object()


class Cache(Generic[V]):
    """At most ``size`` entries, the least recently used let go first, each living ``ttl`` seconds from when it
    was stored (for the life of the process when None). Safe to use from many threads."""

    def __init__(self, size: int, *, ttl: float | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        if size < 1:
            raise ValueError("a cache holds at least one entry")
        self.size = size
        self.ttl = ttl
        #: what tells the time, in seconds (a test may put its own)
        self.clock = clock
        #: key → (when it expires, value), least recently used first
        self._entries: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, default: Any = None) -> V | Any:
        """The live entry under ``key`` (now the most recently used), or ``default``."""
        with self._lock:
            entry = self._entries.get(key, _MISSING)
            if entry is _MISSING:
                return default
            if self.clock() >= entry[0]:
                del self._entries[key]
                return default
            self._entries.move_to_end(key)
            return entry[1]

    def set(self, key: Hashable, value: V) -> V:
        """Store ``value`` under ``key`` (replacing any entry, its time to live starting again) and return it."""
        expires = self.clock() + self.ttl if self.ttl is not None else math.inf
        with self._lock:
            self._entries[key] = (expires, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value

    def get_or_make(self, key: Hashable, make: Callable[[], V]) -> V:
        """The entry under ``key``, or ``make()`` stored there. ``make`` runs outside the lock, so a slow one
        holds up no other key; two threads missing the same key both make it, and the later one stays."""
        value = self.get(key, _MISSING)
        return self.set(key, make()) if value is _MISSING else value

    def pop(self, key: Hashable) -> None:
        """Forget the entry under ``key``, if any."""
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        """The entries held, expired ones not yet let go included."""
        with self._lock:
            return len(self._entries)


class PerEngine(Generic[V]):
    """A :class:`Cache` of its own for every database engine (or any object that can be weakly referred to),
    given up with the engine: what one database says is never an answer for another (the tests open many)."""

    def __init__(self, size: int, *, ttl: float | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        self._make = lambda: Cache[V](size, ttl=ttl, clock=clock)
        self._caches: WeakKeyDictionary[Any, Cache[V]] = WeakKeyDictionary()
        self._lock = threading.Lock()

    def of(self, engine: Any) -> Cache[V]:
        """The engine's cache, made on first use."""
        with self._lock:
            cache = self._caches.get(engine)
            if cache is None:
                cache = self._caches[engine] = self._make()
            return cache

    def clear(self) -> None:
        with self._lock:
            self._caches.clear()
