"""Evidence documents of self-assessed values: PDFs checked by content, kept under random names outside the web
root, only ever sent back as attachments; a refused upload stores nothing."""

import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from survey_app.accounts.models import Role
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.core.i18n import LANGUAGE_KEY
from survey_app.rounds import operations as rounds
from survey_app.rounds.models import EvaluationRound
from survey_app.scoring import channel_inputs, evidence
from survey_app.scoring.models import EvidenceDocument, SelfAssessment
from survey_app.units import operations as units
from tests.conftest import csrf_token, pdf_document

HTML_AS_PDF = b"<!DOCTYPE html><html><body><script>alert(1)</script>%PDF-1.7</body></html>\n%%EOF"


@pytest.fixture
def officer(client, create_user, login):
    user = create_user(Role.SCORING_OFFICER)
    login(user)
    return user


@pytest.fixture
def assessment(survey):
    unit_list = units.load_shipped_unit_lists()["provinces-2019"]
    evaluation = rounds.create_round(
        "province-2023", 2023, "DTI 2023", "DTI 2023", survey.framework, unit_list, actor=None
    )
    stored = channel_inputs.report_value(
        evaluation, survey.units[0], "AW.1", "có", evidence="QĐ 1", explanation="", actor=None
    )
    db.session.commit()
    return stored


def _stored_files(app) -> list[Path]:
    folder = Path(app.config["EVIDENCE_FOLDER"])
    return sorted(folder.iterdir()) if folder.exists() else []


def _upload(client, assessment_id, data: bytes, name: str):
    return client.post(
        f"/scoring/assessments/{assessment_id}/evidence",
        follow_redirects=True,
        content_type="multipart/form-data",
        data={"csrf_token": csrf_token(client, "/dashboard"), "document": (io.BytesIO(data), name)},
    )


def test_is_pdf_reads_the_content_not_the_name():
    document = pdf_document()
    assert evidence.is_pdf(document[:1024], document[-1024:])
    assert not evidence.is_pdf(HTML_AS_PDF[:1024], HTML_AS_PDF[-1024:])
    assert not evidence.is_pdf(b"%PDF-1.7 but no end", b"but no end")
    assert not evidence.is_pdf(b"MZ\x90\x00", b"\x00")
    assert evidence.is_pdf(b"\xef\xbb\xbf%PDF-1.4\n", b"%%EOF\n")  # junk before the header, as readers allow


def test_a_pdf_is_stored_under_a_random_name_and_sent_back_as_an_attachment(app, client, officer, assessment):
    document = pdf_document()
    page = _upload(client, assessment.id, document, "../../etc/Quyết định 1.pdf")
    assert page.status_code == 200 and "Quyết định 1.pdf" in page.text
    stored = db.session.scalar(select(EvidenceDocument))
    assert stored.original_name == "Quyết định 1.pdf" and stored.size == len(document) and not stored.signed
    files = _stored_files(app)
    assert [path.name for path in files] == [stored.stored_name]
    assert len(stored.stored_name) == 32 and files[0].read_bytes() == document
    assert not Path(app.config["EVIDENCE_FOLDER"]).resolve().is_relative_to(Path(app.static_folder).resolve())

    download = client.get(f"/scoring/evidence/{stored.id}")
    assert download.status_code == 200 and download.data == document
    assert download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"


def test_html_named_pdf_is_refused_translated_and_nothing_is_stored(app, client, officer, assessment):
    with client.session_transaction() as session:
        session[LANGUAGE_KEY] = "en"
    page = _upload(client, assessment.id, HTML_AS_PDF, "report.pdf")
    assert "The file is not a PDF document" in page.text
    with client.session_transaction() as session:
        session[LANGUAGE_KEY] = "vi"
    page = _upload(client, assessment.id, b"", "empty.pdf")
    assert "Tệp trống." in page.text
    assert db.session.scalar(select(func.count()).select_from(EvidenceDocument)) == 0
    assert _stored_files(app) == []


