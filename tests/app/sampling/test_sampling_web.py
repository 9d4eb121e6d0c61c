"""The sample plan page: a frame in, a plan out, errors naming the row."""

import csv
import io
import re
from html.parser import HTMLParser

from tests.conftest import csrf_token

FRAME = (
    "province,urban,population\n01,urban,4000300\n01,rural,4093600\n02,urban,137200\n02,rural,720900\n=cmd,urban,1000\n"
)


def _post(client, content: bytes, **fields):
    data = {
        "csrf_token": csrf_token(client, "/sampling/plan"),
        "file": (io.BytesIO(content), "frame.csv"),
        "strata": "province, urban",
        "count": "population",
        "method": "proportional",
        "total": "1000",
        "power": "0.5",
        "minimum": "0",
        "deff": "1",
        "response_rate": "1",
        "unit": "",
        "action": "show",
    }
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
    response = _post(
        client, FRAME.encode(), method="precision", total="", margin="0.05", deff="1.5", response_rate="0.6"
    )
    assert response.status_code == 200


def test_a_saved_plan_shows_margins_per_unit_and_downloads(client, create_user, login):
    from sqlalchemy import func, select

    from survey_app.core.extensions import db
    from survey_app.sampling.models import SamplePlan

    login(create_user("sample_designer"))
    unnamed = _post(client, FRAME.encode(), action="save", unit="province")
    assert unnamed.status_code == 400 and db.session.scalar(select(func.count(SamplePlan.id))) == 0
    response = _post(client, FRAME.encode(), action="save", unit="province", name="Người dân 2023")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Người dân 2023" in page and "Theo đơn vị" in page
    stored = db.session.scalar(select(SamplePlan))
    assert [row["unit"] for row in stored.units] == ["01", "02", "=cmd"]
    assert sum(row["size"] for row in stored.units) == 1000
    assert "Người dân 2023" in client.get("/sampling/plans").get_data(as_text=True)
    download = client.get(f"/sampling/plans/{stored.id}.csv")
    assert download.get_data(as_text=True).lstrip("\ufeff").startswith("province,urban,population,size")


def _save_plan(survey, sizes):
    from survey_app.core.extensions import db
    from survey_app.sampling.models import SamplePlan

    plan = SamplePlan(
        name="p",
        frame_name="f.csv",
        frame_hash="0" * 64,
        total=sum(sizes.values()),
        parameters={"strata": ["urban"]},
        strata=[{"urban": urban, "population": 100, "size": size} for urban, size in sizes.items()],
    )
    db.session.add(plan)
    db.session.commit()
    return plan


def test_drawing_invitees_gives_their_links_and_a_shortfall_stores_nothing(client, create_user, login, survey):
    from sqlalchemy import func, select

    from survey_app.core.extensions import db
    from survey_app.survey.models import Invitation

    login(create_user("sample_designer"))
    plan = _save_plan(survey, {"urban": 2, "rural": 3})
    unit = survey.units[0].code
    frame = "id,urban,unit,name,email\n" + "".join(
        f"{i},{'urban' if i % 2 else 'rural'},{unit},Người {i},p{i}@example.vn\n" for i in range(10)
    )
    path = "/fieldwork/invited/draw"

    def draw(content):
        return client.post(
            path,
            data={
                "csrf_token": csrf_token(client, path),
                "plan_id": str(plan.id),
                "file": (io.BytesIO(content.encode()), "list.csv"),
                "unit": "unit",
                "method": "srs",
                "seed": "7",
            },
            content_type="multipart/form-data",
        )

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


