"""The survey channel's storage rules on PostgreSQL: snapshots, exactly-once submissions, atomic quotas,
invitations, drafts and imports."""

from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from questionnaires import RespondentGroup, to_odk_csv
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.survey import operations as collection
from survey_app.survey.models import Invitation, InviteeContact, Quota, Response, ResponseDraft
from tests.conftest import CITIZEN_ANSWERS


def _count(model=Response, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _set_quota(survey, target, unit=0, urban="rural", sex="female"):
    data = f"unit,urban,sex,target\n{survey.units[unit].code},{urban},{sex},{target}\n".encode()
    collection.set_quotas(survey.open, data, actor=None)
    db.session.commit()


def test_publishing_the_same_content_keeps_the_version_and_a_change_makes_a_new_one(survey):
    again, new = collection.publish_questionnaire(
        survey.framework, RespondentGroup.CITIZENS, survey.bank, code="citizens", name_vi="x", name_en="x", actor=None
    )
    assert (again.id, new) == (survey.questionnaire.id, False)
    first = survey.bank.questions[0]
    survey.bank.questions[0] = replace(first, text=replace(first.text, vi=first.text.vi + " (sửa)"))
    changed, new = collection.publish_questionnaire(
        survey.framework, RespondentGroup.CITIZENS, survey.bank, code="citizens", name_vi="x", name_en="x", actor=None
    )
    assert new and changed.version == 2 and survey.questionnaire.version == 1


def test_publishing_with_a_coverage_gap_is_refused(survey):
    survey.bank.questions[:] = [q for q in survey.bank.questions if q.code != "q_aw3"]
    with pytest.raises(ServiceError) as error:
        collection.publish_questionnaire(
            survey.framework, RespondentGroup.CITIZENS, survey.bank, code="c2", name_vi="x", name_en="x", actor=None
        )
    assert error.value.code == "coverage_gaps" and error.value.params == {"criteria": "AW.3"}


def test_the_same_submission_twice_stores_one_response(survey):
    unit = survey.units[0]
    _set_quota(survey, 10)
    first = collection.submit(survey.open, unit, CITIZEN_ANSWERS, "abc", source="api")
    db.session.commit()
    second = collection.submit(survey.open, unit, dict(CITIZEN_ANSWERS), "abc", source="api")
    db.session.commit()
    assert (first.replay, second.replay, second.response.id) == (False, True, first.response.id)
    assert _count() == 1
    assert db.session.scalar(select(Quota.filled)) == 1


def test_a_different_payload_under_the_same_identifier_is_a_conflict(survey):
    _set_quota(survey, 10)
    collection.submit(survey.open, survey.units[0], CITIZEN_ANSWERS, "abc", source="api")
    db.session.commit()
    with pytest.raises(ServiceError) as error:
        collection.submit(survey.open, survey.units[0], CITIZEN_ANSWERS | {"q_aw3": "no"}, "abc", source="api")
    assert error.value.code == "submission_conflict"


def _concurrently(app, count, submission_id, unit_code):
    def one(index):
        with app.app_context():
            fieldwork = collection.get_fieldwork("open")
            unit = next(u for u in fieldwork.units if u.code == unit_code)
            try:
                outcome = collection.submit(fieldwork, unit, CITIZEN_ANSWERS, submission_id(index), source="api")
                db.session.commit()
                return "replay" if outcome.replay else "stored"
            except ServiceError as error:
                db.session.rollback()
                return error.code
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))


def test_fifty_concurrent_copies_of_a_submission_store_one(app, survey):
    _set_quota(survey, 100)
    outcomes = _concurrently(app, 50, lambda i: "same-id", survey.units[0].code)
    assert sorted(set(outcomes)) == ["replay", "stored"] and outcomes.count("stored") == 1
    assert _count() == 1
    assert db.session.scalar(select(Quota.filled)) == 1


