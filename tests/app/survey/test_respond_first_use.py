"""What a respondent meets first: the questions in the language they chose, a link already used, a mistyped
resume code, the errors of a page named, "None of these" alone, the unit their link is for, and a colleague's
wrong guesses behind the same address."""

import csv
import io
import re

from markupsafe import escape
from sqlalchemy import func, select

from questionnaires import QuestionType
from questionnaires.exports import response_table, to_csv
from survey_app.core.extensions import db
from survey_app.survey import operations as collection
from survey_app.survey.models import Response, ResponseDraft
from tests.app.survey.test_respond_web import _answer_all, _form, _quota, _sections, _start
from tests.conftest import CITIZEN_ANSWERS, csrf_token


def _block(page: str, code: str) -> str:
    """The HTML of one question on a section page."""
    return re.search(rf'<div class="question[^"]*" id="q-{code}".*?id="{code}-error"', page, re.S).group(0)


def _invited(survey, **options):
    [issued] = collection.issue_invitations(survey.invited, [{"unit": survey.units[0].code}], actor=None)
    for name, value in options.items():
        setattr(survey.invited, name, value)
    db.session.commit()
    return f"/i/{issued.token}"


def _send(client, base, survey):
    token = _answer_all(client, base, survey)
    review = client.get(f"{base}/submit").get_data(as_text=True)
    submission_id = re.search(r'name="submission_id" value="([^"]+)"', review).group(1)
    done = client.post(f"{base}/submit", data={"csrf_token": token, "submission_id": submission_id})
    assert done.status_code == 302
    return done.headers["Location"].rsplit("=", 1)[1]


# --- the content in the chosen language ------------------------------------------------------------------


def test_english_respondents_read_every_question_and_choice_in_english(client, survey):
    base, _ = _start(client, survey)
    assert client.get(f"/language/en?next={base}/0").status_code == 302
    token = csrf_token(client, f"{base}/0")
    for index, section in enumerate(_sections(survey)):
        page = client.get(f"{base}/{index}").get_data(as_text=True)
        assert f"<h1>{escape(section.title.en)}</h1>" in page
        for question in section.questions:
            block = _block(page, question.code)
            assert str(escape(question.text.en)) in block and str(escape(question.text.vi)) not in block
            for choice in question.all_choices():
                assert f"<span>{escape(choice.label.en)}</span>" in block, (question.code, choice.value)
        client.post(f"{base}/{index}", data={"csrf_token": token, "action": "next", **_form(section, CITIZEN_ANSWERS)})
    review = client.get(f"{base}/submit").get_data(as_text=True)
    assert "Satisfied" in review and "Hài lòng" not in review


def test_a_shared_link_with_lang_en_opens_in_english_and_vietnamese_stays_the_default(client, app, survey):
    base = _invited(survey)
    english = client.get(f"{base}/0?lang=en").get_data(as_text=True)
    assert "Have you heard of the province&#39;s digital transformation programme?" in english
    assert "Ông/bà có biết đến chương trình" not in english
    vietnamese = app.test_client().get(f"{base}/0").get_data(as_text=True)
    assert "Ông/bà có biết đến chương trình chuyển đổi số của tỉnh không?" in vietnamese
    assert "<span>Có</span>" in vietnamese


# --- a link already used, a resume code mistyped ---------------------------------------------------------


def test_a_used_invitation_link_thanks_with_when_it_was_sent_and_the_receipt(client, app, survey):
    base = _invited(survey, anonymous=False)
    receipt = _send(client, base, survey)
    other_device = app.test_client()
    for path in (base, f"{base}/0", f"{base}/submit"):
        page = other_device.get(f"{path}?lang=en")
        text = page.get_data(as_text=True)
        assert page.status_code == 410 and "Your answers have already been sent" in text
        assert receipt in text and "Submitted on" in text
        assert "This link cannot be used" not in text


