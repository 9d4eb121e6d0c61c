"""The public methodology of a published round, generated from its run: the framework tree with the points as the
framework gives them and as the run counted them, the channel shares, missing data scored 0, an exclusion with its
reading and reason, Tuyên Quang's rule, the normalisation and the sources' dates; in both languages, as a page
linked from the ranking and the scorecards, and as a PDF. Every number below is computed by hand."""

import html
import io

import pandas as pd
import pytest
from flask_babel import force_locale

from questionnaires import framework_from_dict
from survey_app.core.extensions import db
from survey_app.core.i18n import moment
from survey_app.frameworks import operations as frameworks
from survey_app.publication import methodology as method
from survey_app.publication import operations as publication
from survey_app.rounds import operations as rounds
from survey_app.scoring import channel_inputs
from survey_app.scoring import operations as scoring
from survey_app.scoring.models import SelfAssessment
from survey_app.units import operations as units
from tests.conftest import import_self_assessed


def _criterion(code, vi, en, points, scoring_method, **more):
    return {
        "code": code,
        "kind": "criterion",
        "name": {"vi": vi, "en": en},
        "points": points,
        "channels": ["self_assessment", "appraisal"],
        "scoring": {"method": scoring_method, **({"target": more.pop("target")} if "target" in more else {})},
        **more,
    }


#: 100 points in two pillars of 50, each split 80% assessed data (its criteria's 40 points), 10% cyberspace and
#: 10% experts; the framework's own exclusion reading is "redistribute"
FRAMEWORK = {
    "code": "methodology-test",
    "level": "province",
    "year": 2023,
    "version": 1,
    "name": {"vi": "Chỉ số thử phương pháp", "en": "Methodology test index"},
    "total_points": 100,
    "published_as": "value",
    "source": "Quyết định 1/QĐ-TEST",
    "note": "Điểm chờ phụ lục của Quyết định / points await the decision's annex",
    "channel_shares": {"assessment": 0.8, "cyberspace": 0.1, "expert": 0.1, "level": "pillar"},
    "nodes": [
        {
            "code": "P1",
            "kind": "pillar",
            "name": {"vi": "Chính quyền số", "en": "Digital government"},
            "points": 50,
            "children": [
                _criterion("A.1", "Có kế hoạch", "Has a plan", 20, "yes_no", measure="yes/no"),
                _criterion("A.2", "Tỷ lệ hồ sơ trực tuyến", "Share of files online", 20, "ratio", target=100),
            ],
        },
        {
            "code": "P2",
            "kind": "pillar",
            "name": {"vi": "Kinh tế số", "en": "Digital economy"},
            "points": 50,
            "children": [
                _criterion("B.1", "Tỷ trọng kinh tế số", "Digital economy share", 24, "ratio", target=1),
                _criterion(
                    "B.2",
                    "Sàn thương mại điện tử",
                    "E-commerce platform",
                    16,
                    "yes_no",
                    note="Chờ phụ lục / awaits the annex",
                ),
            ],
        },
    ],
}

UNITS = {"U1": "Tỉnh Một", "U2": "Tỉnh Hai", "U3": "Tỉnh Ba", "U4": "Tỉnh Bốn"}
#: A.1: yes 20 / no 0; A.2: value / 100 × 20; B.1: value × 24 (two units of four: half, not proposed);
#: B.2: yes 16, one unit of four (proposed for exclusion, and excluded)
VALUES = {
    "U1": {"A.1": "có", "A.2": "100", "B.1": "1", "B.2": "có"},
    "U2": {"A.1": "có", "A.2": "50", "B.1": "0,5"},
    "U3": {"A.1": "không", "A.2": "80"},
    "U4": {"A.1": "có", "A.2": "20"},
}
REASON = "chỉ 1 trong 4 tỉnh có số liệu"