def test_twenty_concurrent_submissions_into_five_places_accept_exactly_five(app, survey):
    _set_quota(survey, 5)
    outcomes = _concurrently(app, 20, lambda i: f"id-{i}", survey.units[0].code)
    assert outcomes.count("stored") == 5 and outcomes.count("quota_full") == 15
    assert _count() == 5
    assert db.session.scalar(select(Quota.filled)) == 5


def test_a_stratum_without_a_quota_is_refused_and_nothing_stored(survey):
    _set_quota(survey, 5)
    with pytest.raises(ServiceError) as error:
        collection.submit(survey.open, survey.units[0], CITIZEN_ANSWERS | {"sex": "male"}, "x", source="api")
    assert error.value.code == "not_in_quota"
    db.session.rollback()
    assert _count() == 0


def test_invalid_answers_name_the_questions_and_store_nothing(survey):
    with pytest.raises(ServiceError) as error:
        collection.submit(
            survey.invited, survey.units[0], CITIZEN_ANSWERS | {"q_dg4": "7", "age": None}, "x", source="api"
        )
    assert error.value.code == "invalid_answers"
    assert {k: str(v) for k, v in error.value.params["problems"].items()} == {
        "q_dg4": "not_a_choice",
        "age": "required",
    }
    db.session.rollback()
    assert _count() == 0


def test_none_of_these_with_another_choice_is_refused_whatever_the_channel(survey):
    for channel in ("api", "import"):
        with pytest.raises(ServiceError) as error:
            collection.submit(
                survey.invited,
                survey.units[0],
                CITIZEN_ANSWERS | {"q_hr2": ["payment", "none"]},
                channel,
                source=channel,
            )
        assert error.value.code == "invalid_answers"
        assert {k: str(v) for k, v in error.value.params["problems"].items()} == {"q_hr2": "exclusive_choice"}
    db.session.rollback()
    assert _count() == 0


def test_a_used_link_of_a_named_survey_gives_the_response_s_receipt(survey):
    survey.invited.anonymous = False
    [issued] = collection.issue_invitations(survey.invited, [{"unit": survey.units[0].code}], actor=None)
    draft = collection.open_invitation(issued.token)
    outcome = collection.submit(survey.invited, draft.unit, CITIZEN_ANSWERS, "s1", source="web", draft=draft)
    db.session.commit()
    with pytest.raises(ServiceError) as error:
        collection.open_invitation(issued.token)
    assert error.value.params == {
        "submitted_at": outcome.response.submitted_at,
        "receipt": collection.receipt(outcome.response),
    }


def test_quota_file_errors_name_each_row_and_store_nothing(survey):
    data = (
        f"unit,urban,sex,target\nXX,rural,female,5\n{survey.units[0].code},town,female,5\n"
        f"{survey.units[0].code},rural,female,-1\n"
    ).encode()
    with pytest.raises(ServiceError) as error:
        collection.set_quotas(survey.open, data, actor=None)
    assert [(p.line, p.code) for p in error.value.params["rows"]] == [
        (2, "unknown_unit"),
        (3, "unknown_level"),
        (4, "invalid_target"),
    ]
    db.session.rollback()
    assert _count(Quota) == 0


