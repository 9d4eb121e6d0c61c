"""Staff pages of the survey channel: publish, open fieldwork, quotas, invitations, dashboard, exports,
imports and review."""

import csv
import io

import pyreadstat
from openpyxl import load_workbook
from sqlalchemy import func, select

from questionnaires import to_odk_csv
from survey_app.core.demo import demo_bank_path
from survey_app.core.extensions import db
from survey_app.survey import operations as collection
from survey_app.survey.models import Fieldwork, Invitation, InviteeContact, PublishedQuestionnaire, Quota, Response
from tests.conftest import CITIZEN_ANSWERS, csrf_token


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_publish_a_questionnaire_from_an_uploaded_bank(client, survey, create_user, login):
    login(create_user("sample_designer"))
    data = {
        "csrf_token": csrf_token(client, "/questionnaires/publish"),
        "framework_id": survey.framework.id,
        "group": "businesses",
        "code": "businesses",
        "name_vi": "Phiếu doanh nghiệp",
        "bank": (io.BytesIO(demo_bank_path().read_bytes()), "bank.yaml"),
    }
    response = client.post("/questionnaires/publish", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    snapshot = db.session.scalar(select(PublishedQuestionnaire).where(PublishedQuestionnaire.code == "businesses"))
    page = client.get(f"/questionnaires/{snapshot.id}").get_data(as_text=True)
    assert "Doanh nghiệp có sử dụng hóa đơn điện tử không?" in page
    assert client.get(f"/questionnaires/{snapshot.id}/xlsform").status_code == 200


def test_a_bank_with_a_gap_publishes_nothing_and_says_which_criterion(client, survey, create_user, login):
    login(create_user("sample_designer"))
    bank = demo_bank_path().read_text().replace("criterion: DE.2", "criterion: NOT.THERE")
    data = {
        "csrf_token": csrf_token(client, "/questionnaires/publish"),
        "framework_id": survey.framework.id,
        "group": "businesses",
        "code": "b2",
        "name_vi": "x",
        "bank": (io.BytesIO(bank.encode()), "bank.yaml"),
    }
    response = client.post("/questionnaires/publish", data=data, content_type="multipart/form-data")
    assert response.status_code == 400 and "DE.2" in response.get_data(as_text=True)
    assert _count(PublishedQuestionnaire) == 1


def test_open_fieldwork_and_set_quotas(client, survey, create_user, login):
    from survey_app.rounds import operations as rounds

    evaluation = rounds.create_round(
        "r-2023", 2023, "Vòng 2023", "", survey.framework, survey.units[0].unit_list, actor=None
    )
    db.session.commit()
    login(create_user("sample_designer"))
    data = {
        "csrf_token": csrf_token(client, "/fieldwork/new"),
        "code": "citizens-2023",
        "name_vi": "Người dân 2023",
        "questionnaire_id": survey.questionnaire.id,
        "round_id": evaluation.id,
        "mode": "open_link",
        "units": "01, 79",
        "quota_dimensions": "urban, sex",
        "anonymous": "y",
    }
    assert client.post("/fieldwork/new", data=data).status_code == 302
    fieldwork = db.session.scalar(select(Fieldwork).where(Fieldwork.code == "citizens-2023"))
    assert sorted(u.code for u in fieldwork.units) == ["01", "79"]
    bad = b"unit,urban,sex,target\n01,rural,female,5\nXXX,rural,male,3\n"
    response = client.post(
        "/fieldwork/citizens-2023/quotas",
        content_type="multipart/form-data",
        data={"csrf_token": csrf_token(client, "/fieldwork/citizens-2023"), "file": (io.BytesIO(bad), "q.csv")},
    )
    assert response.status_code == 400 and "Dòng 3" in response.get_data(as_text=True)
    assert _count(Quota) == 0
    good = b"unit,urban,sex,target\n01,rural,female,5\n01,urban,male,3\n"
    client.post(
        "/fieldwork/citizens-2023/quotas",
        content_type="multipart/form-data",
        data={"csrf_token": csrf_token(client, "/fieldwork/citizens-2023"), "file": (io.BytesIO(good), "q.csv")},
    )
    assert _count(Quota) == 2
    page = client.get("/fieldwork/citizens-2023").get_data(as_text=True)
    assert "Nông thôn · Nữ: 0/5" in page and "/s/citizens-2023/01" in page and "<svg" in page


def test_invitations_download_their_links_once_and_keep_contacts_apart(client, survey, create_user, login):
    login(create_user("sample_designer"))
    upload = f"unit,name,email,phone\n{survey.units[0].code},Trần Thị B,b@example.vn,0900000000\n".encode()
    response = client.post(
        "/fieldwork/invited/invitations",
        content_type="multipart/form-data",
        data={
            "csrf_token": csrf_token(client, "/fieldwork/invited/invitations"),
            "file": (io.BytesIO(upload), "i.csv"),
        },
    )
    assert response.status_code == 200 and response.mimetype == "text/csv"
    [row] = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert row["email"] == "b@example.vn" and "/i/" in row["link"]
    link = row["link"].split("localhost", 1)[1]
    assert client.get(link).status_code == 200
    assert _count(Invitation) == 1 and _count(InviteeContact) == 1
    invitation = db.session.scalar(select(Invitation))
    assert row["link"].rsplit("/", 1)[1] not in (invitation.token_hash,)


def test_a_refused_invitation_row_is_named_by_its_row_in_the_file_blank_rows_counted(
    client, survey, create_user, login
):
    login(create_user("sample_designer"))
    unit = survey.units[0].code
    upload = f"unit,name\n{unit},An\n\n,\n{unit},Bình\nXXX,Chi\n".encode()  # rows 3 and 4 are blank
    response = client.post(
        "/fieldwork/invited/invitations",
        content_type="multipart/form-data",
        data={
            "csrf_token": csrf_token(client, "/fieldwork/invited/invitations"),
            "file": (io.BytesIO(upload), "i.csv"),
        },
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "XXX" in page and ("Dòng 6:" in page or "Row 6:" in page)
    assert _count(Invitation) == 0


def _responses(survey):
    for index, extra in enumerate([{}, {"comments": "=1+1"}, {"attention": "disagree"}]):
        collection.submit(
            survey.invited,
            survey.units[index % 2],
            CITIZEN_ANSWERS | extra,
            f"s{index}",
            source="api",
            duration_seconds=300 + index,
        )
    db.session.commit()


def test_exports_in_four_formats(client, survey, create_user, login, tmp_path):
    _responses(survey)
    login(create_user("scoring_officer"))
    text = client.get("/fieldwork/invited/responses.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(rows) == 3 and rows[1]["comments"] == "'=1+1"
    sheet = load_workbook(io.BytesIO(client.get("/fieldwork/invited/responses.xlsx").data)).active
    assert sheet.max_row == 4
    for fmt, read in (("sav", pyreadstat.read_sav), ("dta", pyreadstat.read_dta)):
        path = tmp_path / f"r.{fmt}"
        path.write_bytes(client.get(f"/fieldwork/invited/responses.{fmt}").data)
        frame, meta = read(str(path))
        assert len(frame) == 3 and meta.variable_value_labels["sex"][1] == "Nữ"
    assert client.get("/fieldwork/invited/responses.exe").status_code == 404


def test_viewers_see_progress_but_not_answers(client, survey, create_user, login):
    _responses(survey)
    login(create_user("viewer"))
    assert client.get("/fieldwork/invited").status_code == 200
    assert client.get("/fieldwork/invited/responses.csv").status_code == 403


def test_import_odk_csv_through_the_page(client, survey, create_user, login):
    login(create_user("sample_designer"))
    questionnaire = survey.questionnaire.questionnaire
    data = to_odk_csv(questionnaire, [("uuid:a", CITIZEN_ANSWERS), ("uuid:b", CITIZEN_ANSWERS | {"sex": "x"})])
    form = {"csrf_token": csrf_token(client, "/fieldwork/invited"), "unit": survey.units[0].code}
    refused = client.post(
        "/fieldwork/invited/import",
        content_type="multipart/form-data",
        data=form | {"file": (io.BytesIO(data.encode()), "odk.csv")},
    )
    assert refused.status_code == 400 and _count(Response) == 0
    accepted = client.post(
        "/fieldwork/invited/import",
        content_type="multipart/form-data",
        data=form | {"file": (io.BytesIO(data.encode()), "odk.csv"), "accept_valid_rows": "y"},
    )
    assert accepted.status_code == 200 and _count(Response) == 1


def test_flagged_responses_are_excluded_only_with_a_reason(client, survey, create_user, login):
    _responses(survey)
    login(create_user("scoring_officer"))
    page = client.get("/fieldwork/invited/review").get_data(as_text=True)
    flagged = db.session.scalar(select(Response).where(Response.submission_id == "s2"))
    assert f">{flagged.id}<" in page
    token = csrf_token(client, "/fieldwork/invited/review")
    client.post(f"/fieldwork/invited/responses/{flagged.id}/exclusion", data={"csrf_token": token, "exclude": "1"})
    db.session.refresh(flagged)
    assert not flagged.excluded
    client.post(
        f"/fieldwork/invited/responses/{flagged.id}/exclusion",
        data={"csrf_token": token, "exclude": "1", "reason": "chose disagree on the check"},
    )
    db.session.refresh(flagged)
    assert flagged.excluded and flagged.exclusion_reason == "chose disagree on the check"