def test_a_document_over_the_limit_is_refused_and_nothing_is_stored(app, client, officer, assessment):
    app.config["EVIDENCE_MAX_BYTES"] = 1024 * 1024
    page = _upload(client, assessment.id, b"%PDF-1.4\n" + b"0" * (1024 * 1024) + b"\n%%EOF", "big.pdf")
    assert "1 MB" in page.text
    assert db.session.scalar(select(func.count()).select_from(EvidenceDocument)) == 0
    assert _stored_files(app) == []


def test_a_signed_pdf_is_marked(app, client, officer, assessment):
    _upload(client, assessment.id, pdf_document(signed=True), "signed.pdf")
    assert db.session.scalar(select(EvidenceDocument.signed))


def test_a_value_entered_with_its_document_uses_the_file_as_reference(app, client, officer, assessment):
    token = csrf_token(client, "/dashboard")
    path = "/scoring/province-2023/units/02"
    refused = client.post(
        path,
        content_type="multipart/form-data",
        data={"csrf_token": token, "criterion": "AW.2", "value": "có", "document": (io.BytesIO(HTML_AS_PDF), "x.pdf")},
    )
    assert refused.status_code == 400
    assert db.session.scalar(select(func.count()).select_from(SelfAssessment)) == 1  # the value is not kept either
    stored = client.post(
        path,
        content_type="multipart/form-data",
        data={
            "csrf_token": token,
            "criterion": "AW.2",
            "value": "có",
            "document": (io.BytesIO(pdf_document()), "KH 12.pdf"),
        },
    )
    assert stored.status_code == 302
    row = db.session.scalar(select(SelfAssessment).where(SelfAssessment.criterion == "AW.2"))
    assert row.evidence == "KH 12.pdf" and [d.original_name for d in row.documents] == ["KH 12.pdf"]


def test_removal_deletes_the_file_once_committed_and_a_published_round_refuses(app, client, officer, assessment):
    _upload(client, assessment.id, pdf_document(), "a.pdf")
    document = db.session.scalar(select(EvidenceDocument))
    client.post(f"/scoring/evidence/{document.id}/delete", data={"csrf_token": csrf_token(client, "/dashboard")})
    assert db.session.scalar(select(func.count()).select_from(EvidenceDocument)) == 0
    assert _stored_files(app) == []

    _upload(client, assessment.id, pdf_document(), "b.pdf")
    kept = db.session.scalar(select(EvidenceDocument))
    evidence.remove(kept, actor=None)
    db.session.rollback()  # a removal that does not commit keeps the file
    assert len(_stored_files(app)) == 1

    assessment = db.session.get(SelfAssessment, assessment.id)
    db.session.get(EvaluationRound, assessment.round_id).published_at = assessment.reported_at
    db.session.commit()
    with pytest.raises(ServiceError, match="round_published"):
        evidence.attach(assessment, io.BytesIO(pdf_document()), "c.pdf", actor=None)
    assert len(_stored_files(app)) == 1


def test_files_no_document_names_are_pruned_once_old(app, runner, assessment):
    import os
    import time

    evidence.attach(assessment, io.BytesIO(pdf_document()), "kept.pdf", actor=None)
    db.session.commit()
    folder = Path(app.config["EVIDENCE_FOLDER"])
    orphan, fresh = folder / ("0" * 32), folder / ("1" * 32)
    orphan.write_bytes(b"left by a failed upload")
    fresh.write_bytes(b"an upload in progress")
    two_hours_ago = time.time() - 7200
    os.utime(orphan, (two_hours_ago, two_hours_ago))
    result = runner.invoke(args=["evidence", "prune"])
    assert result.exit_code == 0 and "Đã xoá 1 tệp minh chứng không thuộc tài liệu nào." in result.output
    assert not orphan.exists() and fresh.exists()
    assert len(list(folder.iterdir())) == 2  # the document's own file and the fresh one