def test_weighting_page_runs_and_shows_diagnostics_histogram_and_estimates(
    client, create_user, login, survey, run_jobs
):
    from sqlalchemy import func, select

    from survey_app.core.extensions import db
    from survey_app.sampling.models import WeightingRun
    from survey_app.survey import operations as collection
    from tests.conftest import CITIZEN_ANSWERS

    first, second = survey.units[0], survey.units[1]
    for index, (unit, sex, aware) in enumerate(
        [
            (first, "female", "yes"),
            (first, "male", "no"),
            (first, "male", "no"),
            (second, "female", "yes"),
            (second, "male", "yes"),
        ]
    ):
        collection.submit(
            survey.invited, unit, CITIZEN_ANSWERS | {"sex": sex, "q_aw3": aware}, f"s{index}", source="api"
        )
    db.session.commit()
    login(create_user("scoring_officer"))
    path = "/fieldwork/invited/weighting"
    assert "sex: Giới tính" in client.get(path).get_data(as_text=True)

    def run(population):
        return client.post(
            path,
            data={
                "csrf_token": csrf_token(client, path),
                "margins": ["sex"],
                "method": "rake",
                "count": "population",
                "lower": "",
                "upper": "",
                "file": (io.BytesIO(population.encode()), "population.csv"),
            },
            content_type="multipart/form-data",
        )

    bad = run(
        f"unit,sex,population\n{first.code},female,10\n{first.code},male,10\n{second.code},female,5\n"
        f"{second.code},male,5\n{survey.units[2].code},female,3\n"
    )
    # a population cell nobody answered from is found by the weighting itself: the job fails, saying which
    assert bad.status_code == 302
    run_jobs()
    failed = client.get(bad.headers["Location"]).get_data(as_text=True)
    assert 'data-state="failed"' in failed and f"{survey.units[2].code} × female" in failed
    assert db.session.scalar(select(func.count(WeightingRun.id))) == 0
    assert "The last weighting run failed" in client.get(path + "?lang=en").get_data(as_text=True)
    client.get(path + "?lang=vi")
    # a file that does not read is refused at once, on the form
    unreadable = run("unit,sex\n")
    assert unreadable.status_code == 400 and "population" in unreadable.get_data(as_text=True)
    response = run(
        f"unit,sex,population\n{first.code},female,600\n{first.code},male,400\n{second.code},female,5\n"
        f"{second.code},male,5\n"
    )
    assert response.status_code == 302
    # the run is a background job: its page shows the progress, then links to the run it made
    job_page = response.headers["Location"]
    assert "/jobs/" in job_page
    run_jobs()
    job_html = client.get(job_page).get_data(as_text=True)
    assert 'data-state="done"' in job_html and 'value="100"' in job_html
    run_page = re.search(r'href="([^"]*/weighting/\d+)"', job_html).group(1)
    assert db.session.scalar(select(func.count(WeightingRun.id))) == 1
    page = client.get(run_page).get_data(as_text=True)
    assert "<rect class=\"fill\"" in page and "AW.3" in page
    # unit 1: women 600 of 1,000 all aware, men none: a weighted 60% against 33.3% unweighted
    assert ">33,3<" in page and ">60,0<" in page
    estimates = client.get(run_page + ".csv").get_data(as_text=True)
    assert estimates.lstrip("\ufeff").startswith("criterion,unit,rule,respondents")


class _FormDefaults(HTMLParser):
    """What a browser sends for a form left as it is shown: its text inputs and each select's selected option."""

    def __init__(self):
        super().__init__()
        self.values, self._select = {}, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input" and attrs.get("type") not in ("file", "submit") and attrs.get("name"):
            self.values[attrs["name"]] = attrs.get("value") or ""
        elif tag == "select":
            self._select = attrs["name"]
        elif tag == "option" and self._select and ("selected" in attrs or self._select not in self.values):
            self.values[self._select] = attrs["value"]

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def _shipped_frame() -> bytes:
    from survey_app.core.demo import demo_population_path

    return demo_population_path().read_bytes()