def test_an_invitation_gives_one_response_and_an_anonymous_one_forgets_the_link(survey):
    [issued] = collection.issue_invitations(
        survey.invited,
        [
            {
                "unit": survey.units[1].code,
                "name": "Nguyễn Văn A",
                "email": "a@example.vn",
                "stratum": "rural",
                "inclusion_probability": "0.01",
            }
        ],
        actor=None,
    )
    db.session.commit()
    draft = collection.open_invitation(issued.token)
    collection.save_draft(draft, 0, {"q_aw3": "yes"}, moving_on=False)
    db.session.commit()
    draft = collection.open_invitation(issued.token)
    assert draft.answers == {"q_aw3": "yes"}
    collection.submit(survey.invited, draft.unit, CITIZEN_ANSWERS, "s1", source="web", draft=draft)
    db.session.commit()
    invitation = db.session.scalar(select(Invitation))
    assert invitation.submitted_at is not None and invitation.response_id is None
    assert _count(ResponseDraft) == 0
    with pytest.raises(ServiceError) as error:
        collection.open_invitation(issued.token)
    assert error.value.code == "link_used"
    # the link says when it was used, but not which response it gave: the survey is anonymous
    assert error.value.params == {"submitted_at": invitation.submitted_at, "receipt": None}
    # the contact is stored apart from the answers, and the response carries none of it
    assert db.session.scalar(select(InviteeContact.email)) == "a@example.vn"
    assert "a@example.vn" not in str(db.session.scalar(select(Response.answers)))


def test_a_revoked_invitation_is_refused(survey):
    [issued] = collection.issue_invitations(survey.invited, [{"unit": survey.units[0].code}], actor=None)
    collection.revoke_invitation(issued.invitation, actor=None, reason="asked to be left out")
    db.session.commit()
    with pytest.raises(ServiceError) as error:
        collection.open_invitation(issued.token)
    assert error.value.code == "link_revoked"
    with pytest.raises(ServiceError) as error:
        collection.open_invitation("not-a-token")
    assert error.value.code == "unknown_link"


def test_open_link_drafts_resume_with_their_code_and_screen_out_full_strata(survey):
    _set_quota(survey, 0)
    draft, code = collection.start_open_draft(survey.open, survey.units[0])
    db.session.commit()
    assert collection.find_draft(code.lower().replace("-", " ")).id == draft.id
    background = len(survey.questionnaire.questionnaire.sections) - 1
    collection.save_draft(draft, background, {"urban": "rural", "sex": "female"}, moving_on=False)
    assert collection.stratum_full(draft) and draft.screened_out


def test_odk_import_stores_valid_rows_and_reports_the_rest(survey):
    questionnaire = survey.questionnaire.questionnaire
    good = to_odk_csv(questionnaire, [("uuid:1", CITIZEN_ANSWERS), ("uuid:2", CITIZEN_ANSWERS | {"q_dg4": "9"})])
    report = collection.import_collected(survey.invited, good.encode(), unit=survey.units[0], actor=None)
    assert (report.stored, report.rejected) == (0, [(3, [("q_dg4", "not_a_choice")])])
    report = collection.import_collected(
        survey.invited, good.encode(), unit=survey.units[0], actor=None, accept_valid_rows=True
    )
    db.session.commit()
    assert report.stored == 1
    [stored] = db.session.scalars(select(Response)).all()
    assert stored.answers == {k: v for k, v in CITIZEN_ANSWERS.items() if k != "province"}  # the unit's, not kept
    assert stored.source == "import" and stored.submission_id == "uuid:1"
    again = collection.import_collected(
        survey.invited, good.encode(), unit=survey.units[0], actor=None, accept_valid_rows=True
    )
    assert (again.stored, again.already_stored) == (0, 1)


def test_progress_and_flags(survey):
    _set_quota(survey, 10)
    unit = survey.units[0]
    for index, duration in enumerate([100, 400, 500, 600]):
        collection.submit(
            survey.open,
            unit,
            CITIZEN_ANSWERS | ({"attention": "disagree"} if index == 3 else {}),
            f"r{index}",
            source="api",
            duration_seconds=duration,
        )
    collection.start_open_draft(survey.open, unit)
    db.session.commit()
    [first, *_] = collection.progress(survey.open)
    assert (first.started, first.completed, first.median_seconds, first.flagged) == (5, 4, 450, 2)
    assert [(q.stratum, q.filled, q.target) for q in first.quotas] == [("rural | female", 4, 10)]
    flags = sorted(collection.review_flags(survey.open).values())
    assert flags == [[], [], ["attention"], ["speeding"]]
