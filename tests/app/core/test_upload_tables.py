"""The service's uploads read through the one table reader: a frame and a quota file with semicolons both read
(a frame with semicolons used to be refused while a quota file was taken), and a bad row is named by its row."""

import io

import pytest
from sqlalchemy import func, select

from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.sampling import operations as sampling
from survey_app.survey import operations as collection
from survey_app.survey.models import Quota
from tests.conftest import csrf_token


def test_a_semicolon_frame_and_a_semicolon_quota_file_both_read(survey):
    comma = b"province,urban,population\n01,urban,4000300\n01,rural,4093600\n02,urban,137200\n"
    plans = [
        sampling.sample_plan(
            frame,
            "frame.csv",
            ["province", "urban"],
            "population",
            "proportional",
            total=100,
            margin=None,
            power=0.5,
            minimum=0,
            maximum=None,
            deff=1,
            response_rate=1,
            unit="province",
        )
        for frame in (comma, b"\xef\xbb\xbf" + comma.replace(b",", b";").replace(b"\n", b"\r\n"))
    ]
    assert plans[0].table().equals(plans[1].table())
    code = survey.units[0].code
    assert (
        collection.set_quotas(
            survey.open, f"unit;urban;sex;target\n{code};rural;female;5\n{code};urban;male;3\n".encode(), actor=None
        )
        == 2
    )
    assert db.session.scalar(select(func.count(Quota.id))) == 2


def test_a_quota_row_below_a_blank_row_is_named_by_its_row(survey):
    code = survey.units[0].code
    with pytest.raises(ServiceError) as caught:
        collection.set_quotas(
            survey.open, f"unit,urban,sex,target\n{code},rural,female,5\n\nXX,rural,male,3\n".encode(), actor=None
        )
    assert [(row.line, row.code) for row in caught.value.params["rows"]] == [(4, "unknown_unit")]


def test_an_unreadable_upload_is_refused_naming_its_row(client, survey, create_user, login):
    login(create_user("sample_designer"))
    bad = f"unit,urban,sex,target\n{survey.units[0].code},rural,female,5\nNguy\xean,rural,male,3\n".encode("latin-1")
    response = client.post(
        "/fieldwork/open/quotas",
        content_type="multipart/form-data",
        data={"csrf_token": csrf_token(client, "/fieldwork/open"), "file": (io.BytesIO(bad), "q.csv")},
    )
    assert response.status_code == 400
    assert db.session.scalar(select(func.count(Quota.id))) == 0
    with pytest.raises(ServiceError) as caught:
        collection.set_quotas(survey.open, bad, actor=None)
    assert (caught.value.code, caught.value.params) == ("not_utf8", {"row": 3})
