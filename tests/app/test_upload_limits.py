"""Uploads past the limits are refused before any of them is read: a body over MAX_CONTENT_LENGTH, and a
multipart request of thousands of parts (Flask's form-parts limit), each with the translated 413 page, and
nothing stored."""
import io
import time

from sqlalchemy import func, select

from survey_app.extensions import db
from survey_app.models import SelfAssessment
from tests.conftest import csrf_token


def test_a_file_over_the_size_limit_gets_a_translated_413(app, survey, client, create_user, login):
    from survey_app.services import rounds, units

    unit_list = units.load_shipped_unit_lists()["provinces-2019"]
    rounds.create_round("limits-2023", 2023, "Thử", "Test", survey.framework, unit_list, actor=None)
    db.session.commit()
    login(create_user("scoring_officer"))
    token = csrf_token(client, "/scoring/limits-2023")
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    big = b"unit,criterion,value\n" + b"01,AW.1,1\n" * 20000
    response = client.post("/scoring/limits-2023/self-assessment", content_type="multipart/form-data",
                           data={"self-csrf_token": token, "self-file": (io.BytesIO(big), "big.csv")})
    assert response.status_code == 413
    assert "Tệp quá lớn" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(SelfAssessment.id))) == 0


def test_thousands_of_form_parts_are_refused_quickly(client):
    boundary = "xyz"
    parts = "".join(f'--{boundary}\r\nContent-Disposition: form-data; name="f{n}"\r\n\r\nv\r\n' for n in range(5000))
    body = (parts + f"--{boundary}--\r\n").encode()
    started = time.perf_counter()
    response = client.post("/login", data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert response.status_code == 413 and time.perf_counter() - started < 2
