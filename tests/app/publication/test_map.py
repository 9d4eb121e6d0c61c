"""The map of a published round (issue 24): a tile grid of the provinces coloured in equal-interval classes of the
index or of a pillar the visitor picks, a legend, and a table saying the same; both unit lists have a complete grid;
a round whose units have no grid (ministries) shows the table only; axe finds nothing serious on a phone or a
desktop in either language. Every class below is worked out by hand."""

import re
import xml.etree.ElementTree as ElementTree

import pandas as pd
import pytest

from questionnaires import framework_from_dict
from survey_app.core.extensions import db
from survey_app.frameworks import operations as frameworks
from survey_app.publication import operations as publication
from survey_app.publication import tile_map
from survey_app.publication.views import maps
from survey_app.rounds import operations as rounds
from survey_app.scoring import channel_inputs
from survey_app.scoring import operations as scoring
from survey_app.units import operations as units
from tests.app.publication.test_methodology import FRAMEWORK
from tests.browser.test_survey_browser import PHONE, browser, live_server  # noqa: F401 (fixtures)
from tests.conftest import import_self_assessed

# --- the grids


def _shipped_codes(name: str, column: str) -> set[str]:
    return {row[column] for row in units.shipped_rows(name)}


@pytest.mark.parametrize(
    ("grid", "codes", "count"),
    [
        (tile_map.PROVINCES_2019, _shipped_codes("provinces_2019.csv", "code"), 63),
        # a 2025 unit's code is its first-listed predecessor's (units.load_shipped_unit_lists)
        (tile_map.PROVINCES_2025, None, 34),
    ],
)
def test_every_unit_of_each_list_has_one_tile_and_no_two_tiles_share_a_cell(grid, codes, count):
    if codes is None:
        first = {}
        for row in units.shipped_rows("provinces_2025.csv"):
            first.setdefault(row["new_unit"], row["old_province_code"])
        codes = set(first.values())
    assert len(codes) == count
    assert set(grid) == codes
    cells = [(tile.column, tile.row) for tile in grid.values()]
    assert len(set(cells)) == len(cells) == count
    labels = [tile.label for tile in grid.values()]
    assert len(set(labels)) == count and max(len(label) for label in labels) <= 4


def test_the_grids_keep_the_country_s_shape():
    # the north is wide, the centre narrow (one or two tiles a row), the Mekong delta in the south-west
    for grid, centre in ((tile_map.PROVINCES_2019, range(7, 11)), (tile_map.PROVINCES_2025, range(6, 11))):
        per_row = {}
        for tile in grid.values():
            per_row[tile.row] = per_row.get(tile.row, 0) + 1
        assert max(per_row[row] for row in range(3)) >= 5
        assert all(per_row[row] <= 2 for row in centre)
        assert grid["96"].row == max(per_row) and grid["96"].column == 0  # Cà Mau, the southern tip
        assert grid["01"].row < grid["46"].row < grid["79"].row  # Hà Nội, Huế, Hồ Chí Minh City


def test_a_list_is_drawn_on_its_grid_or_on_the_grid_with_exactly_its_units():
    assert tile_map.grid_for("provinces-2025", []) is tile_map.PROVINCES_2025
    assert tile_map.grid_for("gso-2019", list(tile_map.PROVINCES_2019)) is tile_map.PROVINCES_2019
    assert tile_map.grid_for("ministries-2020", ["BTC", "BYT"]) is None
    assert tile_map.grid_size(tile_map.PROVINCES_2019) == (9, 20)
    assert tile_map.grid_size(tile_map.PROVINCES_2025) == (5, 16)


# --- the classes


