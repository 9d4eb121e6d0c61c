"""Open data on the public results site: every published round's results in long format (one row per unit and
node) as CSV and Excel at stable addresses, a Frictionless data package describing them that validates with the
``frictionless`` library, the same rows in the API filtered and a page at a time, and the national level's JSON
giving the country's value without a rank. Every number is computed by hand."""

import html
import io
import json

import pandas as pd
import pytest
from frictionless import Package, validate
from openapi_spec_validator import validate as validate_openapi
from openpyxl import load_workbook

from survey_app.scoring import operations as scoring
from tests.app.publication.test_methodology import _published_round
from tests.app.publication.test_national_results import national  # noqa: F401 (a fixture)

#: the nodes of test_methodology's framework in framework order, after each unit's whole index (B.2, excluded
#: from the evaluation, has no rows)
NODES = ["index", "P1", "A.1", "A.2", "P2", "B.1"]


def _csv(client, path: str) -> pd.DataFrame:
    answer = client.get(path)
    assert answer.status_code == 200, path
    return pd.read_csv(io.BytesIO(answer.data), encoding="utf-8-sig", keep_default_na=False, na_values=[""])


def test_a_rounds_csv_holds_its_published_values_one_row_per_unit_and_node(app, client):
    evaluation, run = _published_round()
    table = _csv(client, f"/results/data/{evaluation.code}.csv")
    assert list(table.columns[:11]) == [
        "round",
        "year",
        "level",
        "unit",
        "unit_name_vi",
        "unit_name_en",
        "node",
        "node_name_vi",
        "node_name_en",
        "node_kind",
        "parent",
    ]
    # the units best first, each with its index then every node in framework order
    assert list(table["unit"]) == [unit for unit in ("U1", "U2", "U4", "U3") for _ in NODES]
    assert list(table["node"][:6]) == NODES
    assert set(table["round"]) == {"meth-2023"} and set(table["year"]) == {2023} and set(table["level"]) == {"province"}
    index = table[table["node"] == "index"].set_index("unit")
    # by hand over the 84 points left once B.2 is out (test_methodology): U1 64, U2 42, U4 40, U3 16
    assert index["points"].to_dict() == pytest.approx({"U1": 64, "U2": 42, "U4": 40, "U3": 16})
    assert index["value"].to_dict() == pytest.approx({"U1": 64 / 84, "U2": 42 / 84, "U4": 40 / 84, "U3": 16 / 84})
    assert set(index["maximum"]) == {84}
    assert index["rank"].to_dict() == {"U1": 1, "U2": 2, "U4": 3, "U3": 4}
    assert index.loc["U1", "node_name_en"] == "Methodology test index" and index.loc["U1", "unit_name_vi"] == "Tỉnh Một"
    # the published ranking's own numbers, index and pillars alike
    ranking = scoring.ranking(run).set_index("unit")
    for unit in ("U1", "U2", "U3", "U4"):
        assert index.loc[unit, "value"] == pytest.approx(ranking.loc[unit, "index"])
        assert index.loc[unit, "rank"] == ranking.loc[unit, "rank"]
        row = table[(table["unit"] == unit) & (table["node"] == "P1")].iloc[0]
        assert row["value"] == pytest.approx(ranking.loc[unit, "P1"])
        assert row["rank"] == ranking.loc[unit, "P1 rank"]
    criteria = table[table["node_kind"] == "criterion"].set_index(["unit", "node"])
    # A.2: value / 100 × 20 (U2 50 → 10; U4 given the best peer's 20); A.1 "không" scores 0
    assert criteria.loc[("U2", "A.2"), "points"] == pytest.approx(10)
    assert criteria.loc[("U2", "A.2"), "value"] == pytest.approx(0.5)
    assert criteria.loc[("U4", "A.2"), "points"] == pytest.approx(20)
    assert criteria.loc[("U3", "A.1"), "points"] == 0 and criteria.loc[("U3", "A.1"), "parent"] == "P1"
    # U3 reported nothing on B.1: scored 0 and marked missing; U1 reported it (1 × 24 of P2's 34 points left)
    assert criteria.loc[("U3", "B.1"), "points"] == 0 and bool(criteria.loc[("U3", "B.1"), "missing"]) is True
    assert bool(criteria.loc[("U1", "B.1"), "missing"]) is False
    p2 = table[(table["unit"] == "U1") & (table["node"] == "P2")].iloc[0]
    assert (p2["points"], p2["maximum"], p2["value"]) == pytest.approx((24, 34, 24 / 34))
    assert pd.isna(p2["missing"]) and pd.isna(p2["parent"])
    # the ranking's own file stays where it was
    assert client.get(f"/results/{evaluation.code}/ranking.csv").status_code == 200
    assert client.get("/results/data/nothing-published.csv").status_code == 404
    assert client.get(f"/results/data/{evaluation.code}.json").status_code == 404


