"""The API's submissions: each stored with one statement through an autocommitted engine of its own, under the
same exactly-once and quota rules as the web's (``responses``), with the fieldwork's settings cached briefly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Mapping

from sqlalchemy import bindparam, false, null, or_, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError

from survey_app.core.cache import PerEngine
from survey_app.core.config import SUBMISSIONS_BIND
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.core.types import utcnow
from survey_app.survey.models import (
    ApiKey,
    Fieldwork,
    FieldworkStatus,
    Response,
    fieldwork_units,
)
from survey_app.survey.operations.api_keys import LiveKey, key_is_live
from survey_app.survey.operations.fieldwork import get_fieldwork
from survey_app.survey.operations.responses import (
    StoredResponse,
    Submitted,
    check_submission_id,
    new_response,
    submission_hash,
    submit,
    valid_answers,
)


@dataclass(frozen=True)
class SubmissionTarget:
    """What a submission needs of its fieldwork that never changes once the fieldwork is opened: its
    questionnaire, units and quota dimensions. Kept per process (see ``submission_target``); the fieldwork's
    status and closing time do change, and the insert checks them itself."""

    fieldwork_id: int
    code: str
    questionnaire_id: int
    questionnaire: Any
    #: unit code → unit id
    unit_ids: Mapping[str, int]
    quota_dimensions: tuple[str, ...]


#: per database engine: fieldwork code → SubmissionTarget (never changes), and API key hash → LiveKey
_TARGETS: PerEngine[SubmissionTarget] = PerEngine(256)


def submission_target(code: str) -> SubmissionTarget | None:
    """The fieldwork's fixed facts, loaded once per process (None when there is no such fieldwork)."""
    targets = _TARGETS.of(db.engine)
    target = targets.get(code)
    if target is None:
        fieldwork = get_fieldwork(code)
        if fieldwork is None:
            return None
        target = targets.set(code, _target_of(fieldwork))
    return target


def _target_of(fieldwork: Fieldwork) -> SubmissionTarget:
    return SubmissionTarget(
        fieldwork_id=fieldwork.id,
        code=fieldwork.code,
        questionnaire_id=fieldwork.questionnaire_id,
        questionnaire=fieldwork.questionnaire.questionnaire,
        unit_ids={unit.code: unit.id for unit in fieldwork.units},
        quota_dimensions=tuple(fieldwork.quota_dimensions),
    )


def submit_with_key(
    target: SubmissionTarget,
    unit_code: str,
    raw_answers: Mapping[str, Any],
    submission_id: str,
    *,
    api_key: LiveKey,
    started_at: datetime | None = None,
    duration_seconds: float | None = None,
) -> Submitted:
    """Store a complete response sent with an API key, exactly once, with ``submit``'s rules.

    The common case, a new response to an open fieldwork without quotas, is one autocommitted statement
    that also checks what may have changed since the target and the key were cached: the fieldwork still
    open, the key not revoked. When it stores nothing (a repeat, a closed fieldwork, a revoked key) or
    cannot (quotas, which are taken in the same transaction as the insert), ``submit`` runs and says why.

    :raises ServiceError: ``api_key_not_for_fieldwork``, ``api_key_revoked``, ``fieldwork_gone``, and
        ``submit``'s errors
    """
    # a key's fieldworks never change once issued, so the cached key's scope is the key's scope
    if target.fieldwork_id not in api_key.fieldwork_ids:
        raise ServiceError("api_key_not_for_fieldwork", fieldwork=target.code)
    check_submission_id(submission_id)
    if unit_code not in target.unit_ids:
        raise ServiceError("unit_not_in_fieldwork", unit=unit_code)
    answers = valid_answers(target.questionnaire, raw_answers)
    if not target.quota_dimensions:
        now = utcnow()
        response_id = _insert_checked(
            dict(
                fieldwork_id=target.fieldwork_id,
                code=target.code,
                questionnaire_id=target.questionnaire_id,
                unit_id=target.unit_ids[unit_code],
                api_key_id=api_key.id,
                submission_id=submission_id,
                payload_hash=submission_hash(unit_code, answers),
                source="api",
                **new_response(
                    target.questionnaire, answers, started_at=started_at, duration_seconds=duration_seconds, now=now
                ),
            )
        )
        if response_id is not None:
            return Submitted(StoredResponse(response_id, submission_id, now), replay=False)
    if not key_is_live(api_key):
        raise ServiceError("api_key_revoked")
    fieldwork = get_fieldwork(target.code)
    if fieldwork is None or fieldwork.id != target.fieldwork_id:
        _TARGETS.of(db.engine).pop(target.code)
        raise ServiceError("fieldwork_gone")
    unit = next(unit for unit in fieldwork.units if unit.code == unit_code)
    return submit(
        fieldwork,
        unit,
        raw_answers,
        submission_id,
        source="api",
        started_at=started_at,
        duration_seconds=duration_seconds,
    )


def _insert_checked(values: dict[str, Any]) -> int | None:
    """Run the checked insert, autocommitted, on the submissions engine: the new response's id, or None.

    The statement goes straight to the driver on a pooled connection (see ``CompiledOnce``). If the driver
    raises, SQLAlchemy runs the statement again, which either succeeds or raises the error as SQLAlchemy does
    everywhere else (a dead connection is then replaced and the statement sent once more). Running it again is
    always safe: it stores a submission identifier at most once."""
    engine = db.engines[SUBMISSIONS_BIND]
    statement = _COMPILED.get(engine.dialect.name)
    if statement is None:
        statement = _COMPILED[engine.dialect.name] = CompiledOnce(_INSERT_CHECKED[engine.dialect.name], engine.dialect)
    try:
        return statement.scalar(engine, values)
    except statement.driver_error:
        pass
    with engine.connect() as connection:
        try:
            return connection.execute(statement.statement, values).scalar_one_or_none()
        except DBAPIError as error:
            if not error.connection_invalidated:
                raise
    with engine.connect() as connection:
        return connection.execute(statement.statement, values).scalar_one_or_none()


