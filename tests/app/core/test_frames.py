"""core.frames: a query's rows read by COPY on PostgreSQL come back as the rows' path gives them."""

from sqlalchemy import Integer, String, column, select, values

from survey_app.core.extensions import db
from survey_app.core.frames import column_frame


def test_copy_keeps_text_missing_values_and_the_statements_order(app):
    cells = values(column("id", Integer), column("answer", String), column("other", String), name="cells").data(
        [
            (3, "a, b", "x"),
            (1, None, ""),
            (2, 'say "hi"\nthen go', None),
            (4, "Đồng ý", "\\N "),
        ]
    )
    table = column_frame(db.session, select(cells.c.id, cells.c.answer, cells.c.other).order_by(cells.c.id.desc()))
    assert str(table["id"].dtype) == "int64"
    assert table.to_dict("records") == [
        {"id": 4, "answer": "Đồng ý", "other": "\\N "},
        {"id": 3, "answer": "a, b", "other": "x"},
        {"id": 2, "answer": 'say "hi"\nthen go', "other": None},
        {"id": 1, "answer": None, "other": ""},
    ]


def test_no_rows_give_the_columns_empty(app):
    cells = values(column("id", Integer), column("answer", String), name="cells").data([(1, "a")])
    table = column_frame(db.session, select(cells.c.id, cells.c.answer).where(cells.c.id > 5))
    assert list(table.columns) == ["id", "answer"] and len(table) == 0


def test_values_with_a_percent_sign_are_read_as_they_are(app):
    """The statement's values are bound by the driver, not written into the text: a code with ``%`` in it finds
    its rows (written in as a literal, it would have come back doubled)."""
    cells = values(column("id", Integer), column("code", String), name="cells").data([(1, "share_%"), (2, "other")])
    table = column_frame(db.session, select(cells.c.id, cells.c.code).where(cells.c.code == "share_%"))
    assert table.to_dict("records") == [{"id": 1, "code": "share_%"}]
