"""The sample plan page: a frame in, a plan out, errors naming the row."""
import io

from tests.conftest import csrf_token

FRAME = ("province,urban,population\n01,urban,4000300\n01,rural,4093600\n02,urban,137200\n02,rural,720900\n"
         "=cmd,urban,1000\n")


def _post(client, content: bytes, **fields):
    data = {"csrf_token": csrf_token(client, "/sampling/plan"), "file": (io.BytesIO(content), "frame.csv"),
            "strata": "province, urban", "count": "population", "method": "proportional", "total": "1000",
            "power": "0.5", "minimum": "0", "deff": "1", "response_rate": "1", "action": "show"}
    data.update(fields)
    return client.post("/sampling/plan", data=data, content_type="multipart/form-data")


def test_plan_table_and_download(client, create_user, login):
    login(create_user("sample_designer"))
    response = _post(client, FRAME.encode())
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "1.000 lời mời" in page or "1.000" in page
    # proportional: 4,000,300 / 8,953,000 × 1000 = 446.81 → 447
    assert "<td class=\"num\">447</td>" in page
    download = _post(client, FRAME.encode(), action="download")
    assert download.headers["Content-Disposition"] == "attachment; filename=sample-plan.csv"
    lines = download.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0] == "province,urban,population,size,margin_of_error,expected_respondents"
    assert lines[1].startswith("01,urban,4000300.0,447,")
    assert lines[-1].startswith("'=cmd,urban,")  # a formula is neutralised in the export


def test_bad_frame_names_the_row_and_impossible_minimum_is_explained(client, create_user, login):
    login(create_user("sample_designer"))
    response = _post(client, b"province,urban,population\n01,urban,-4\n")
    assert response.status_code == 400
    assert "Dòng 2 có số dân không hợp lệ “-4”." in response.get_data(as_text=True)
    response = _post(client, FRAME.encode(), minimum="300")
    assert response.status_code == 400
    assert "tối thiểu 300" in response.get_data(as_text=True)


def test_precision_method_needs_a_margin(client, create_user, login):
    login(create_user("sample_designer"))
    response = _post(client, FRAME.encode(), method="precision", total="")
    assert response.status_code == 400
    response = _post(client, FRAME.encode(), method="precision", total="", margin="0.05", deff="1.5",
                     response_rate="0.6")
    assert response.status_code == 200


def test_a_saved_plan_shows_margins_per_unit_and_downloads(client, create_user, login):
    from sqlalchemy import func, select

    from survey_app.extensions import db
    from survey_app.models import SamplePlan

    login(create_user("sample_designer"))
    unnamed = _post(client, FRAME.encode(), action="save", unit="province")
    assert unnamed.status_code == 400 and db.session.scalar(select(func.count(SamplePlan.id))) == 0
    response = _post(client, FRAME.encode(), action="save", unit="province", name="Người dân 2023")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Người dân 2023" in page and "Theo đơn vị" in page
    stored = db.session.scalar(select(SamplePlan))
    assert [row["province"] for row in stored.units] == ["01", "02", "=cmd"]
    assert sum(row["size"] for row in stored.units) == 1000
    assert "Người dân 2023" in client.get("/sampling/plans").get_data(as_text=True)
    download = client.get(f"/sampling/plans/{stored.id}.csv")
    assert download.get_data(as_text=True).lstrip("\ufeff").startswith("province,urban,population,size")


def _save_plan(survey, sizes):
    from survey_app.extensions import db
    from survey_app.models import SamplePlan

    plan = SamplePlan(name="p", frame_name="f.csv", frame_hash="0" * 64, total=sum(sizes.values()),
                      parameters={"strata": ["urban"]},
                      strata=[{"urban": urban, "population": 100, "size": size} for urban, size in sizes.items()])
    db.session.add(plan)
    db.session.commit()
    return plan


def test_drawing_invitees_gives_their_links_and_a_shortfall_stores_nothing(client, create_user, login, survey):
    from sqlalchemy import func, select

    from survey_app.extensions import db
    from survey_app.models import Invitation

    login(create_user("sample_designer"))
    plan = _save_plan(survey, {"urban": 2, "rural": 3})
    unit = survey.units[0].code
    frame = "id,urban,unit,name,email\n" + "".join(
        f"{i},{'urban' if i % 2 else 'rural'},{unit},Người {i},p{i}@example.vn\n" for i in range(10))
    path = "/fieldwork/invited/draw"

    def draw(content):
        return client.post(path, data={"csrf_token": csrf_token(client, path), "plan_id": str(plan.id),
                                       "file": (io.BytesIO(content.encode()), "list.csv"), "unit": "unit",
                                       "method": "srs", "seed": "7"}, content_type="multipart/form-data")

    response = draw(frame)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0] == "id,urban,unit,name,email,inclusion_probability,link" and len(lines) == 6
    assert "/i/" in lines[1]
    invitations = db.session.scalars(select(Invitation)).all()
    assert sorted(i.stratum for i in invitations) == ["rural"] * 3 + ["urban"] * 2
    assert {round(i.inclusion_probability, 6) for i in invitations} == {0.4, 0.6}
    assert invitations[0].contact.email.endswith("@example.vn")
    short = draw("id,urban,unit\n1,urban," + unit + "\n")
    assert short.status_code == 400 and "Tầng rural không có ai trong danh sách." in short.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Invitation.id))) == 5


def test_weighting_page_runs_and_shows_diagnostics_histogram_and_estimates(client, create_user, login, survey):
    from sqlalchemy import func, select

    from survey_app.extensions import db
    from survey_app.models import WeightingRun
    from survey_app.services import collection
    from tests.conftest import CITIZEN_ANSWERS

    first, second = survey.units[0], survey.units[1]
    for index, (unit, sex, aware) in enumerate([(first, "female", "yes"), (first, "male", "no"),
                                                (first, "male", "no"), (second, "female", "yes"),
                                                (second, "male", "yes")]):
        collection.submit(survey.invited, unit, CITIZEN_ANSWERS | {"sex": sex, "q_aw3": aware}, f"s{index}",
                          source="api")
    db.session.commit()
    login(create_user("scoring_officer"))
    path = "/fieldwork/invited/weighting"
    assert "sex: Giới tính" in client.get(path).get_data(as_text=True)

    def run(population):
        return client.post(path, data={"csrf_token": csrf_token(client, path), "margins": ["sex"],
                                       "method": "rake", "count": "population", "lower": "", "upper": "",
                                       "file": (io.BytesIO(population.encode()), "population.csv")},
                           content_type="multipart/form-data")

    bad = run(f"unit,sex,population\n{first.code},female,10\n{first.code},male,10\n{second.code},female,5\n"
              f"{second.code},male,5\n{survey.units[2].code},female,3\n")
    assert bad.status_code == 400
    assert f"{survey.units[2].code} × female" in bad.get_data(as_text=True)
    assert db.session.scalar(select(func.count(WeightingRun.id))) == 0
    response = run(f"unit,sex,population\n{first.code},female,600\n{first.code},male,400\n{second.code},female,5\n"
                   f"{second.code},male,5\n")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<rect class=\"fill\"" in page and "AW.3" in page
    # unit 1: women 600 of 1,000 all aware, men none: a weighted 60% against 33.3% unweighted
    assert ">33,3<" in page and ">60<" in page
    estimates = client.get(response.headers["Location"] + ".csv").get_data(as_text=True)
    assert estimates.lstrip("\ufeff").startswith("criterion,unit,rule,respondents")
