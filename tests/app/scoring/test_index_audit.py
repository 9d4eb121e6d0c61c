"""The statistical audit of a scoring run in the service: computed once per run and stored, its numbers the
library's on the run's snapshot and checked by hand; its page and PDF report in both languages; who may see and
start it."""

import io

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select

from analysis.audit import data_checks, global_uncertainty, scenarios, structure
from survey_app.audit.models import AuditEvent
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.frameworks import operations as frameworks
from survey_app.rounds import operations as rounds
from survey_app.scoring import channel_inputs, index_audit
from survey_app.scoring import operations as scoring
from survey_app.scoring.models import IndexAudit
from survey_app.units import operations as units
from tests.conftest import csrf_token

#: a small design for tests: N (k + 2) draws with N = 64
BASE_SAMPLES = 64

UNITS = ["P1", "P2", "P3", "P4", "P5", "P6"]
NAMES = ["Tỉnh Một", "Tỉnh Hai", "Tỉnh Ba", "Tỉnh Bốn", "Tỉnh Năm", "Tỉnh Sáu"]
#: per criterion, each unit's reported value (P1 … P6): DG.1 and DG.2 (target 80) move together (redundant),
#: SEC.1 runs against SEC.2, AW.2 is yes for one unit only (skewed)
VALUES = {
    "AW.1": ["có", "có", "có", "không", "có", "không"],
    "AW.2": ["có", "không", "không", "không", "không", "không"],
    "INFRA.1": ["100", "90", "80", "70", "60", "10"],
    "HR.1": ["40", "90", "70", "100", "60", "30"],
    "SEC.1": ["20", "30", "40", "60", "80", "90"],
    "SEC.2": ["có", "có", "có", "không", "không", "không"],
    "DG.1": ["50", "70", "40", "80", "30", "60"],
    "DG.2": ["50", "70", "40", "80", "30", "60"],
    "DS.3": ["80", "20", "60", "40", "100", "50"],
}


def _csv(rows) -> bytes:
    return pd.DataFrame(rows).to_csv(index=False).encode("utf-8-sig")


def make_round(code: str = "audit-2023", count: int = 6):
    """``count`` provinces on the demo framework, nine criteria self-assessed, and a run of them that keeps every
    criterion proposed for exclusion (those without data), so that it can be published."""
    from questionnaires import read_yaml
    from survey_app.core.demo import demo_framework_path

    framework, _ = frameworks.store_framework(read_yaml(demo_framework_path()))
    table = "code,name\n" + "".join(f"{c},{n}\n" for c, n in zip(UNITS[:count], NAMES[:count]))
    unit_list = units.import_unit_list(
        f"{code}-units", "Sáu tỉnh", "Six provinces", "province", table.encode(), "units.csv", actor=None
    )
    evaluation = rounds.create_round(
        code, 2023, "DTI 2023 (kiểm định)", "DTI 2023 (audit)", framework, unit_list, actor=None
    )
    rows = [
        {"Mã đơn vị": unit, "Mã tiêu chí": criterion, "Giá trị": value, "Minh chứng": "BC 1"}
        for criterion, values in VALUES.items()
        for unit, value in zip(UNITS[:count], values)
    ]
    report = channel_inputs.import_self_assessment(evaluation, _csv(rows), "data.csv", actor=None)
    assert report.rejected == []
    proposed = list(scoring.proposed_exclusions(evaluation)["node"])
    run = scoring.run_scoring(evaluation, excluded=[], kept=proposed, actor=None)
    db.session.commit()
    return run


def _audit(run):
    steps = []
    stored = index_audit.run_index_audit(run.id, lambda *step: steps.append(step), base_samples=BASE_SAMPLES)
    db.session.commit()
    return stored, steps


def _same(stored: list[dict], table: pd.DataFrame) -> bool:
    """The stored records are the table's (NaN stored as None; floats to the ten digits JSON keeps)."""
    records = table.to_dict("records")
    assert len(stored) == len(records)
    for kept, row in zip(stored, records):
        plain = {key: (None if isinstance(value, float) and np.isnan(value) else value) for key, value in row.items()}
        assert kept.keys() == plain.keys()
        for key, value in plain.items():
            if isinstance(value, float):
                assert kept[key] == pytest.approx(value, rel=1e-9, abs=1e-9), (key, row)
            else:
                assert kept[key] == value, (key, row)
    return True


