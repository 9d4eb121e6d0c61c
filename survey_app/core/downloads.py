"""Files sent as attachments: tables as CSV (UTF-8 with a byte-order mark) or Excel, formula-safe either way;
PDF reports."""

from __future__ import annotations

import pandas as pd
from flask import Response, abort

from questionnaires.exports import to_csv, to_xlsx

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TABLE_FORMATS = {"csv": "text/csv", "xlsx": XLSX_TYPE}


def table_file(table: pd.DataFrame, stem: str, fmt: str = "csv", sheet: str = "data") -> Response:
    """The table as ``stem.fmt``; an unknown format is not found."""
    if fmt not in TABLE_FORMATS:
        abort(404)
    data = to_csv(table) if fmt == "csv" else to_xlsx(table, sheet)
    return Response(
        data, mimetype=TABLE_FORMATS[fmt], headers={"Content-Disposition": f"attachment; filename={stem}.{fmt}"}
    )


def pdf_file(data: bytes, stem: str) -> Response:
    return Response(
        data, mimetype="application/pdf", headers={"Content-Disposition": f"attachment; filename={stem}.pdf"}
    )