def test_the_excel_file_holds_the_same_rows(app, client):
    evaluation, _ = _published_round()
    answer = client.get(f"/results/data/{evaluation.code}.xlsx")
    assert answer.status_code == 200
    sheet = load_workbook(io.BytesIO(answer.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert len(rows) == 1 + 4 * len(NODES)
    first = dict(zip(header, rows[1]))
    assert (first["unit"], first["node"], first["rank"]) == ("U1", "index", 1)
    assert first["value"] == pytest.approx(64 / 84)
    # an empty cell stays empty, not "nan"
    assert first["parent"] is None


def test_the_data_package_describes_every_round_and_validates(app, client, national, tmp_path):  # noqa: F811
    evaluation, _ = _published_round()
    answer = client.get("/results/data/datapackage.json")
    assert answer.status_code == 200 and answer.headers["ETag"]
    package = answer.get_json()
    assert package["licenses"][0]["name"] == "CC-BY-4.0"
    assert package["homepage"] == "http://localhost/results/data/"
    codes = {"meth-2023", "dti-quoc-gia-2023", "dti-quoc-gia-2024"}
    assert {resource["name"] for resource in package["resources"]} == codes
    fields = package["resources"][0]["schema"]["fields"]
    assert {"name": "rank", "type": "integer"}.items() <= next(f for f in fields if f["name"] == "rank").items()
    assert next(f for f in fields if f["name"] == "year")["title"] == "Năm / Year"
    # frictionless would fetch each resource's absolute address over the network, which the test client is not;
    # so each file is fetched through the test client into tmp_path beside the package, whose paths are then
    # rewritten to those files: the descriptor and every row are validated as published
    for resource in package["resources"]:
        assert resource["path"] == f"http://localhost/results/data/{resource['name']}.csv"
        data = client.get(resource["path"].removeprefix("http://localhost"))
        assert data.status_code == 200
        (tmp_path / f"{resource['name']}.csv").write_bytes(data.data)
        resource["path"] = f"{resource['name']}.csv"
    (tmp_path / "datapackage.json").write_text(json.dumps(package, ensure_ascii=False), encoding="utf-8")
    report = validate(str(tmp_path / "datapackage.json"))
    assert report.valid, report.flatten(["resourceName", "rowNumber", "fieldName", "type", "note"])
    rows = {task.name: task.stats["rows"] for task in report.tasks}
    # 4 units × 6 rows; the country once for 922's one-node framework, once for 405's three pillars
    assert rows == {"meth-2023": 24, "dti-quoc-gia-2023": 2, "dti-quoc-gia-2024": 4}
    # the rows read back typed as the schema says (frictionless reads a number as a Decimal)
    read = Package(str(tmp_path / "datapackage.json")).get_resource("meth-2023").read_rows()
    assert read[0]["rank"] == 1 and read[0]["year"] == 2023 and float(read[0]["value"]) == pytest.approx(64 / 84)
    assert read[2]["missing"] is False and read[0]["missing"] is None


def test_the_open_data_page_lists_the_files_in_both_languages(app, client):
    evaluation, _ = _published_round()
    # (the page's Vietnamese interface strings are in the catalogue once /tmp/po/opendata.json is merged; the
    # column descriptions are the data package's own, in both languages already)
    vietnamese = html.unescape(client.get("/results/data/?lang=vi").get_data(as_text=True))
    assert "Điểm đạt được trên điểm tối đa, từ 0 đến 1" in vietnamese
    assert (
        f"/results/data/{evaluation.code}.csv" in vietnamese and f"/results/data/{evaluation.code}.xlsx" in vietnamese
    )
    assert "/results/data/datapackage.json" in vietnamese and "CC-BY-4.0" in vietnamese
    english = html.unescape(client.get("/results/data/?lang=en").get_data(as_text=True))
    assert "Open data" in english and "The ministry may choose another licence" in english
    assert "The points over the maximum, from 0 to 1" in english


def test_the_files_are_cached_as_published_files(app, client):
    evaluation, _ = _published_round()
    for path in (f"/results/data/{evaluation.code}.csv", "/results/data/datapackage.json"):
        first = client.get(path)
        assert "max-age=300" in first.headers["Cache-Control"]
        assert client.get(path, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304


def test_one_table_serves_both_languages(app, client, monkeypatch):
    """The table names units and nodes in both languages: made once, the same bytes in Vietnamese and English."""
    from survey_app.publication import open_data

    evaluation, _ = _published_round()
    made = []
    round_table = open_data.round_table
    monkeypatch.setattr(open_data, "round_table", lambda run: made.append(run.id) or round_table(run))
    vietnamese = client.get(f"/results/data/{evaluation.code}.csv").data
    english = client.get(f"/results/data/{evaluation.code}.csv?lang=en").data
    assert vietnamese == english and b"unit_name_en" in vietnamese
    assert len(made) == 1


def _values(client, query: str = "") -> dict:
    answer = client.get(f"/api/v1/results/values{query}")
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def test_the_api_pages_through_the_values(app, client):
    _published_round()
    everything = _values(client, "?per_page=500")
    assert everything["total"] == 24 and len(everything["items"]) == 24 and everything["pages"] == 1
    first, second, third = (_values(client, f"?per_page=10&page={page}") for page in (1, 2, 3))
    # page 2 goes on where page 1 stopped; 24 rows in pages of 10: 10, 10, 4
    assert first["items"] + second["items"] + third["items"] == everything["items"]
    assert [len(page["items"]) for page in (first, second, third)] == [10, 10, 4]
    assert first["total"] == 24 and first["pages"] == 3
    assert first["links"]["next"] == "http://localhost/api/v1/results/values?per_page=10&page=2"
    assert first["links"]["prev"] is None and third["links"]["next"] is None
    assert third["links"]["prev"].endswith("page=2") and first["links"]["last"].endswith("page=3")
    # past the last page: no items, the total still right
    past = _values(client, "?per_page=10&page=4")
    assert past["items"] == [] and past["total"] == 24
    item = everything["items"][0]
    assert item["unit"] == "U1" and item["node"] == "index" and item["rank"] == 1 and item["parent"] is None
    assert item["value"] == pytest.approx(64 / 84) and item["points"] == pytest.approx(64)


def test_the_api_filters_by_year_level_round_unit_node_and_kind(app, client, national):  # noqa: F811
    _published_round()
    assert _values(client)["total"] == 24 + 2 + 4
    assert _values(client, "?year=2023")["total"] == 24 + 2
    assert _values(client, "?year=2024")["total"] == 4
    assert _values(client, "?year=2019")["total"] == 0
    assert _values(client, "?level=national")["total"] == 6
    assert _values(client, "?level=ministry")["total"] == 0
    assert _values(client, "?round=meth-2023")["total"] == 24
    unit = _values(client, "?unit=U2")
    assert unit["total"] == 6 and {item["unit"] for item in unit["items"]} == {"U2"}
    index = _values(client, "?node=index&level=province")
    assert [(item["unit"], item["rank"]) for item in index["items"]] == [("U1", 1), ("U2", 2), ("U4", 3), ("U3", 4)]
    pillar = _values(client, "?node=DG")["items"]
    assert [(item["round"], item["value"], item["rank"]) for item in pillar] == [("dti-quoc-gia-2024", 0.8, None)]
    criteria = _values(client, "?kind=criterion&unit=U3")
    assert [item["node"] for item in criteria["items"]] == ["A.1", "A.2", "B.1"]
    # an empty text filter is no filter
    assert _values(client, "?unit=&node=")["total"] == 30


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("?year=twenty", "year"),
        ("?year=-1", "year"),
        ("?year=", "year"),
        ("?level=", "level"),
        ("?page=0", "page"),
        ("?page=1.5", "page"),
        ("?per_page=501", "per_page"),
        ("?per_page=0", "per_page"),
        ("?level=galaxy", "level"),
        ("?kind=leaf", "kind"),
        ("?colour=red", "colour"),
    ],
)
def test_the_api_refuses_bad_parameters_naming_them(app, client, query, named):
    answer = client.get(f"/api/v1/results/values{query}")
    assert answer.status_code == 400
    error = answer.get_json()["error"]
    assert error["code"] == 400 and named in error["message"]


def test_the_national_rounds_json_gives_the_countrys_value_without_a_rank(app, client, national):  # noqa: F811
    document = client.get("/api/v1/results/dti-quoc-gia-2024").get_json()
    assert "units" not in document and "rank" not in json.dumps(document)
    # (0.8 × 400 + 0.75 × 300 + 0.8 × 300) / 1000 = 0.785
    assert document["country"]["unit"] == "VN" and document["country"]["index"] == pytest.approx(0.785)
    assert document["country"]["name"] == {"vi": "Việt Nam", "en": "Viet Nam"}
    assert document["country"]["values"] == pytest.approx({"DG": 0.8, "DE": 0.75, "DS": 0.8})
    assert [(entry["year"], entry["index"]) for entry in document["series"]] == [
        (2023, pytest.approx(0.7326)),
        (2024, pytest.approx(0.785)),
    ]
    # its open data likewise: a value, no rank
    table = _csv(client, "/results/data/dti-quoc-gia-2024.csv")
    assert table["rank"].isna().all()
    assert table.set_index("node")["value"].to_dict() == pytest.approx(
        {"index": 0.785, "DG": 0.8, "DE": 0.75, "DS": 0.8}
    )


def test_the_openapi_document_describes_the_values_endpoint(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    validate_openapi(document)
    operation = document["paths"]["/api/v1/results/values"]["get"]
    parameters = {parameter["name"]: parameter["schema"] for parameter in operation["parameters"]}
    assert set(parameters) == {"year", "level", "round", "unit", "node", "kind", "page", "per_page"}
    assert parameters["per_page"]["maximum"] == 500
    assert "400" in operation["responses"]