def _published_round():
    """The four provinces scored with B.2 excluded under the "remove" reading (the run's choice) and Tỉnh Bốn
    given the best peer's points on A.2 (Tuyên Quang's rule), then published."""
    version, _ = frameworks.store_framework(framework_from_dict(FRAMEWORK))
    table = "code,name\n" + "".join(f"{code},{name}\n" for code, name in UNITS.items())
    unit_list = units.import_unit_list(
        "meth-units", "Bốn tỉnh", "Four provinces", "province", table.encode(), "units.csv", actor=None
    )
    evaluation = rounds.create_round("meth-2023", 2023, "DTI thử 2023", "Test DTI 2023", version, unit_list, actor=None)
    import_self_assessed(evaluation, VALUES)
    assert list(scoring.proposed_exclusions(evaluation)["node"]) == ["B.2"]
    run = scoring.run_scoring(
        evaluation,
        excluded=["B.2"],
        rules={"peer_maximum": {"units": ["U4"], "criteria": ["A.2"]}},
        exclusion="remove",
        note=REASON,
        actor=None,
    )
    publication.publish(run, actor=None)
    db.session.commit()
    return evaluation, run


def test_the_points_each_node_counts_for_under_each_reading():
    framework = framework_from_dict(FRAMEWORK)
    # remove: B.2's 16 points leave P2 (50 - 16 = 34) and the total (100 - 16 = 84)
    removed = method.counted_points(framework, {"B.2"}, "remove")
    assert removed == {"P1": 50, "A.1": 20, "A.2": 20, "P2": 34, "B.1": 24}
    assert method.counted_total(framework, removed, "remove") == 84
    # redistribute: B.1 takes B.2's share of P2's assessed 40 points (24 × 40 / 24); P2 keeps its 50
    shared = method.counted_points(framework, {"B.2"}, "redistribute")
    assert shared == {"P1": 50, "A.1": 20, "A.2": 20, "P2": 50, "B.1": 40}
    assert method.counted_total(framework, shared, "redistribute") == 100
    # nothing excluded: the framework's points
    assert method.counted_points(framework, set(), "remove")["P2"] == 50


def test_a_note_is_split_into_its_two_languages():
    assert method.note_texts("3 chỉ số, chờ phụ lục / 3 indices, awaiting the annex") == {
        "vi": "3 chỉ số, chờ phụ lục",
        "en": "3 indices, awaiting the annex",
    }
    # "4/3/5" is not the separator; a note in Vietnamese only is shown as written
    assert method.note_texts("12 chỉ số (4/3/5)") == {"vi": "12 chỉ số (4/3/5)", "en": "12 chỉ số (4/3/5)"}
    assert method.note_texts(None) is None


def test_the_methodology_of_a_published_round_from_its_run(app):
    evaluation, run = _published_round()
    # by hand, over the 84 points left: U1 20 + 20 + 24 = 64; U2 20 + 10 + 12 = 42; U3 0 + 16 = 16;
    # U4 20 + 20 (the best peer's A.2) = 40
    assert run.index == pytest.approx({"U1": 64 / 84, "U2": 42 / 84, "U3": 16 / 84, "U4": 40 / 84})
    found = method.methodology(run)
    tree = {row["code"]: row for row in found["tree"]}
    assert [row["code"] for row in found["tree"]] == ["P1", "A.1", "A.2", "P2", "B.1", "B.2"]
    assert [tree[code]["depth"] for code in ("P1", "A.1", "P2", "B.2")] == [0, 1, 0, 1]
    assert {code: tree[code]["counted"] for code in tree} == {
        "P1": 50,
        "A.1": 20,
        "A.2": 20,
        "P2": 34,
        "B.1": 24,
        "B.2": None,
    }
    assert tree["B.2"]["excluded"] and found["total"] == 84
    # missing data scored 0: U3 and U4 on B.1; A.2 of U4 comes from the rule
    assert {code: tree[code]["missing"] for code in ("A.1", "A.2", "B.1", "B.2")} == {
        "A.1": 0,
        "A.2": 0,
        "B.1": 2,
        "B.2": None,
    }
    assert found["shares"]["applied"] == [
        {
            "code": code,
            "name": name,
            "points": 50,
            "channels": {"assessment": 40, "cyberspace": 5, "expert": 5},
        }
        for code, name in (
            ("P1", {"vi": "Chính quyền số", "en": "Digital government"}),
            ("P2", {"vi": "Kinh tế số", "en": "Digital economy"}),
        )
    ]
    exclusions = found["exclusions"]
    assert (exclusions["reading"], exclusions["framework_reading"], exclusions["reason"]) == (
        "remove",
        "redistribute",
        REASON,
    )
    assert exclusions["excluded"] == [
        {
            "code": "B.2",
            "name": {"vi": "Sàn thương mại điện tử", "en": "E-commerce platform"},
            "points": 16,
            "units_with_data": 1,
            "units": 4,
            "share": 0.25,
            "proposed": True,
        }
    ]
    assert found["rules"] == [{"rule": "peer_maximum", "units": ["Tỉnh Bốn"], "criteria": ["A.2"]}]
    assert found["notes"] == [
        {
            "code": None,
            "name": {"vi": "Chỉ số thử phương pháp", "en": "Methodology test index"},
            "note": {"vi": "Điểm chờ phụ lục của Quyết định", "en": "points await the decision's annex"},
        },
        {
            "code": "B.2",
            "name": {"vi": "Sàn thương mại điện tử", "en": "E-commerce platform"},
            "note": {"vi": "Chờ phụ lục", "en": "awaits the annex"},
        },
    ]
    assessed = db.session.query(SelfAssessment).filter_by(round_id=evaluation.id).all()
    sources = found["sources"]
    assert sources["self_assessment"]["rows"] == 11 and sources["self_assessment"]["appraised"] == 0
    assert sources["self_assessment"]["first"] == min(row.reported_at for row in assessed)
    assert sources["survey"]["fieldworks"] == [] and sources["expert"]["forms"] == 0
    assert found["normalisation"] == {"run": "none", "framework": "none"}