def test_the_forms_defaults_plan_the_shipped_frame(client, create_user, login):
    from sqlalchemy import select

    from survey_app.core.extensions import db
    from survey_app.sampling.models import SamplePlan

    login(create_user("sample_designer"))
    page = client.get("/sampling/plan").get_data(as_text=True)
    assert '<option value="neyman">' in page
    defaults = _FormDefaults()
    defaults.feed(page)
    data = defaults.values | {
        "file": (io.BytesIO(_shipped_frame()), "population-citizens-2023.csv"),
        "name": "Người dân 2023",
        "action": "save",
    }
    response = client.post("/sampling/plan", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    stored = db.session.scalar(select(SamplePlan))
    # the shipped frame counts unit × urban/rural × sex × age: a stratum's population is the sum of its 12 rows
    rows = list(csv.DictReader(io.StringIO(_shipped_frame().decode())))
    hand = {}
    for row in rows:
        hand[(row["unit"], row["urban"])] = hand.get((row["unit"], row["urban"]), 0) + int(row["population"])
    # the 63 provinces' towns and countryside
    assert len(hand) == 126 and len(stored.strata) == 126 and stored.total == 3000
    assert {(r["stratum"]["unit"], r["stratum"]["urban"]): r["population"] for r in stored.strata} == hand
    assert [row["unit"] for row in stored.units] == list(dict.fromkeys(row["unit"] for row in rows))
    assert len(stored.units) == 63


def test_a_frame_stratified_by_size_saves_and_shows_its_numbers(client, create_user, login):
    frame = b"size,sector,population\nsmall,industry,100\nsmall,services,300\nlarge,industry,600\n"
    login(create_user("sample_designer"))
    response = _post(client, frame, strata="size, sector", total="100", unit="size", name="Doanh nghiệp", action="save")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    # 100, 300, 600 of 1,000 → 10, 30, 60; unit small: 400 and 40 (codes shown as words)
    assert re.search(
        r"<td>Nhỏ</td><td>Công nghiệp và xây dựng</td>\s*<td class=\"num\">100</td>"
        r"<td class=\"num\">10</td>",
        page,
    )
    assert re.search(r"<td>Nhỏ</td><td class=\"num\">400</td><td class=\"num\">40</td>", page)
    download = client.get(response.headers["Location"] + ".csv").get_data(as_text=True).lstrip("\ufeff")
    assert download.splitlines()[0] == "size,sector,population,plan_size,margin_of_error,expected_respondents"
    assert download.splitlines()[3].startswith("large,industry,600.0,60,")


def test_a_frame_with_more_columns_than_strata_is_added_up(client, create_user, login):
    frame = (
        b"province,urban,sex,population\n01,urban,female,1200\n01,urban,male,1100\n01,rural,female,3000\n"
        b"01,rural,male,2900\n"
    )
    login(create_user("sample_designer"))
    response = _post(client, frame, total="82")
    assert response.status_code == 200
    # 2,300 and 5,900 of 8,200: × 82 → 23 and 59
    page = response.get_data(as_text=True)
    assert '<td class="num">2.300</td><td class="num">23</td>' in page
    assert '<td class="num">5.900</td><td class="num">59</td>' in page


def test_neyman_allocation_is_offered_with_the_column_it_needs(client, create_user, login):
    frame = b"province,urban,population,aware\n01,urban,100,0.5\n01,rural,400,0.1\n"
    login(create_user("sample_designer"))
    client.get("/language/en")  # the new messages are in the catalogues once they are merged
    missing = _post(client, frame, method="neyman", total="50")
    assert missing.status_code == 400
    assert (
        "Neyman allocation needs the column of each stratum's standard deviation or expected proportion."
        in missing.get_data(as_text=True)
    )
    response = _post(client, frame, method="neyman", total="50", sd_column="aware", sd_kind="proportion")
    assert response.status_code == 200
    # N S = 100 × 0.5 and 400 × 0.3: 50 and 120 of 170; × 50 → 14.7 and 35.3 → 15 and 35
    page = response.get_data(as_text=True)
    assert '<td class="num">100</td><td class="num">15</td>' in page
    assert '<td class="num">400</td><td class="num">35</td>' in page
    bad = _post(client, frame.replace(b"0.1", b"abc"), method="neyman", total="50", sd_column="aware")
    assert bad.status_code == 400 and "Row 3 has an invalid value “abc” in column “aware”." in bad.get_data(
        as_text=True
    )


def test_margins_show_one_decimal_in_the_visitors_notation_and_codes_as_words(client, create_user, login):
    login(create_user("sample_designer"))
    response = _post(client, b"province,urban,population\n01,urban,1000\n01,rural,3000\n", total="400", unit="province")
    page = response.get_data(as_text=True)
    # urban: 1.96 sqrt(0.25 × 0.9 / 100) = 9.297%; rural 1.96 sqrt(0.25 × 0.9 / 300) = 5.368%; the province:
    # 1.96 sqrt(0.25² × 0.225 / 100 + 0.75² × 0.225 / 300) = 4.648%
    assert "± 9,3%" in page and "± 5,4%" in page and "± 4,6%" in page
    assert not re.search(r"± \d+,\d\d", page)
    assert "<td>Nông thôn</td>" in page and "<td>rural</td>" not in page
    client.get("/language/en")
    assert "± 9.3%" in _post(
        client, b"province,urban,population\n01,urban,1000\n01,rural,3000\n", total="400"
    ).get_data(as_text=True)


#: an upper bound of a character's width in the chart, in ems (DejaVu Sans's digits: 0.64), and its font size
GLYPH, FONT = 0.7, 12


def _text_boxes(svg: str) -> list[tuple[float, float, float, str]]:
    """Every <text> of the chart as (left, right, baseline, text), by its anchor."""
    boxes = []
    for attributes, content in re.findall(r"<text ([^>]*)>([^<]*)</text>", svg):
        x = float(re.search(r'\bx="([-\d.]+)"', attributes).group(1))
        y = float(re.search(r'\by="([-\d.]+)"', attributes).group(1))
        width = len(content) * GLYPH * FONT
        left = x - width / 2 if 'text-anchor="middle"' in attributes else x
        boxes.append((left, left + width, y, content))
    return boxes


def test_the_weight_histograms_labels_never_overlap(client, create_user, login, survey):
    from survey_app.core.extensions import db
    from survey_app.sampling.models import WeightingRun
    from survey_app.sampling.operations import HISTOGRAM_EDGES

    counts = [0, 12, 345, 1234, 2345, 678, 90, 12, 3, 1]
    histogram = [
        {"low": low, "high": None if high == float("inf") else high, "count": count}
        for low, high, count in zip(HISTOGRAM_EDGES[:-1], HISTOGRAM_EDGES[1:], counts)
    ]
    overall = {
        "n": sum(counts),
        "total": 1e6,
        "minimum": 0.1,
        "maximum": 9.5,
        "ratio": 95.0,
        "effective_n": 3000.5,
        "deff_weighting": 1.57,
        "iterations": 7,
        "converged": True,
    }
    run = WeightingRun(
        fieldwork_id=survey.invited.id,
        method="rake",
        margins=["sex"],
        lower=None,
        upper=None,
        population_name="p.csv",
        population_hash="0" * 64,
        histogram=histogram,
        estimates=[],
        diagnostics={"overall": overall, "units": {}},
    )
    db.session.add(run)
    db.session.commit()
    login(create_user("scoring_officer"))
    page = client.get(f"/fieldwork/invited/weighting/{run.id}").get_data(as_text=True)
    svg = re.search(r'<svg class="bars".*?</svg>', page, re.S).group(0)
    boxes = _text_boxes(svg)
    labels = [box[3] for box in boxes]
    assert "0,25–0,5" in labels and "≥ 5" in labels and "2.345" in labels  # the visitor's notation
    for index, first in enumerate(boxes):
        for second in boxes[index + 1 :]:
            same_line = abs(first[2] - second[2]) < FONT
            assert not (same_line and first[0] < second[1] and second[0] < first[1]), (first, second)
    view_box = [float(v) for v in re.search(r'viewBox="([^"]+)"', svg).group(1).split()]
    assert all(view_box[0] <= box[0] and box[1] <= view_box[0] + view_box[2] for box in boxes)
