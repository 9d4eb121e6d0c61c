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