def _text(response) -> str:
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def test_the_methodology_page_in_both_languages_linked_from_the_ranking_and_scorecards(app, client):
    evaluation, run = _published_round()
    for page in ("/results/meth-2023", "/results/meth-2023/units/U1"):
        assert 'href="/results/meth-2023/methodology"' in client.get(page).get_data(as_text=True)

    english = _text(client.get("/results/meth-2023/methodology?lang=en"))
    # the tree: content in English, the points as given and as counted (P2 lost B.2's 16)
    assert "Digital economy" in english and "E-commerce platform" in english and "Kinh tế số" not in english
    assert '<td class="num">50</td>\n    <td class="num">34</td>' in english
    assert "Framework tree: 84 points counted" in english
    # the exclusion, its reading and its reason
    assert "What excluding a criterion did in this run: its points left the total for every unit." in english
    assert "(The framework's own reading: its points passed to its siblings" in english
    assert "1 of 4" in english and "data for fewer than half of the units" in english and REASON in english
    # Tuyên Quang's rule, the channel shares, the notes awaiting the document, missing data scored 0
    assert "Best peer's points (no subordinate units or online services): Tỉnh Bốn → A.2" in english
    assert "cyberspace 10%, expert interviews 10%" in english and "The shares apply to each pillar." in english
    assert "points await the decision's annex" in english and "awaits the annex" in english
    assert "In this run 1 criterion was scored 0 for at least one unit" in english
    assert "Quyết định 1/QĐ-TEST" in english and "11 values reported by the units (0 appraised)" in english
    first = min(row.reported_at for row in db.session.query(SelfAssessment).filter_by(round_id=evaluation.id))
    with force_locale("en"):
        assert f"reported {moment(first)}" in english and f"published {moment(run.published_at)}" in english

    vietnamese = _text(client.get("/results/meth-2023/methodology?lang=vi"))
    assert "Kinh tế số" in vietnamese and "Sàn thương mại điện tử" in vietnamese and "Digital economy" not in vietnamese
    assert "Điểm chờ phụ lục của Quyết định" in vietnamese and "Chờ phụ lục" in vietnamese
    assert "points await the decision's annex" not in vietnamese
    assert "điểm của tiêu chí bị trừ khỏi tổng điểm của mọi đơn vị" in vietnamese
    assert client.get("/results/nope/methodology").status_code == 404


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    assert data.startswith(b"%PDF")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_methodology_as_pdf_in_both_languages(app, client):
    _published_round()
    response = client.get("/results/meth-2023/methodology.pdf?lang=en")
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment")
    text = " ".join(_pdf_text(response.data).split())
    assert "E-commerce platform" in text and "Digital economy" in text
    assert "its points left the total for every unit" in text and REASON in text
    assert "Tỉnh Bốn → A.2" in text and "awaits the annex" in text
    # P2: 50 as given, 34 counted; B.1: 24 counted, 2 units without data
    assert "P2 Digital economy Pillar 50 34" in text and "B.1 Digital economy share Criterion 24 24 2" in text
    vietnamese = " ".join(_pdf_text(client.get("/results/meth-2023/methodology.pdf?lang=vi").data).split())
    assert "Sàn thương mại điện tử" in vietnamese and "Chờ phụ lục" in vietnamese
    assert "điểm của tiêu chí bị trừ khỏi tổng điểm của mọi đơn vị" in vietnamese


