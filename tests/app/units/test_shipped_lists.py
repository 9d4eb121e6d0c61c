"""The shipped unit lists at every level, checked against the public record, and a round opened and computed on
every shipped framework."""

import pytest

from survey_app.core.extensions import db
from survey_app.frameworks import operations as frameworks
from survey_app.rounds import operations as rounds
from survey_app.scoring import operations as scoring
from survey_app.units import operations as units


def test_the_lists_below_a_province_hold_the_gso_divisions(app):
    lists = units.load_provincial_unit_lists()
    counts = {code: len(lists[code].units) for code in lists}
    # GSO's table of 2025-01-04: Tuyên Quang 1 city + 6 districts, 137 communes; Quảng Nam 17 district-level
    # units (Nông Sơn had joined Quế Sơn in 2024), 234 communes; the example departments
    assert counts["tuyen-quang-districts"] == 7 and counts["tuyen-quang-communes"] == 137
    assert counts["quang-nam-districts"] == 17 and counts["quang-nam-communes"] == 234
    assert counts["tuyen-quang-departments"] == 19
    communes = {unit.code: unit for unit in lists["tuyen-quang-communes"].units}
    # a sample against the record: Phan Thiết ward (02200) of Tuyên Quang city (070), in Tuyên Quang (08)
    ward = communes["02200"]
    assert ward.name == "Phường Phan Thiết" and ward.attributes["name_en"] == "Phan Thiet Ward"
    assert (ward.parent.code, ward.parent.name, ward.parent.parent.code) == ("070", "Thành phố Tuyên Quang", "08")
    assert ward.level == "commune" and ward.attributes["has_subordinate_units"] is False
    tam_ky = {unit.code: unit for unit in lists["quang-nam-communes"].units}["20335"]
    assert (tam_ky.name, tam_ky.parent.name, tam_ky.parent.parent.name) == (
        "Phường Tân Thạnh",
        "Thành phố Tam Kỳ",
        "Quảng Nam",
    )
    inspectorate = {unit.code: unit for unit in lists["tuyen-quang-departments"].units}["TTT"]
    assert inspectorate.attributes["special_purpose"] is True
    # loading again adds nothing
    assert len(units.load_provincial_unit_lists()["tuyen-quang-communes"].units) == 137


#: the shipped lists each shipped framework (code, first year) is evaluated on
LISTS_OF = {
    ("national", 2021): ["country"],
    ("national", 2024): ["country"],
    ("national-ministry", 2020): ["ministries-2020"],
    ("national-ministry", 2024): ["ministries-2025"],
    ("national-province", 2020): ["provinces-2019"],
    ("national-province", 2021): ["provinces-2019"],
    # the 2024 results were published for the 63 provinces and for the 34 units of 2025
    ("national-province", 2024): ["provinces-2019", "provinces-2025"],
    ("quang-nam-commune", 2021): ["quang-nam-communes"],
    ("tuyen-quang-commune", 2022): ["tuyen-quang-communes"],
    ("tuyen-quang-department", 2022): ["tuyen-quang-departments"],
    ("tuyen-quang-district", 2022): ["tuyen-quang-districts"],
}


def test_a_round_opens_and_computes_on_every_shipped_framework(app):
    lists = units.load_provincial_unit_lists() | {"country": units.load_national_unit_list()}
    stored = [version for version, _ in frameworks.load_shipped_frameworks()]
    assert sorted((v.code, v.year) for v in stored) == sorted(LISTS_OF)
    opened = []
    for version in stored:
        # Decision 405's frameworks serve the rounds of 2024, 2025 and 2026
        years = range(version.year, (version.last_year or version.year) + 1) if version.year >= 2024 else [version.year]
        for year in years:
            for code in LISTS_OF[(version.code, version.year)]:
                unit_list = lists[code]
                evaluation = rounds.create_round(
                    f"{version.code}-{year}-{code}", year, version.code, version.code, version, unit_list, actor=None
                )
                proposed = list(scoring.proposed_exclusions(evaluation)["node"])
                run = scoring.run_scoring(evaluation, excluded=[], kept=proposed, actor=None)
                # nothing reported yet: every unit is ranked, on 0
                assert len(run.index) == len(unit_list.units) and set(run.index.values()) == {0.0}
                assert len(scoring.ranking(run)) == len(unit_list.units)
                opened.append((version.code, year, len(unit_list.units)))
    assert {(code, year) for code, year, _ in opened} >= {
        (code, year) for code in ("national", "national-ministry", "national-province") for year in (2024, 2025, 2026)
    }
    assert ("national-province", 2025, 34) in opened and ("national-ministry", 2026, 17) in opened
    assert ("national", 2024, 1) in opened
    db.session.commit()