def test_an_anonymous_invitation_says_when_and_the_browser_that_sent_keeps_its_receipt(client, app, survey):
    base = _invited(survey)
    receipt = _send(client, base, survey)
    elsewhere = app.test_client().get(f"{base}?lang=en").get_data(as_text=True)
    # the invitation of an anonymous survey does not know its response, so only the sender's browser has it
    assert "Your answers have already been sent" in elsewhere and "Submitted on" in elsewhere
    assert receipt not in elsewhere
    assert receipt in client.get(f"{base}?lang=en").get_data(as_text=True)


def test_a_resume_code_after_sending_thanks_rather_than_calling_the_link_invalid(client, survey):
    _quota(survey)
    base, _ = _start(client, survey)
    receipt = _send(client, base, survey)
    page = client.get(f"{base}/0?lang=en")
    assert page.status_code == 410 and receipt in page.get_data(as_text=True)


def test_a_wrong_resume_code_says_so_and_the_respondent_can_try_again(client, app, survey):
    _, code = _start(client, survey)
    other = app.test_client()
    other.get("/resume?lang=en")
    token = csrf_token(other, "/resume")
    wrong = other.post("/resume", data={"code": "AAAA-BBBB-CCCC", "csrf_token": token})
    page = wrong.get_data(as_text=True)
    assert wrong.status_code == 404
    assert "No survey in progress has this resume code. Check the code and try again." in page
    assert "This link is not valid" not in page
    assert 'value="AAAA-BBBB-CCCC"' in page and 'aria-invalid="true"' in page
    assert other.post("/resume", data={"code": code, "csrf_token": token}).status_code == 302


# --- the errors of a page --------------------------------------------------------------------------------


