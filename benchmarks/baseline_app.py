"""The bare baseline of benchmarks/submit.py and benchmarks/load.py: a WSGI app with no framework doing the
same kinds of database work with psycopg, one connection per thread: ``POST /responses`` inserts the answers,
``POST /draft`` stores a draft, ``GET /page`` reads a row and answers a small page. Nothing is validated: it
is the floor the service's overhead is measured against."""

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


PAGE = ("<!doctype html><html lang=vi><title>DTI</title><p>" + "Chỉ số chuyển đổi số " * 40 + "</p>").encode()


def _answer(start_response, status: str, payload: bytes, kind: str) -> list[bytes]:
    start_response(status, [("Content-Type", kind), ("Content-Length", str(len(payload)))])
    return [payload]


def app(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if environ["REQUEST_METHOD"] == "GET":
        _connection().execute("SELECT id FROM baseline_responses ORDER BY id DESC LIMIT 1").fetchone()
        return _answer(start_response, "200 OK", PAGE, "text/html; charset=utf-8")
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = json.loads(environ["wsgi.input"].read(length))
    if path == "/draft":
        _connection().execute("INSERT INTO baseline_drafts (answers) VALUES (%s)", (json.dumps(body["answers"]),))
        return _answer(start_response, "200 OK", b'{"saved": true}', "application/json")
    _connection().execute(
        "INSERT INTO baseline_responses (submission_id, unit, answers) VALUES (%s, %s, %s)",
        (body["submission_id"], body["unit"], json.dumps(body["answers"])),
    )
    payload = json.dumps({"stored": body["submission_id"]}).encode()
    return _answer(start_response, "201 Created", payload, "application/json")