def test_the_stored_audit_is_the_librarys_on_the_runs_snapshot_and_checked_by_hand(app):
    run = make_round()
    stored, steps = _audit(run)
    assert steps == [
        (0, 5, "data_checks"),
        (1, 5, "structure"),
        (2, 5, "scenarios"),
        (3, 5, "uncertainty"),
        (4, 5, "storing"),
        (5, 5, "storing"),
    ]
    document = db.session.get(IndexAudit, stored.id).result

    # the library called directly on the run's snapshot gives the same numbers
    result = scoring.result(run)
    method = {"channels": result.external, "excluded": set(), "normalisation": "none", "exclusion": "redistribute"}
    checks = data_checks(result.framework, result.points, units=UNITS)
    assert _same(document["data"]["criteria"], checks.criteria)
    found = structure(result.framework, result.points, **method)
    assert _same(document["structure"]["correlations"], found.correlations)
    assert _same(document["structure"]["alpha"], found.alpha)
    alternatives = scenarios(result.framework, result.points, pca=found.pca_weights(), **method)
    assert _same(document["scenarios"]["table"], alternatives.table)
    uncertainty = global_uncertainty(
        result.framework,
        result.points,
        **method,
        survey=result.survey,
        expert=result.expert,
        base_samples=BASE_SAMPLES,
        seed=0,
        pca=found.pca_weights(),
    )
    assert _same(document["uncertainty"]["units"], uncertainty.units)
    # the bootstrap's half-widths too: the audit seeds SALib's bootstrap, so the same run gives the same audit
    assert _same(document["uncertainty"]["sobol"], uncertainty.sobol)

    criteria = {row["node"]: row for row in document["data"]["criteria"]}
    # AW.2: one yes among six, x = (1, 0, 0, 0, 0, 0): mean 1/6, m2 = 5/36, m3 = 120/1296, so g1 = 4/√5 and
    # G1 = g1 √(6·5) / 4 = √6; m4 = 630/7776, g2 = 4.2 - 3 = 1.2, G2 = (7 · 1.2 + 6) · 5 / (4 · 3) = 6
    assert criteria["AW.2"]["skewness"] == pytest.approx(6**0.5)
    assert criteria["AW.2"]["kurtosis"] == pytest.approx(6.0)
    assert criteria["AW.2"]["flagged"] and not criteria["INFRA.1"]["flagged"]
    # the survey criteria have no data at all
    assert criteria["AW.3"]["with_data"] == 0 and criteria["AW.3"]["skewness"] is None
    pairs = {(row["first"], row["second"]): row for row in document["structure"]["correlations"]}
    # DG.2 is DG.1 over 80 instead of 100: perfectly correlated, redundant
    assert pairs[("DG.1", "DG.2")]["pearson"] == pytest.approx(1.0)
    assert pairs[("DG.1", "DG.2")]["flag"] == "redundant"
    # SEC.1 (0.2 … 0.9) against SEC.2 (yes, yes, yes, no, no, no)
    sec1 = np.array([0.2, 0.3, 0.4, 0.6, 0.8, 0.9])
    sec2 = np.array([1, 1, 1, 0, 0, 0])
    r = ((sec1 - sec1.mean()) * (sec2 - sec2.mean())).sum() / (
        ((sec1 - sec1.mean()) ** 2).sum() * ((sec2 - sec2.mean()) ** 2).sum()
    ) ** 0.5
    assert pairs[("SEC.1", "SEC.2")]["pearson"] == pytest.approx(r) and r < -0.3
    assert pairs[("SEC.1", "SEC.2")]["flag"] == "negative"
    # AW.1 (1, 1, 1, 0, 1, 0) and AW.2 (1, 0, 0, 0, 0, 0): covariance sum 1/3, squares 4/3 and 5/6, so
    # r = (1/3) / √(10/9) = 1/√10 ≈ 0.316, just above the near-zero line of 0.3
    assert pairs[("AW.1", "AW.2")]["pearson"] == pytest.approx(10**-0.5) and pairs[("AW.1", "AW.2")]["flag"] == ""
    # Cronbach's alpha of SEC, k = 3: variances (n - 1) of SEC.1 (210 - 6 (16/3)²) / 100 / 5, of SEC.2 1.5 / 5,
    # of SEC.E 0 (no expert panel: kept, every unit scores 0), of their sum (690 - 62² / 6) / 100 / 5; alpha is
    # k / (k - 1) (1 - the items' variances / the sum's)
    variance1, variance2 = (210 - 6 * (16 / 3) ** 2) / 100 / 5, 1.5 / 5
    total = (690 - 62**2 / 6) / 100 / 5
    alpha = {row["main_index"]: row["alpha"] for row in document["structure"]["alpha"]}
    assert alpha["SEC"] == pytest.approx(3 / 2 * (1 - (variance1 + variance2 + 0) / total))

    uncertainty_document = document["uncertainty"]
    # four inputs here (no survey, experts, exclusions or channel shares): N (k + 2) = 64 × 6 draws
    assert [row["factor"] for row in uncertainty_document["factors"]] == [
        "normalisation",
        "aggregation",
        "weighting",
        "weights",
    ]
    assert uncertainty_document["draws"] == 64 * 6 and uncertainty_document["level"] == 0.9
    ranking = scoring.ranking(run).set_index("unit")
    for row in uncertainty_document["units"]:
        assert row["rank"] == ranking.loc[row["unit"], "rank"]
        assert row["rank_low"] <= row["median_rank"] <= row["rank_high"]

    # what an official should look at, read from the document
    findings = index_audit.findings(document)
    assert [row["node"] for row in findings.skewed] == ["AW.2"]
    assert [(row["first"], row["second"]) for row in findings.redundant] == [("DG.1", "DG.2")]
    assert [(row["first"], row["second"]) for row in findings.negative] == [("SEC.1", "SEC.2")]
    # the main indices with a correlation with the index near zero or negative, by their stored Pearson's r
    weak = [
        row["first"]
        for row in document["structure"]["correlations"]
        if row["second"] == "index" and row["pearson"] is not None and row["pearson"] < 0.3
    ]
    assert [row["first"] for row in findings.weak_mains] == weak
    # and the main indices that all but decide the index (r > 0.92)
    dominant = [
        row["first"]
        for row in document["structure"]["correlations"]
        if row["flag"] == "redundant" and row["second"] == "index"
    ]
    assert dominant == ["INFRA"]
    read = {("DG.1", "DG.2"), ("SEC.1", "SEC.2")} | {(code, "index") for code in weak + dominant}
    assert {(row["first"], row["second"]) for row in findings.pairs} == read
    assert findings.near_zero == []
    # a tenth of 6 units, rounded up: a unit whose interval reaches more than 1 place from its rank
    assert findings.places == 1
    expected = sorted(
        row["unit"]
        for row in uncertainty_document["units"]
        if max(row["rank"] - row["rank_low"], row["rank_high"] - row["rank"]) > 1
    )
    assert sorted(row["unit"] for row in findings.wide) == expected
    shift = [row for row in uncertainty_document["sobol"] if row["output"] == "mean_shift"]
    assert findings.driver["factor"] == max(shift, key=lambda row: row["total"])["factor"]

    # stored once: asking again returns the same audit, computing nothing
    again, steps = _audit(run)
    assert again.id == stored.id and steps == [(5, 5, "storing")]
    assert db.session.scalar(select(func.count(IndexAudit.id))) == 1
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "scoring.index_audit")) == 1
    with pytest.raises(ServiceError) as caught:
        index_audit.run_index_audit(999, lambda *step: None)
    assert caught.value.code == "unknown_run"


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader

    assert data.startswith(b"%PDF")
    # justified lines come out with doubled spaces
    return " ".join("\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).split())


def test_officers_compute_the_audit_and_staff_read_it_in_both_languages(app, client, create_user, login, run_jobs):
    run = make_round()
    page = f"/scoring/runs/{run.id}/audit"
    # no one without an account
    assert client.get(page).status_code == 302 and "/login" in client.get(page).headers["Location"]
    assert client.get(f"{page}.pdf").status_code == 302
    # a viewer reads, but cannot start it
    login(create_user("viewer"))
    html = client.get(page).get_data(as_text=True)
    assert "Compute the audit" not in html and "Tính" not in html
    assert client.get(f"{page}.pdf").headers["Location"].endswith(page)  # no audit yet: its page
    token = csrf_token(client, page)
    assert client.post(page, data={"csrf_token": token}).status_code == 403
    assert db.session.scalar(select(func.count(IndexAudit.id))) == 0
    client.post("/logout", data={"csrf_token": csrf_token(client, "/dashboard")})

    login(create_user("scoring_officer"))
    app.config["INDEX_AUDIT_BASE_SAMPLES"] = BASE_SAMPLES
    token = csrf_token(client, page)
    # without the form's token nothing is computed
    assert client.post(page).status_code == 400
    response = client.post(page, data={"csrf_token": token})
    # computed as a background job, whose page leads to the audit once it is done
    assert response.status_code == 302 and "/jobs/" in response.headers["Location"]
    run_jobs()
    job_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-state="done"' in job_page and f'href="{page}"' in job_page
    stored = db.session.scalar(select(IndexAudit))
    assert stored.base_samples == BASE_SAMPLES and stored.run_id == run.id

    # Vietnamese first: numbers in its notation, the units' names, the charts drawn on the server
    html = client.get(page).get_data(as_text=True)
    assert "<svg" in html and html.count("<circle") == 6
    assert "2,45" in html and "6,00" in html  # AW.2's skewness and kurtosis
    assert "DG.1–DG.2 (1,00)" in html and "SEC.1–SEC.2" in html
    assert "Tỉnh Một" in html and "Đơn vị" in html
    text = _pdf_text(client.get(f"{page}.pdf").data)
    assert "2,45" in text and "DG.1–DG.2 (1,00)" in text and "Tỉnh Một" in text
    # and in English
    html = client.get(f"{page}?lang=en").get_data(as_text=True)
    assert "What to look at" in html and "2.45" in html and "DG.1–DG.2 (1.00)" in html
    report = client.get(f"{page}.pdf")
    assert report.mimetype == "application/pdf" and report.headers["Content-Disposition"].startswith("attachment")
    text = _pdf_text(report.data)
    assert "What to look at" in text and "2.45" in text and "Rank shifts" in text and "Tỉnh Sáu" in text


def test_an_audit_the_data_cannot_give_is_refused_with_a_message_and_stores_nothing(
    app, client, create_user, login, run_jobs
):
    # two provinces are too few for a correlation
    run = make_round("audit-small", count=2)
    login(create_user("scoring_officer"))
    page = f"/scoring/runs/{run.id}/audit"
    response = client.post(page, data={"csrf_token": csrf_token(client, page)})
    run_jobs()
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-state="failed"' in html
    assert "2 đơn vị là quá ít để tính hệ số tương quan (cần ít nhất 3)" in html
    assert db.session.scalar(select(func.count(IndexAudit.id))) == 0
    assert "The last audit of this run failed" in client.get(f"{page}?lang=en").get_data(as_text=True)


def test_an_audit_stored_by_another_worker_meanwhile_is_the_one_the_run_keeps(app, monkeypatch):
    run = make_round()
    first, _ = _audit(run)
    # a second computation that started before the first was stored: its check found no audit
    stored_before = index_audit.audit_of
    answers = [None]
    monkeypatch.setattr(index_audit, "audit_of", lambda found: answers.pop() if answers else stored_before(found))
    again, steps = _audit(run)
    assert again.id == first.id and steps[-1] == (5, 5, "storing")
    assert db.session.scalar(select(func.count(IndexAudit.id))) == 1
