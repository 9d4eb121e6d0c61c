"""Nominations read from a province's list: every rejected row with its reason, one person once."""

from sampling import ExpertCategory, check_nominations, person_key
from sampling.nominations import category_of, phone_digits

UNITS = {"01", "79"}


def row(**values):
    base = {
        "unit": "01",
        "name": "Nguyễn Văn A",
        "category": "retired_leader",
        "organisation": "Sở TT&TT",
        "position": "Nguyên Giám đốc",
        "email": "a@example.vn",
        "phone": "",
        "expertise": "CNTT",
    }
    return {**base, **values}


def test_valid_rows_are_kept_with_their_category():
    checked = check_nominations(
        [row(), row(name="Trần Thị B", email="", phone="+84 912 345 678", category="Lãnh đạo doanh nghiệp")], UNITS
    )
    assert checked.rejected == []
    assert [(n.line, n.category) for n in checked.valid] == [
        (2, ExpertCategory.RETIRED_LEADER),
        (3, ExpertCategory.BUSINESS_LEADER),
    ]
    assert checked.valid[1].person == "tel:0912345678"


def test_each_rejected_row_says_why():
    rows = [
        row(unit="99"),
        row(name=""),
        row(category="professor"),
        row(email="", phone=""),
        row(email="not-an-address"),
        row(name="x" * 201, email="long@example.vn"),
    ]
    checked = check_nominations(rows, UNITS)
    assert checked.valid == []
    assert [(r.line, r.code) for r in checked.rejected] == [
        (2, "unknown_unit"),
        (3, "missing_name"),
        (4, "unknown_category"),
        (5, "missing_contact"),
        (6, "invalid_email"),
        (7, "text_too_long"),
    ]
    assert checked.rejected[2].params == {"category": "professor"}


def test_the_same_person_twice_in_a_file_or_by_two_units_is_refused():
    rows = [row(), row(unit="79", email="A@Example.vn"), row(email="b@example.vn")]
    checked = check_nominations(rows, UNITS, nominated={"b@example.vn": "79"})
    assert [n.line for n in checked.valid] == [2]
    assert [(r.line, r.code, r.params) for r in checked.rejected] == [
        (3, "duplicate_person", {"name": "Nguyễn Văn A", "first": 2}),
        (4, "already_nominated", {"name": "Nguyễn Văn A", "unit": "79"}),
    ]


def test_vietnamese_headers_and_a_file_of_one_unit():
    rows = [{"Họ và tên": "Lê C", "Nhóm": "Cán bộ đang công tác", "Số điện thoại": "0987 654 321"}]
    checked = check_nominations(rows, UNITS, unit="79")
    assert checked.rejected == []
    assert (checked.valid[0].unit, checked.valid[0].category) == ("79", ExpertCategory.SERVING_OFFICIAL)


def test_blank_rows_are_skipped_and_keys_normalised():
    assert check_nominations([{"name": "", "category": ""}], UNITS).rejected == []
    assert person_key(" X@Y.vn ", "") == "x@y.vn"
    assert phone_digits("(+84) 24 3822 1234") == "02438221234"
    assert category_of("  RETIRED leader ") is ExpertCategory.RETIRED_LEADER