def test_the_survey_fieldwork_appraisal_and_kept_criteria_of_the_demo_round(survey, client):
    from sqlalchemy import select

    from survey_app.accounts import operations as accounts
    from survey_app.survey import operations as collection
    from tests.conftest import CITIZEN_ANSWERS

    unit_list = units.load_shipped_unit_lists()["provinces-2019"]
    evaluation = rounds.create_round("demo-2023", 2023, "DTI 2023", "DTI 2023", survey.framework, unit_list, actor=None)
    survey.open.round_id = evaluation.id
    hanoi = survey.units[0]
    rows = [
        {"Mã đơn vị": hanoi.code, "Mã tiêu chí": "AW.1", "Giá trị": "có", "Minh chứng": "QĐ 1"},
        {"Mã đơn vị": hanoi.code, "Mã tiêu chí": "INFRA.1", "Giá trị": "80", "Minh chứng": "BC 7"},
    ]
    data = pd.DataFrame(rows).to_csv(index=False).encode("utf-8-sig")
    channel_inputs.import_self_assessment(evaluation, data, "data.csv", actor=None)
    collection.set_quotas(survey.open, f"unit,urban,sex,target\n{hanoi.code},rural,female,10\n".encode(), actor=None)
    collection.submit(survey.open, hanoi, CITIZEN_ANSWERS, "s1", source="api")
    officer = accounts.create_user("officer@example.vn", "Cán bộ", "scoring_officer", "correct horse battery staple")
    infra = db.session.scalar(select(SelfAssessment).where(SelfAssessment.criterion == "INFRA.1"))
    channel_inputs.appraise(infra, 20, "Số liệu chưa khớp", actor=officer)
    db.session.commit()
    # one of 63 provinces has data on any criterion: every one is proposed, and kept
    proposed = list(scoring.proposed_exclusions(evaluation)["node"])
    run = scoring.run_scoring(evaluation, excluded=[], kept=proposed, actor=None)
    publication.publish(run, actor=None)
    db.session.commit()

    found = method.methodology(run)
    assert found["sources"]["self_assessment"]["rows"] == 2 and found["sources"]["self_assessment"]["appraised"] == 1
    assert found["sources"]["self_assessment"]["appraised_at"] == infra.appraised_at
    assert found["sources"]["survey"]["fieldworks"] == [
        {
            "fieldwork": "open",
            "name": {"vi": "Khảo sát mở", "en": survey.open.name("en")},
            "opened_at": survey.open.opened_at,
            "closes_at": None,
            "weighted": False,
            "weighted_at": None,
            "responses": 1,
        }
    ]
    assert [row["code"] for row in found["exclusions"]["kept"]] == proposed and found["exclusions"]["excluded"] == []
    tree = {row["code"]: row for row in found["tree"]}
    # SMART is collected, not scored; 62 provinces without a value on AW.1 score 0 on it
    assert not tree["SMART"]["scored"] and tree["SMART"]["counted"] is None and tree["AW.1"]["missing"] == 62
    assert found["total"] == 1000 and found["shares"] is None

    english = _text(client.get("/results/demo-2023/methodology?lang=en"))
    with force_locale("en"):
        opened, appraised = moment(survey.open.opened_at), moment(infra.appraised_at)
    assert f"{survey.open.name('en')}: opened {opened}; 1 response, unweighted" in english
    assert f"last appraisal {appraised}" in english and "2 values reported by the units (1 appraised)" in english
    assert "Proposed for exclusion but kept in the ranking" in english and "No criterion was excluded." in english
    assert "The framework does not split the score by channel" in english
    pdf = " ".join(_pdf_text(client.get("/results/demo-2023/methodology.pdf?lang=en").data).split())
    # pypdf reads the time's narrow no-break space as a space
    assert f"last appraisal {appraised}".replace("\u202f", " ") in pdf and "1 response, unweighted" in pdf