def test_the_error_summary_names_each_question_by_number_and_wording_and_links_to_its_field(client, survey):
    base, _ = _start(client, survey)
    client.get("/language/en")
    token = csrf_token(client, f"{base}/0")
    sections = _sections(survey)
    for index, section in enumerate(sections[:-1]):
        client.post(f"{base}/{index}", data={"csrf_token": token, "action": "next", **_form(section, CITIZEN_ANSWERS)})
    last = len(sections) - 1
    response = client.post(f"{base}/{last}", data={"csrf_token": token, "action": "next", "sex": "other"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    summary = re.search(r'<div class="problems".*?</div>', page, re.S).group(0)
    numbers = {q.code: n for n, q in enumerate((q for s in sections for q in s.questions), start=1)}
    for code, text, message in (
        ("attention", "To show that you read the questions carefully", "Please answer"),
        ("sex", "Sex", "Choose one of the answers offered."),
    ):
        item = re.search(rf'<li><a href="#a-{code}">Question {numbers[code]}: ([^<]+)</a> – ([^<]+)</li>', summary)
        assert item and item.group(1).startswith(text) and item.group(2).startswith(message), (code, summary)
        assert f'id="a-{code}"' in page
    assert "province" not in summary  # the link answered it


# --- "None of these" -------------------------------------------------------------------------------------


def test_none_of_these_together_with_another_choice_is_refused_and_nothing_of_it_saved(client, survey):
    base, _ = _start(client, survey)
    client.get("/language/en")
    token = csrf_token(client, f"{base}/0")
    for index in (0, 1):
        client.post(
            f"{base}/{index}",
            data={"csrf_token": token, "action": "next", **_form(_sections(survey)[index], CITIZEN_ANSWERS)},
        )
    page = client.get(f"{base}/2").get_data(as_text=True)
    assert re.search(r'name="q_hr2" value="none"\s+data-exclusive', page)
    message = "“None of these” cannot be chosen together with another answer."
    refused = client.post(f"{base}/2", data={"csrf_token": token, "action": "next", "q_hr2": ["email", "none"]})
    assert refused.status_code == 422 and message in refused.get_data(as_text=True)
    saved = client.post(f"{base}/2/save", data={"q_hr2": ["none", "search"]}, headers={"X-CSRFToken": token})
    assert saved.get_json()["problems"] == {"q_hr2": message}
    draft = db.session.scalar(select(ResponseDraft))
    assert "q_hr2" not in draft.answers and draft.section == 2
    alone = client.post(f"{base}/2", data={"csrf_token": token, "action": "next", "q_hr2": ["none"]})
    assert alone.status_code == 302


# --- the unit comes from the link ------------------------------------------------------------------------


def test_the_province_is_the_link_s_unit_shown_as_a_fixed_choice_and_exported_as_its_code(client, survey):
    unit = survey.units[0]
    _quota(survey)
    base, _ = _start(client, survey)
    token = csrf_token(client, f"{base}/0")
    sections = _sections(survey)
    for index, section in enumerate(sections[:-1]):
        client.post(f"{base}/{index}", data={"csrf_token": token, "action": "next", **_form(section, CITIZEN_ANSWERS)})
    last = len(sections) - 1
    page = client.get(f"{base}/{last}").get_data(as_text=True)
    block = _block(page, "province")
    assert "Tỉnh, thành phố nơi ông/bà (doanh nghiệp) sinh sống, hoạt động" in block
    assert '<select id="a-province" disabled' in block and 'name="province"' not in block
    options = re.findall(r'<option value="([^"]+)"( selected)?>', block)
    assert [value for value, _ in options] == [u.code for u in survey.units]
    assert [value for value, selected in options if selected] == [unit.code]
    # a value typed in by hand changes nothing: the link says which unit the answers are about
    answers = _form(sections[last], CITIZEN_ANSWERS) | {"province": "Cao Bằng"}
    assert client.post(f"{base}/{last}", data={"csrf_token": token, "action": "next", **answers}).status_code == 302
    review = client.get(f"{base}/submit").get_data(as_text=True)
    assert f"<dd>{unit.name}</dd>" in review and "Cao Bằng" not in review
    _send(client, base, survey)
    [stored] = db.session.scalars(select(Response)).all()
    assert "province" not in stored.answers and stored.unit_id == unit.id
    questionnaire = survey.open.questionnaire.questionnaire
    rows = list(
        csv.DictReader(
            io.StringIO(
                to_csv(response_table(questionnaire, collection.export_records(survey.open))).decode("utf-8-sig")
            )
        )
    )
    assert [row["province"] for row in rows] == [unit.code]
    assert [q.type for q in questionnaire.questions() if q.code == "province"] == [QuestionType.UNIT]


# --- a colleague's wrong guesses behind the same address --------------------------------------------------


def test_an_address_that_spent_its_guesses_still_opens_and_answers_valid_links(client, app, survey):
    base = _invited(survey)
    statuses = [client.get(f"/i/guess-{n}").status_code for n in range(21)]
    assert statuses[:20] == [404] * 20 and statuses[20] == 429
    colleague = app.test_client()  # another person in the same office: the same address
    assert colleague.get(base).status_code == 200
    token = csrf_token(colleague, f"{base}/0")
    assert colleague.post(f"{base}/0/save", data={"q_aw3": "yes"}, headers={"X-CSRFToken": token}).status_code == 200
    _send(colleague, base, survey)
    assert db.session.scalar(select(func.count(Response.id))) == 1
    # unknown links are still refused from that address, and do not count once refused
    assert colleague.get("/i/another-guess").status_code == 429
    assert client.get("/r/AAAA-BBBB-CCCC").status_code == 429


def test_over_the_limit_a_resume_code_opens_only_in_the_browser_that_holds_it(client, app, survey):
    base, code = _start(client, survey)
    guesser = app.test_client()
    for n in range(21):
        guesser.get(f"/i/guess-{n}")
    # the respondent goes on answering and saving
    token = csrf_token(client, f"{base}/0")
    assert client.get(f"{base}/0").status_code == 200
    assert client.post(f"{base}/0/save", data={"q_aw3": "no"}, headers={"X-CSRFToken": token}).status_code == 200
    # a code of 60 bits is not tested for anyone else from the address until the window passes
    assert guesser.get(f"/r/{code}/0").status_code == 429
    resume = guesser.post("/resume", data={"code": code, "csrf_token": csrf_token(guesser, "/resume")})
    assert resume.status_code == 429