def test_the_2025_units_against_the_public_record(app):
    lists = units.load_shipped_unit_lists()
    merged = {unit.name: sorted(p.name for p in unit.predecessors) for unit in lists["provinces-2025"].units}
    # Resolution 202/2025/QH15: 34 units, 11 unchanged, every one of the 63 provinces in exactly one
    assert len(merged) == 34 and sum(len(olds) == 1 for olds in merged.values()) == 11
    assert sorted(name for olds in merged.values() for name in olds) == sorted(
        unit.name for unit in lists["provinces-2019"].units
    )
    assert merged["Tỉnh Tuyên Quang"] == ["Hà Giang", "Tuyên Quang"]
    assert merged["Thành phố Đà Nẵng"] == ["Quảng Nam", "Đà Nẵng"]
    assert merged["Tỉnh Phú Thọ"] == ["Hoà Bình", "Phú Thọ", "Vĩnh Phúc"]
    assert merged["Thành phố Cần Thơ"] == ["Cần Thơ", "Hậu Giang", "Sóc Trăng"]
    assert merged["Tỉnh Lâm Đồng"] == ["Bình Thuận", "Lâm Đồng", "Đắk Nông"]
    # Resolution 176/2025/QH15: 14 ministries and 3 ministerial-level agencies
    ministries = {unit.code: unit for unit in lists["ministries-2025"].units}
    kinds = [unit.attributes["kind"] for unit in ministries.values()]
    assert (kinds.count("ministry"), kinds.count("ministerial_agency")) == (14, 3)
    assert sorted(p.code for p in ministries["BTC"].predecessors) == ["BHXH", "BKHDT", "BTC"]
    assert sorted(p.code for p in ministries["BKHCN"].predecessors) == ["BKHCN", "BTTTT"]
    assert sorted(p.code for p in ministries["BNNMT"].predecessors) == ["BNNPTNT", "BTNMT"]
    # every body ranked until 2024 has a successor
    successors = {p.code for unit in ministries.values() for p in unit.predecessors}
    assert successors == {unit.code for unit in lists["ministries-2020"].units}
    assert units.ranking_group(ministries["TTCP"]) == "no_online_services"


def test_the_country_is_the_national_levels_one_unit(app):
    country = units.load_national_unit_list()
    assert (country.code, country.level, [(u.code, u.name, u.level) for u in country.units]) == (
        "country",
        "national",
        [("VN", "Việt Nam", "national")],
    )
    # loading again adds nothing
    assert units.load_national_unit_list() is country and len(country.units) == 1
    assert "national" in units.LEVELS


def test_an_administrator_creates_a_list_from_a_table_and_a_bad_row_stores_nothing(app, client, create_user, login):
    import io

    from sqlalchemy import func, select

    from survey_app.units.models import UnitList
    from tests.conftest import csrf_token

    lists = units.load_provincial_unit_lists()
    db.session.commit()
    login(create_user("administrator"))
    districts = lists["tuyen-quang-districts"]

    def post(body: bytes, code: str):
        return client.post(
            "/units/new",
            content_type="multipart/form-data",
            data={
                "csrf_token": csrf_token(client, "/units/new"),
                "code": code,
                "name_vi": "Trường học",
                "level": "department",
                "first_year": "2022",
                "parent_list": str(districts.id),
                "predecessor_list": "0",
                "file": (io.BytesIO(body), "units.csv"),
            },
        )

    bad = (
        "code,name,parent,special_purpose\n"
        "T1,Trường A,070,no\n"
        "T1,Trường B,070,no\n"
        ",Trường C,070,no\n"
        "T4,Trường D,999,no\n"
        "T5,Trường E,070,maybe\n"
    ).encode()
    response = post(bad, "schools")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    for row in (3, 4, 5, 6):
        assert f"Dòng {row}:" in page
    assert db.session.scalar(select(func.count(UnitList.id)).where(UnitList.code == "schools")) == 0
    good = "code,name,name_en,parent,special_purpose\nT1,Trường A,School A,070,có\nT2,Trường B,,071,\n".encode()
    response = post(good, "schools")
    assert response.status_code == 302 and response.headers["Location"].endswith("/units/schools")
    made = db.session.scalar(select(UnitList).where(UnitList.code == "schools"))
    first, second = made.units
    assert (first.parent.name, first.attributes["special_purpose"], first.attributes["name_en"]) == (
        "Thành phố Tuyên Quang",
        True,
        "School A",
    )
    assert second.attributes == {
        "name_en": "Trường B",
        "has_subordinate_units": False,
        "provides_online_services": False,
        "special_purpose": False,
    }
    assert "Thành phố Tuyên Quang" in client.get("/units/schools").get_data(as_text=True)
    # the same code again is refused
    assert post(good, "schools").status_code == 400


