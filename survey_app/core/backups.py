"""Backing up and restoring the service's data: the PostgreSQL database (``pg_dump``'s custom format), which
holds the evidence files too (``core.stored_files``), with a fingerprint that proves a restore brought back what
was saved.

A backup is a folder: ``database.dump`` and ``manifest.json`` (the fingerprint at the time of the dump). A
restore goes into an empty database, then computes the fingerprint again and compares."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import make_url

from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.core.stored_files import StoredFile
from survey_app.experts.models import ExpertForm
from survey_app.survey.models import Response

DUMP, MANIFEST = "database.dump", "manifest.json"


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def fingerprint() -> dict[str, Any]:
    """Row counts of every table, and SHA-256 checksums over every response's and expert form's content and over
    the evidence files: equal fingerprints mean the same answers, to the byte."""
    counts = {
        table.name: db.session.scalar(select(func.count()).select_from(table)) for table in db.metadata.sorted_tables
    }
    responses = hashlib.sha256()
    for row in db.session.execute(
        select(
            Response.id,
            Response.fieldwork_id,
            Response.unit_id,
            Response.submission_id,
            Response.payload_hash,
            Response.answers,
            Response.submitted_at,
            Response.excluded,
        ).order_by(Response.id)
    ):
        responses.update((_canonical(list(row)) + "\n").encode())
    forms = hashlib.sha256()
    for row in db.session.execute(
        select(ExpertForm.id, ExpertForm.answers, ExpertForm.submitted_at, ExpertForm.submission_id).order_by(
            ExpertForm.id
        )
    ):
        forms.update((_canonical(list(row)) + "\n").encode())
    files = hashlib.sha256()
    for file_id, sha256 in db.session.execute(select(StoredFile.id, StoredFile.sha256).order_by(StoredFile.id)):
        # each file's bytes hashed again, one at a time: the recorded checksum alone would not show a damaged file
        content = db.session.scalar(select(StoredFile.content).where(StoredFile.id == file_id))
        files.update(f"{file_id}:{sha256}:{hashlib.sha256(content).hexdigest()}\n".encode())
    return {
        "counts": counts,
        "responses_sha256": responses.hexdigest(),
        "expert_forms_sha256": forms.hexdigest(),
        "evidence_sha256": files.hexdigest(),
    }


def _postgres_url() -> tuple[str, dict[str, str]]:
    """The database address for the PostgreSQL tools (libpq form), the password passed in the environment."""
    url = make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])
    if not url.get_backend_name().startswith("postgresql"):
        raise ServiceError("backup_needs_postgresql")
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = url.password
    plain = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return plain, env


def _tool(name: str) -> str:
    folder = os.environ.get("PG_BIN")
    found = str(Path(folder) / name) if folder else shutil.which(name)
    if not found or not Path(found).exists():
        raise ServiceError("tool_missing", tool=name)
    return found


def _run(command: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise ServiceError("tool_failed", tool=Path(command[0]).name, reason=done.stderr.strip()[-500:])


def create(target: Path) -> dict[str, Any]:
    """Write a backup into the folder ``target`` (made if missing, must be empty).

    :return: the manifest
    :raises ServiceError: ``backup_needs_postgresql``, ``backup_folder_not_empty``, ``tool_missing``,
        ``tool_failed``
    """
    url, env = _postgres_url()
    target.mkdir(parents=True, exist_ok=True)
    if any(target.iterdir()):
        raise ServiceError("backup_folder_not_empty", folder=str(target))
    # the fingerprint and the dump read one snapshot of the database, so they agree while the service writes
    db.session.rollback()
    db.session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    try:
        snapshot = db.session.scalar(text("SELECT pg_export_snapshot()"))
        manifest = {"made_at": datetime.now(timezone.utc).isoformat(), "fingerprint": fingerprint()}
        _run(
            [
                _tool("pg_dump"),
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--snapshot={snapshot}",
                f"--file={target / DUMP}",
                url,
            ],
            env,
        )
    finally:
        db.session.rollback()
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    return manifest


def restore(source: Path) -> dict[str, Any]:
    """Restore a backup into this service's database, which must be empty, then check the fingerprint against
    the manifest.

    :return: the restored fingerprint
    :raises ServiceError: ``database_not_empty``, ``backup_incomplete``, ``restore_mismatch`` (naming what
        differs), ``tool_failed``
    """
    url, env = _postgres_url()
    if not all((source / name).is_file() for name in (DUMP, MANIFEST)):
        raise ServiceError("backup_incomplete", folder=str(source))
    if inspect(db.engine).get_table_names():
        raise ServiceError("database_not_empty")
    db.session.remove()
    _run(
        [
            _tool("pg_restore"),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={url}",
            str(source / DUMP),
        ],
        env,
    )
    expected = json.loads((source / MANIFEST).read_text(encoding="utf-8"))["fingerprint"]
    actual = fingerprint()
    if actual != expected:
        differing = sorted(key for key in expected if expected[key] != actual.get(key))
        raise ServiceError("restore_mismatch", parts=", ".join(differing))
    return actual
