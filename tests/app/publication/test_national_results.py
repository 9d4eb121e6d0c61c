"""The national index on the public site [1726 II.1.e]: the country's value, its pillars and its series across the
published years (a server-drawn line chart and the same numbers as a table), beside the other levels' rankings
rather than as a one-row ranking; its methodology shows what Decision 405's framework file says awaits the annex."""

import html

import pandas as pd
import pytest

from survey_app.core.extensions import db
from survey_app.frameworks import operations as frameworks
from survey_app.publication import methodology as method
from survey_app.publication import operations as publication
from survey_app.rounds import operations as rounds
from survey_app.scoring import channel_inputs
from survey_app.scoring import operations as scoring
from survey_app.units import operations as units


def _publish(evaluation, values: dict[str, str]):
    rows = [
        {"Mã đơn vị": "VN", "Mã tiêu chí": node, "Giá trị": value, "Minh chứng": "x"} for node, value in values.items()
    ]
    channel_inputs.import_self_assessment(
        evaluation, pd.DataFrame(rows).to_csv(index=False).encode("utf-8-sig"), "vn.csv", actor=None
    )
    run = scoring.run_scoring(evaluation, excluded=[], actor=None)
    publication.publish(run, actor=None)
    db.session.commit()
    return run


@pytest.fixture
def national(app):
    """The national index published for 2023 (Decision 922's framework, one node until its annex: 0.7326) and
    for 2024 (Decision 405's three pillars, made-up values)."""
    country = units.load_national_unit_list()
    stored = {(v.code, v.year): v for v, _ in frameworks.load_shipped_frameworks()}
    earlier = rounds.create_round(
        "dti-quoc-gia-2023",
        2023,
        "DTI quốc gia 2023",
        "National DTI 2023",
        stored[("national", 2021)],
        country,
        actor=None,
    )
    _publish(earlier, {"DTI": "0,7326"})
    later = rounds.create_round(
        "dti-quoc-gia-2024",
        2024,
        "DTI quốc gia 2024",
        "National DTI 2024",
        stored[("national", 2024)],
        country,
        actor=None,
    )
    # (0.8 × 400 + 0.75 × 300 + 0.8 × 300) / 1000 = 0.785
    _publish(later, {"DG": "0,8", "DE": "0,75", "DS": "0,8"})
    return earlier, later


def test_the_series_of_the_national_index_across_the_published_years(national):
    earlier, later = national
    series = method.national_series(later)
    assert [(row["year"], row["index"]) for row in series["rows"]] == [
        (2023, pytest.approx(0.7326)),
        (2024, pytest.approx(0.785)),
    ]
    # the newest framework's pillars first, then the node of 922's framework
    assert [column["code"] for column in series["columns"]] == ["DG", "DE", "DS", "DTI"]
    assert series["rows"][1]["values"] == pytest.approx({"DG": 0.8, "DE": 0.75, "DS": 0.8})
    assert series["rows"][0]["values"] == pytest.approx({"DTI": 0.7326})
    # a year's page shows the series up to its year
    assert [row["year"] for row in method.national_series(earlier)["rows"]] == [2023]


def test_the_national_page_gives_the_countrys_value_pillars_and_series_not_a_ranking(national, client):
    page = html.unescape(client.get("/results/dti-quoc-gia-2024?lang=en").get_data(as_text=True))
    assert "The national index of 2024: 0.7850." in page
    assert 'class="ranking"' not in page and "Rank range" not in page
    # the pillars with their points and values
    assert "Digital government</th><td class=\"num\">400</td><td class=\"num\">0.8000</td>" in page
    assert "Digital economy</th><td class=\"num\">300</td><td class=\"num\">0.7500</td>" in page
    # the chart: 2023 at the left edge (x 44), 2024 at the right (x 380); y = 170 - 156 × value:
    # 170 - 156 × 0.7326 = 55.7, 170 - 156 × 0.785 = 47.5
    assert 'points="44.0,55.7 380.0,47.5 "' in page
    # the table carrying the same numbers: 2023's own node, 2024's pillars, — where a year has no such node
    assert '<a href="/results/dti-quoc-gia-2023">2023</a></th>\n    <td class="num">0.7326</td>' in page
    assert (
        "<td class=\"num\">—</td><td class=\"num\">—</td><td class=\"num\">—</td><td class=\"num\">0.7326</td>" in page
    )
    assert "<td class=\"num\">0.7850</td>\n    <td class=\"num\">0.8000</td><td class=\"num\">0.7500</td>" in page
    assert 'href="/results/dti-quoc-gia-2024/methodology"' in page

    vietnamese = client.get("/results/dti-quoc-gia-2024?lang=vi").get_data(as_text=True)
    assert "Chính phủ số" in vietnamese and "0,7850" in vietnamese and "0,7326" in vietnamese
    # beside the other levels on the list of published results: the country's value
    listing = client.get("/results/?lang=en").get_data(as_text=True)
    assert "0.7850" in listing and "0.7326" in listing
    # the earlier year's page has its own year only
    earlier = client.get("/results/dti-quoc-gia-2023?lang=en").get_data(as_text=True)
    assert 'points="212.0,55.7 "' in earlier and "0.7850" not in earlier


def test_the_national_methodology_shows_what_awaits_decision_405s_annex(national, client):
    english = html.unescape(client.get("/results/dti-quoc-gia-2024/methodology?lang=en").get_data(as_text=True))
    assert "12 indices in 3 pillars (4/3/5); each index and its points await the decision's annex." in english
    assert "3 indices, awaiting the annex" in english and "5 indices, awaiting the annex" in english
    assert "Quyết định 405/QĐ-BKHCN ngày 03/4/2025" in english
    vietnamese = html.unescape(client.get("/results/dti-quoc-gia-2024/methodology?lang=vi").get_data(as_text=True))
    assert "3 chỉ số, chờ phụ lục" in vietnamese and "3 indices, awaiting the annex" not in vietnamese


def test_the_national_pdf_gives_the_value_pillars_and_series(national, client):
    import io

    from pypdf import PdfReader

    response = client.get("/results/dti-quoc-gia-2024/ranking.pdf?lang=en")
    assert response.mimetype == "application/pdf"
    text = " ".join("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages).split())
    assert "The national index of 2024: 0.7850." in text and "Rank range" not in text
    assert "DG Digital government 400 0.8000" in text and "DE Digital economy 300 0.7500" in text
    # the series: 2023 has 922's one node, 2024 the three pillars
    assert "2023 0.7326 — — — 0.7326" in text and "2024 0.7850 0.8000 0.7500 0.8000 —" in text
    vietnamese = " ".join(
        PdfReader(io.BytesIO(client.get("/results/dti-quoc-gia-2024/ranking.pdf?lang=vi").data))
        .pages[0]
        .extract_text()
        .split()
    )
    assert "Chính phủ số" in vietnamese and "0,7850" in vietnamese
