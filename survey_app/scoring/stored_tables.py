"""Tables kept in a JSON column and read back as they were: a run's rank simulation and sensitivity run
(``operations.store_derived``)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd


def document(table: pd.DataFrame) -> dict[str, Any]:
    """A table as JSON that gives it back as it was (``table``): its index, column labels (numbers stay
    numbers), and each column's values and dtype; NaN as None."""

    def plain(values) -> list:
        return [None if isinstance(value, float) and math.isnan(value) else value for value in values.tolist()]

    return {
        "index": plain(table.index),
        "index_name": table.index.name,
        "columns": table.columns.tolist(),
        "dtypes": [str(dtype) for dtype in table.dtypes],
        "values": [plain(table.iloc[:, position]) for position in range(table.shape[1])],
    }


def table(document: dict[str, Any]) -> pd.DataFrame:
    index = pd.Index(document["index"], name=document["index_name"])
    columns = {
        position: pd.Series(values, index=index, dtype=dtype)
        for position, (values, dtype) in enumerate(zip(document["values"], document["dtypes"]))
    }
    table = pd.DataFrame(columns, index=index)
    table.columns = pd.Index(document["columns"]) if document["columns"] else table.columns
    return table
