"""A query's rows as a table of columns, fast enough for a national fieldwork.

A million rows read as SQLAlchemy rows (an object each, then a Python value per cell) take tens of seconds; on
PostgreSQL the same SELECT run as ``COPY (SELECT …) TO STDOUT`` and read by pandas' C parser takes a few.
Every column but the first comes back as text (or missing), whichever the database: the caller converts what
it needs, so both paths give the same table.
"""

from __future__ import annotations

import io

import pandas as pd
from sqlalchemy import Select
from sqlalchemy.orm import Session

#: how COPY writes a missing value: a cell that is only ``\N``; an empty text stays an empty quoted cell, and a
#: quoted ``\N`` would read as missing too, which no closed answer is
_NULL = r"\N"


def column_frame(session: Session, statement: Select) -> pd.DataFrame:
    """The rows of ``statement`` as a DataFrame named by its columns' labels: the first column (an id) as
    64-bit integers, every other as text with ``None`` where the database had NULL, in the statement's order.
    """
    connection = session.connection()
    names = [column.name for column in statement.selected_columns]
    if connection.dialect.name != "postgresql":
        rows = connection.execute(statement).all()
        columns = list(zip(*rows)) if rows else [()] * len(names)
        table = pd.DataFrame({name: pd.Series(values, dtype=object) for name, values in zip(names, columns)})
        return table.astype({names[0]: "int64"})
    # PostgreSQL's COPY takes no parameters: psycopg binds them into the statement on the client, as SQLAlchemy
    # compiled them (the questionnaire's codes and the ids stay values, never text of the query)
    compiled = statement.compile(connection)
    text = io.BytesIO()
    with connection.connection.cursor() as cursor:
        with cursor.copy(f"COPY ({compiled}) TO STDOUT WITH (FORMAT csv, NULL '{_NULL}')", compiled.params) as copy:
            for block in copy:
                text.write(block)
    if not text.tell():
        return pd.DataFrame({name: pd.Series([], dtype="int64" if i == 0 else object) for i, name in enumerate(names)})
    text.seek(0)
    table = pd.read_csv(
        text,
        header=None,
        names=names,
        dtype={name: "int64" if i == 0 else str for i, name in enumerate(names)},
        keep_default_na=False,
        na_values=[_NULL],
    )
    # missing as None, as the rows' path gives it (pandas' reader marks it NaN)
    return table.astype(object).where(table.notna(), None).astype({names[0]: "int64"})