class CompiledOnce:
    """A Core statement compiled once for a dialect and run on a pooled DBAPI connection, with public API only.

    For the API's insert, SQLAlchemy's execution (execution context, result) costs half as much CPU again as
    the driver's call (about 0.20 ms against 0.14, measured with benchmarks/submit.py's statement). Here the SQL
    and the parameters are what SQLAlchemy would send: ``SQLCompiler.construct_expanded_state`` gives both, in
    the driver's paramstyle (named for psycopg, positional for sqlite3), and each value goes through its type's
    ``bind_processor`` (JSON to text, timestamps to UTC). The connection comes from ``Engine.raw_connection()``;
    psycopg prepares the statement on each connection after its first uses, and each connection keeps a cursor.
    Only the result's first column is read, unprocessed (an integer id)."""

    #: where a connection keeps its cursor for these statements
    CURSOR = "compiled_once_cursor"

    def __init__(self, statement, dialect) -> None:
        self.statement = statement
        self.compiled = statement.compile(dialect=dialect)
        self.positional = dialect.positional
        self.processors = {
            name: processor
            for name, bind in self.compiled.binds.items()
            if (processor := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None
        }
        self.driver_error = dialect.loaded_dbapi.Error
        # with named parameters and nothing rendered as each execution's values come (IN lists, literal values),
        # the SQL is the same for every execution: the expanded state need not be worked out each time
        fixed = not (self.positional or self.compiled.literal_execute_params or self.compiled.post_compile_params)
        self.fixed_sql = self.compiled.string if fixed else None

    def parameters(self, values: dict[str, Any]) -> tuple[str, dict[str, Any] | tuple]:
        """The SQL and the driver's parameters for ``values``."""
        if self.fixed_sql is not None:
            return self.fixed_sql, self._processed(self.compiled.construct_params(values))
        state = self.compiled.construct_expanded_state(values)
        parameters = self._processed(state.parameters)
        return state.statement, state.positional_parameters if self.positional else parameters

    def _processed(self, parameters: dict[str, Any]) -> dict[str, Any]:
        """``parameters`` (a new dict each time) with each value converted in place by its type's processor."""
        for name, processor in self.processors.items():
            parameters[name] = processor(parameters[name])
        return parameters

    def scalar(self, engine, values: dict[str, Any]):
        sql, parameters = self.parameters(values)
        connection = engine.raw_connection()
        try:
            # one cursor per database connection, kept with it (``info`` follows the connection through the pool
            # and goes when it goes): a new cursor learns again how to send each type of value, a quarter of
            # the driver's time for this statement
            cursor = connection.info.get(self.CURSOR)
            if cursor is None:
                cursor = connection.info[self.CURSOR] = connection.cursor()
            cursor.execute(sql, parameters)
            # every row read, so that SQLite's statement is finished (an unfinished one would keep its write lock)
            rows = cursor.fetchall()
        except BaseException:
            # the connection may be dead (the database restarted), or its statement cut short (the request's time
            # limit lands between the statement and its rows): it is replaced, with its cursor, not used again
            connection.invalidate()
            raise
        finally:
            connection.close()
        return rows[0][0] if rows else None


def _insert_checked_statement():
    """INSERT … SELECT the values WHERE the fieldwork is open and has the unit and the key is live, ON
    CONFLICT (fieldwork, submission identifier) DO NOTHING, RETURNING the new id."""
    table = Response.__table__
    columns = [
        "fieldwork_id",
        "questionnaire_id",
        "unit_id",
        "submission_id",
        "payload_hash",
        "answers",
        "stratum",
        "source",
        "started_at",
        "submitted_at",
        "duration_seconds",
        "flags",
        "excluded",
    ]
    parameters = {name: bindparam(name, type_=table.c[name].type) for name in columns}
    parameters["stratum"] = null()
    parameters["excluded"] = false()
    fieldwork_open = (
        select(Fieldwork.id)
        .where(
            Fieldwork.id == parameters["fieldwork_id"],
            Fieldwork.code == bindparam("code", type_=Fieldwork.code.type),
            Fieldwork.questionnaire_id == parameters["questionnaire_id"],
            Fieldwork.status == FieldworkStatus.OPEN,
            or_(Fieldwork.closes_at.is_(None), Fieldwork.closes_at > parameters["submitted_at"]),
        )
        .exists()
    )
    unit_in_fieldwork = (
        select(fieldwork_units.c.unit_id)
        .where(
            fieldwork_units.c.fieldwork_id == parameters["fieldwork_id"],
            fieldwork_units.c.unit_id == parameters["unit_id"],
        )
        .exists()
    )
    key_live = (
        select(ApiKey.id)
        .where(ApiKey.id == bindparam("api_key_id", type_=ApiKey.id.type), ApiKey.revoked_at.is_(None))
        .exists()
    )
    values = select(*(parameters[name] for name in columns)).where(fieldwork_open, unit_in_fieldwork, key_live)
    return {
        name: insert(table)
        .from_select(columns, values)
        .on_conflict_do_nothing(index_elements=["fieldwork_id", "submission_id"])
        .returning(table.c.id)
        for name, insert in (("postgresql", postgresql_insert), ("sqlite", sqlite_insert))
    }


_INSERT_CHECKED = _insert_checked_statement()
#: the same, compiled for the driver in use, by dialect name
_COMPILED: dict[str, CompiledOnce] = {}
