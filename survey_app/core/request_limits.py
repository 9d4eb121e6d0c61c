"""No request runs for ever: a request still working after ``REQUEST_TIMEOUT_SECONDS`` is stopped and answered
503 with a page pointing to the background jobs, whatever keeps it busy.

Gunicorn's own ``timeout`` cannot do it under the gthread workers the service runs (their main thread keeps
telling the arbiter all is well while a request thread works), and PostgreSQL's ``statement_timeout`` stops only
the SQL. So each process keeps a watchdog thread that raises ``RequestTooLong`` in a request's thread once it
has run too long (CPython's asynchronous exception, as Dramatiq's time limits use it: it lands at the thread's
next Python instruction, so a long C call finishes first). The request's transaction is rolled back as for any
error; a request past its commit is no longer watched.
"""

from __future__ import annotations

import itertools
import threading
import time

from dramatiq.middleware import raise_thread_exception
from flask import Flask, g


class RequestTooLong(Exception):
    """Raised in a request's thread by the watchdog."""


class RequestWatchdog:
    def __init__(self, seconds: float):
        self.seconds = seconds
        #: the requests being watched: thread → (the request's number, when it started)
        self._running: dict[int, tuple[int, float]] = {}
        self._numbers = itertools.count()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def started(self) -> None:
        number = next(self._numbers)
        g.watched_request = number
        with self._lock:
            self._running[threading.get_ident()] = (number, time.monotonic())
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._watch, name="request-watchdog", daemon=True)
                self._thread.start()

    def ended(self, response=None):
        with self._lock:
            watched = self._running.get(threading.get_ident())
            if watched and watched[0] == g.get("watched_request"):
                del self._running[threading.get_ident()]
        return response

    def _watch(self) -> None:
        pause = min(1.0, self.seconds / 4)
        while True:
            time.sleep(pause)
            now = time.monotonic()
            with self._lock:
                for thread, (_, started) in list(self._running.items()):
                    if now - started > self.seconds:
                        del self._running[thread]
                        raise_thread_exception(thread, RequestTooLong)


def init_app(app: Flask) -> None:
    """Watch every request of this app (after the request boundary is installed: its commit is not watched)."""
    seconds = app.config.get("REQUEST_TIMEOUT_SECONDS") or 0
    if seconds <= 0:
        return
    watchdog = RequestWatchdog(seconds)
    app.before_request_funcs.setdefault(None, []).insert(0, watchdog.started)
    # after_request functions run last-registered first: this one, registered after the boundary's, ends the
    # watch before the boundary commits
    app.after_request(watchdog.ended)
    app.teardown_request(lambda error: watchdog.ended())
    app.extensions["request_watchdog"] = watchdog