def test_equal_interval_classes_from_the_lowest_to_the_highest_value():
    # 0.1 to 0.6 in five classes of 0.1; NaN and None are no data
    classes = tile_map.value_classes([0.6, 0.1, None, float("nan"), 0.25, 0.35])
    assert [c.number for c in classes] == [1, 2, 3, 4, 5]
    assert [c.low for c in classes] == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.5])
    assert [c.high for c in classes] == pytest.approx([0.2, 0.3, 0.4, 0.5, 0.6])
    number = {value: tile_map.class_of(value, classes).number for value in (0.1, 0.25, 0.35, 0.45, 0.6)}
    assert number == {0.1: 1, 0.25: 2, 0.35: 3, 0.45: 4, 0.6: 5}
    assert tile_map.class_of(None, classes) is None and tile_map.class_of(float("nan"), classes) is None
    # the highest value is in the darkest class
    assert tile_map.class_of(0.6, classes).fill == tile_map.CLASS_COLOURS[-1][0] == "#08306b"
    # every value equal: one class, the darkest; no value at all: no class
    assert [(c.number, c.fill) for c in tile_map.value_classes([0.3, 0.3])] == [(1, "#08306b")]
    assert tile_map.value_classes([None]) == []
    # fewer classes take the darker colours
    assert [c.fill for c in tile_map.value_classes([0, 1], count=2)] == ["#2171b5", "#08306b"]
    with pytest.raises(ValueError):
        tile_map.value_classes([0, 1], count=6)


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(one: str, other: str) -> float:
    light, dark = sorted((_luminance(one), _luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_the_text_on_every_tile_keeps_the_contrast_small_text_needs():
    # WCAG's formula; white on #2171b5 is 5.1:1 (#3182bd, the usual fourth blue, would be 4.1:1)
    assert _contrast("#ffffff", "#2171b5") == pytest.approx(5.1, abs=0.05)
    for fill, text in [*tile_map.CLASS_COLOURS, (tile_map.NO_DATA_FILL, tile_map.NO_DATA_TEXT)]:
        assert _contrast(fill, text) >= 4.5, fill
    # the hatching of a tile without data is dark enough for the text too
    assert _contrast("#9aa3ae", tile_map.NO_DATA_TEXT) >= 4.5


# --- the page


def _svg(page: str) -> ElementTree.Element:
    # the map ends where the legend's heading follows
    found = re.search(r"<svg class=\"chart map\".*?</svg>(?=\s*<h2)", page, re.S)
    assert found, "no map"
    return ElementTree.fromstring(found.group(0))


def _tiles(page: str) -> dict[str, tuple[int, str]]:
    """Each tile's unit → (its class, its fill), read from the SVG."""
    svg = _svg(page)
    return {
        tile.get("data-unit"): (int(tile.get("data-class")), tile.find("rect").get("fill"))
        for tile in svg.iter("g")
        if tile.get("class") == "tile"
    }


#: four of the 34 units of 2025 with data (the others score 0): A.1 yes 20 / no 0, A.2 value / 100 × 20,
#: B.1 value × 24, B.2 yes 16
VALUES = {
    "01": {"A.1": "có", "A.2": "90", "B.1": "0", "B.2": "không"},  # P1 38, P2 0: 38 of 100
    "79": {"A.1": "không", "A.2": "50", "B.1": "1", "B.2": "có"},  # P1 10, P2 40: 50
    "48": {"A.1": "có", "A.2": "50", "B.1": "0,5", "B.2": "không"},  # P1 30, P2 12: 42
    "96": {"A.1": "không", "A.2": "0", "B.1": "0", "B.2": "không"},  # 0
}


#: the methodology tests' framework (two pillars of 50 points), for 2025
MAP_FRAMEWORK = {**FRAMEWORK, "code": "map-test", "year": 2025}


def published_2025_round():
    """A published 2025 round of the 34 units, four of them with data (also the public site's browser test's)."""
    version, _ = frameworks.store_framework(framework_from_dict(MAP_FRAMEWORK))
    unit_list = units.load_shipped_unit_lists()["provinces-2025"]
    evaluation = rounds.create_round("map-2025", 2025, "DTI thử 2025", "Test DTI 2025", version, unit_list, actor=None)
    import_self_assessed(evaluation, VALUES)
    # every criterion is kept, units without data scoring 0 on it
    kept = list(scoring.proposed_exclusions(evaluation)["node"])
    run = scoring.run_scoring(evaluation, excluded=[], kept=kept, actor=None)
    publication.publish(run, actor=None)
    db.session.commit()
    return evaluation, run


def test_the_tiles_take_the_class_of_their_value_and_follow_the_node_picked(app, client):
    evaluation, run = published_2025_round()
    assert {code: run.index[code] for code in VALUES} == pytest.approx({"01": 0.38, "79": 0.5, "48": 0.42, "96": 0})
    page = client.get("/results/map-2025/map").get_data(as_text=True)
    tiles = _tiles(page)
    assert len(tiles) == 34
    # the index from 0 to 0.5 in classes of 0.1: 0.5 and 0.42 in the fifth (darkest), 0.38 in the fourth, the 0s
    # in the first
    assert tiles["79"] == (5, "#08306b") and tiles["48"] == (5, "#08306b")
    assert tiles["01"] == (4, "#2171b5")
    assert tiles["96"] == (1, "#eff3ff") and tiles["89"] == (1, "#eff3ff")
    # the legend, darkest first, and the table with the same classes, best first
    assert "0,4000–0,5000" in page and "0,0000–0,1000" in page
    english = client.get("/results/map-2025/map?lang=en").get_data(as_text=True)
    assert re.search(r"Hồ Chí Minh</a></th>\s*<td class=\"num\">0.5000</td>\s*<td>5 of 5 \(0.4000–0.5000\)", english)
    # P1 (Digital government) from 0 to 38 points in classes of 7.6: 38 → 5, 30 → 4 (22.8 to 30.4), 10 → 2
    pillar = _tiles(client.get("/results/map-2025/map?node=P1").get_data(as_text=True))
    assert pillar["01"][0] == 5 and pillar["48"][0] == 4 and pillar["79"][0] == 2 and pillar["96"][0] == 1


def test_each_tile_names_its_unit_and_value_and_links_to_its_scorecard(app, client):
    published_2025_round()
    page = client.get("/results/map-2025/map?lang=en").get_data(as_text=True)
    svg = _svg(page)
    assert svg.get("viewBox") == "0 0 196 636"  # 5 × 40 − 4 by 16 × 40 − 4
    assert svg.get("width") == "247"  # drawn 800 px high: 196 × 800 / 636 = 246.5
    # the picture is a named image; the links lie over it, out of its content (an image holds nothing interactive)
    [picture] = svg.findall("svg")
    assert picture.get("role") == "img"
    label = "Map of the units coloured by Index; the table that follows gives the same values."
    assert picture.get("aria-label") == label
    assert not list(picture.iter("a"))
    tile = next(g for g in picture.iter("g") if g.get("data-unit") == "79")
    assert tile.find("title").text == "Thành phố Hồ Chí Minh: 0.5000"
    assert tile.find("rect").get("x") == "80" and tile.find("rect").get("y") == "520"  # column 2, row 13
    assert tile.find("text").text == "HCM" and tile.find("text").get("fill") == "#ffffff"
    [layer] = svg.findall("g")
    assert layer.get("aria-hidden") == "true"
    links = {a.get("href"): a for a in layer.iter("a")}
    assert len(links) == 34 and all(a.get("tabindex") == "-1" for a in links.values())
    assert links["/results/map-2025/units/79"].find("rect").get("x") == "80"
    assert 'href="#map-table"' in page and 'id="map-table"' in page
    assert "Colour the map by" in page and "P1 · Digital government" in page


def test_the_page_in_both_languages_on_the_demo_s_published_province_round(app, runner):
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    visitor = app.test_client()
    evaluation = next(found for found in publication.published_rounds() if found.code == "province-2022-demo")
    run = scoring.published_run(evaluation)
    best = max(run.index, key=run.index.get)
    worst = min(run.index, key=run.index.get)
    english = visitor.get("/results/province-2022-demo/map?lang=en")
    assert english.status_code == 200
    text = english.get_data(as_text=True)
    assert "Colour the map by" in text and "Legend" in text
    tiles = _tiles(text)
    assert len(tiles) == 63
    assert tiles[best] == (5, "#08306b") and tiles[worst][0] == 1
    vietnamese = visitor.get("/results/province-2022-demo/map?lang=vi")
    assert vietnamese.status_code == 200
    text = vietnamese.get_data(as_text=True)
    assert '<html lang="vi">' in text and "Xếp hạng</a>" in text and "Chỉ số</option>" in text
    assert _tiles(text) == tiles
    # a pillar of the round colours the map by its own values
    node = scoring.ranking_nodes(run)[0].code
    rows = scoring.ranking(run)
    top = rows.loc[rows[node].idxmax(), "unit"]
    pillar = _tiles(visitor.get(f"/results/province-2022-demo/map?node={node}").get_data(as_text=True))
    assert pillar[top] == (5, "#08306b") and pillar != tiles


def test_an_unknown_node_is_said_and_the_index_shown_and_an_unknown_round_is_not_found(app, client):
    published_2025_round()
    page = client.get("/results/map-2025/map?node=ZZ&lang=en")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "This round has no pillar or main index “ZZ”; the map shows the index." in text
    assert _tiles(text)["79"][0] == 5
    assert client.get("/results/no-such-round/map").status_code == 404


def test_a_round_without_a_grid_shows_its_table_only(app, client):
    ministries = {**MAP_FRAMEWORK, "code": "map-ministry-test", "level": "ministry"}
    table = "code,name,name_en\nBTC,Bộ Tài chính,Ministry of Finance\nBYT,Bộ Y tế,Ministry of Health\n"
    unit_list = units.import_unit_list(
        "map-ministries", "Hai bộ", "Two ministries", "ministry", table.encode(), "units.csv", actor=None
    )
    version, _ = frameworks.store_framework(framework_from_dict(ministries))
    evaluation = rounds.create_round("map-ministry", 2025, "Bộ 2025", "Ministries 2025", version, unit_list, actor=None)
    rows = [
        {"Mã đơn vị": unit, "Mã tiêu chí": "A.1", "Giá trị": value, "Minh chứng": "BC 1"}
        for unit, value in (("BTC", "có"), ("BYT", "không"))
    ]
    data = pd.DataFrame(rows).to_csv(index=False).encode("utf-8-sig")
    assert channel_inputs.import_self_assessment(evaluation, data, "data.csv", actor=None).rejected == []
    kept = list(scoring.proposed_exclusions(evaluation)["node"])
    publication.publish(scoring.run_scoring(evaluation, excluded=[], kept=kept, actor=None), actor=None)
    db.session.commit()
    page = client.get("/results/map-ministry/map?lang=en")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'role="img"' not in text
    assert "The map is drawn for the rounds of provinces; this round's units are in the table." in text
    assert "Ministry of Finance</a>" in text and "1 of 1" not in text


def test_a_unit_without_a_value_has_a_hatched_tile_and_the_legend_says_no_data(app, client, monkeypatch):
    published_2025_round()
    scored = maps.ranking_rows

    def without_ca_mau(evaluation_round, run):
        # as if the run had not scored Cà Mau, and had no P1 value for Đà Nẵng
        rows, columns = scored(evaluation_round, run)
        rows = [row for row in rows if row["unit"] != "96"]
        next(row for row in rows if row["unit"] == "48")["P1"] = float("nan")
        return rows, columns

    monkeypatch.setattr(maps, "ranking_rows", without_ca_mau)
    page = client.get("/results/map-2025/map?node=P1&lang=en").get_data(as_text=True)
    svg = _svg(page)
    tiles = _tiles(page)
    assert tiles["96"] == (0, "url(#map-no-data)") and tiles["48"] == (0, "url(#map-no-data)")
    # P1 without Đà Nẵng: Hà Nội's 38 the highest, Hồ Chí Minh City's 10 in the second class of 7.6
    assert tiles["01"][0] == 5 and tiles["79"][0] == 2
    titles = {g.get("data-unit"): g.find("title").text for g in svg.iter("g") if g.get("class") == "tile"}
    assert titles["96"] == "Tỉnh Cà Mau: no data"
    # a unit the run did not score has no scorecard to link to; one without a P1 value has
    links = {a.get("href") for a in svg.iter("a")}
    assert "/results/map-2025/units/96" not in links and "/results/map-2025/units/48" in links
    assert re.search(r"<li><svg[^>]*>.*?fill=\"url\(#map-no-data\)\".*?</svg> no data</li>", page)
    assert re.search(r"<th scope=\"row\">Tỉnh Cà Mau</th>\s*<td class=\"num\">—</td>\s*<td>no data</td>", page)


DESKTOP = {"viewport": {"width": 1280, "height": 900}, "locale": "en-GB"}


def test_axe_finds_nothing_serious_on_the_map_on_a_phone_and_a_desktop_in_both_languages(app, live_server, browser):
    from axe_playwright_python.sync_playwright import Axe

    published_2025_round()
    found = {}
    for name, device in (("phone", PHONE), ("desktop", DESKTOP)):
        context = browser.new_context(**device)
        page = context.new_page()
        for language in ("vi", "en"):
            page.goto(f"{live_server}/results/map-2025/map?node=P1&lang={language}")
            violations = Axe().run(page).response["violations"]
            found[name, language] = [v["id"] for v in violations if v["impact"] in ("serious", "critical")]
            # the map fits the screen: nothing scrolls sideways
            assert page.evaluate("document.documentElement.scrollWidth") <= device["viewport"]["width"]
        # a tile takes a pointer to its unit's scorecard
        page.click("svg.map a[data-unit='79']")
        assert page.url.endswith("/results/map-2025/units/79")
        context.close()
    assert found == {(n, lang): [] for n in ("phone", "desktop") for lang in ("vi", "en")}
