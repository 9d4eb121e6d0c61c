"""The bare baseline of benchmarks/submit.py: a WSGI app with no framework that parses the JSON body and
inserts the answers with psycopg, one connection per thread. Nothing is validated: it is the floor the
service's overhead is measured against."""
import json
import os
import threading

import psycopg

_URL = (os.environ.get("DATABASE_URL") or "").replace("postgresql+psycopg://", "postgresql://")
_local = threading.local()


def _connection():
    if getattr(_local, "connection", None) is None:
        _local.connection = psycopg.connect(_URL, autocommit=True)
    return _local.connection


def app(environ, start_response):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = json.loads(environ["wsgi.input"].read(length))
    _connection().execute("INSERT INTO baseline_responses (submission_id, unit, answers) VALUES (%s, %s, %s)",
                          (body["submission_id"], body["unit"], json.dumps(body["answers"])))
    payload = json.dumps({"stored": body["submission_id"]}).encode()
    start_response("201 Created", [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))])
    return [payload]