def test_only_an_administrator_creates_unit_lists(app, client, create_user, login):
    login(create_user("viewer"))
    assert client.get("/units/new").status_code == 403


def test_a_code_already_taken_is_refused_with_its_message_not_a_crash(app):
    from survey_app.core.errors import ServiceError

    lists = units.load_shipped_unit_lists()
    version = next(
        v for v, _ in frameworks.load_shipped_frameworks() if (v.code, v.year) == ("national-province", 2020)
    )
    rounds.create_round("taken", version.year, "x", "x", version, lists["provinces-2019"], actor=None)
    # the message names the code: a parameter called "code" beside the error's own code
    for attempt in (
        lambda: rounds.create_round("taken", version.year, "x", "x", version, lists["provinces-2019"], actor=None),
        lambda: units.import_unit_list(
            "provinces-2019", "x", "x", "province", b"code,name\n1,a\n", "a.csv", actor=None
        ),
    ):
        with pytest.raises(ServiceError) as caught:
            attempt()
        assert caught.value.params["code"] in ("taken", "provinces-2019")


def test_a_tuyen_quang_district_is_ranked_on_its_three_pillars_beside_the_index(app, client):
    import pandas as pd

    from survey_app.publication import operations as publication
    from survey_app.scoring import channel_inputs

    lists = units.load_provincial_unit_lists()
    version = next(v for v, _ in frameworks.load_shipped_frameworks() if v.code == "tuyen-quang-district")
    evaluation = rounds.create_round(
        "tq-district-2022", 2022, "DTI huyện", "DTI", version, lists["tuyen-quang-districts"], actor=None
    )
    rows = [
        # Tuyên Quang city: awareness 1 of 1 → 50, digital government 0.5 → 100; Lâm Bình: awareness 0.5 → 25,
        # digital economy 1 → 200
        {"Mã đơn vị": "070", "Mã tiêu chí": "AW", "Giá trị": "1", "Minh chứng": "x"},
        {"Mã đơn vị": "070", "Mã tiêu chí": "DG", "Giá trị": "0,5", "Minh chứng": "x"},
        {"Mã đơn vị": "071", "Mã tiêu chí": "AW", "Giá trị": "0,5", "Minh chứng": "x"},
        {"Mã đơn vị": "071", "Mã tiêu chí": "DE", "Giá trị": "1", "Minh chứng": "x"},
    ]
    data = pd.DataFrame(rows).to_csv(index=False).encode("utf-8-sig")
    channel_inputs.import_self_assessment(evaluation, data, "data.csv", actor=None)
    proposed = list(scoring.proposed_exclusions(evaluation)["node"])
    run = scoring.run_scoring(evaluation, excluded=[], kept=proposed, actor=None)
    table = scoring.ranking(run).set_index("unit")
    # each pillar of 450 is the foundation (250) and its own activity index (200) [742 Art. 5.2]
    assert table.loc["070", ["P.DG", "P.DE", "P.DS"]].tolist() == pytest.approx([150 / 450, 50 / 450, 50 / 450])
    assert table.loc["071", ["P.DG", "P.DE", "P.DS"]].tolist() == pytest.approx([25 / 450, 225 / 450, 25 / 450])
    assert (table.loc["070", "P.DG rank"], table.loc["071", "P.DE rank"], table.loc["072", "P.DG rank"]) == (1, 1, 3)
    # the 850-point index: 150 and 225 points
    assert table.loc["071", "index"] == pytest.approx(225 / 850) and table.loc["071", "rank"] == 1
    publication.publish(run, actor=None)
    db.session.commit()
    page = client.get("/results/tq-district-2022").get_data(as_text=True)
    assert "P.DG" in page and "Trụ cột Chính quyền số" in page
    for fmt in ("csv", "xlsx", "pdf"):
        assert client.get(f"/results/tq-district-2022/ranking.{fmt}").status_code == 200
