"""The demo as a new user meets it: its 2023 run excludes the criteria too few provinces have data for (the
business survey reached five of them; the citizen survey all 63), and its pages, exports and publication work
for every demo account."""

import io

import pandas as pd
import pytest
from sqlalchemy import select

from survey_app.core.demo import DEMO_ACCOUNTS, DEMO_ROUND
from survey_app.core.extensions import db
from survey_app.publication import operations as publication
from survey_app.rounds.models import EvaluationRound
from survey_app.scoring import operations as scoring
from tests.conftest import csrf_token


def _logged_in(app, email, password):
    client = app.test_client()
    response = client.post(
        "/login", data={"email": email, "password": password, "csrf_token": csrf_token(client, "/login")}
    )
    assert response.status_code == 302, email
    return client


def test_the_demo_run_with_confirmed_exclusions_answers_every_role_and_publishes(app, runner):
    # seeding takes seconds: one seeded demo for every check below
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    evaluation = db.session.scalar(select(EvaluationRound).where(EvaluationRound.code == DEMO_ROUND))
    [run] = scoring.runs(evaluation)
    # the business survey's criteria are excluded; the citizen survey's, estimated in every province, are scored
    assert {"DE.1", "DE.2"} <= set(run.excluded) and not {"AW.3", "DG.3", "DS.1"} & set(run.excluded)
    assert {"AW.3", "DG.3", "DS.1"} <= {row["criterion"] for row in run.inputs["survey"]}
    base = f"/scoring/runs/{run.id}"
    for email, _name, role, password in DEMO_ACCOUNTS:
        client = _logged_in(app, email, password)
        assert client.get(base).status_code == 200, role
        exported = client.get(f"{base}/ranking.csv")
        assert exported.status_code == 200, role
        table = pd.read_csv(io.BytesIO(exported.data), dtype={"unit": str})
        assert len(table) == 63 and dict(zip(table["unit"], table["index"])) == pytest.approx(run.index)
        assert (table["index_low"] <= table["index"] + 1e-12).all() and (
            table["index"] <= table["index_high"] + 1e-12
        ).all()
        excel = client.get(f"{base}/ranking.xlsx")
        assert excel.status_code == 200, role
        assert len(pd.read_excel(io.BytesIO(excel.data))) == 63
        assert client.get(f"{base}/units/01").status_code == 200, role
    assert publication.exclusion_decisions(run) and all(
        entry["decision"] == "excluded" for entry in publication.exclusion_decisions(run)
    )

    # the scoring officer publishes it through the confirmation page
    email, _name, _role, password = DEMO_ACCOUNTS[2]
    officer = _logged_in(app, email, password)
    officer.get("/?lang=en")
    page = officer.get(f"{base}/publish").get_data(as_text=True)
    assert "<dt>Units ranked</dt><dd>63</dd>" in page and 'name="confirm"' in page
    response = officer.post(
        f"{base}/publish", data={"csrf_token": csrf_token(officer, f"{base}/publish"), "confirm": "y"}
    )
    assert response.status_code == 302
    visitor = app.test_client()
    assert visitor.get(f"/results/{DEMO_ROUND}").status_code == 200
    assert visitor.get(f"/results/{DEMO_ROUND}/units/01").status_code == 200
    assert visitor.get(f"/results/{DEMO_ROUND}/ranking.csv").status_code == 200
