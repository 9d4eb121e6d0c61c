"""Gunicorn settings, read from the working directory (command-line options override them).

The service is CPU-bound Python: a process per core and one more, each with one thread, served the load
benchmark's mix best (benchmarks/load.py on 2 cores: 300 requests/s at p99 22 ms; four processes of four
threads queued to p99 over 1 s). gthread keeps browsers' connections alive without holding a worker.
Its logger cuts link secrets out of the access and error logs (see survey_app.core.logs)."""

import multiprocessing
import os

# a request's SQL statement that runs past this is cancelled and answered 503 (survey_app.core.errors); long work
# belongs in a background job, whose transaction has no limit. Read by the app the workers create.
os.environ.setdefault("REQUEST_STATEMENT_TIMEOUT_SECONDS", "30")
# and a request still working after this is stopped and answered 503 whatever keeps it busy (gthread workers are
# never stopped by gunicorn's own `timeout`: survey_app.core.request_limits)
os.environ.setdefault("REQUEST_TIMEOUT_SECONDS", "60")

workers = multiprocessing.cpu_count() + 1
worker_class = "gthread"
threads = 1
logger_class = "survey_app.core.logs.RedactingGunicornLogger"
accesslog = "-"
