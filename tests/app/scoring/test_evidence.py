"""Evidence documents of self-assessed values: PDFs checked by content, kept in the database in the transaction
of the row that names them, only ever sent back as attachments; a refused or failed upload stores nothing."""

import hashlib
import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from survey_app.accounts.models import Role
from survey_app.core import stored_files
from survey_app.core.errors import ServiceError
from survey_app.core.extensions import db
from survey_app.core.i18n import LANGUAGE_KEY
from survey_app.core.stored_files import StoredFile
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


def _stored_files(app) -> int:
    """The files in the database, read through a connection of its own: only what was committed."""
    with db.engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(StoredFile))


def _files_on_disk(app) -> list[Path]:
    folder = Path(app.config["EVIDENCE_FOLDER"])
    return sorted(path for path in folder.rglob("*") if path.is_file()) if folder.exists() else []


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


def test_a_pdf_is_stored_in_the_database_and_sent_back_as_an_attachment(app, client, officer, assessment):
    document = pdf_document()
    page = _upload(client, assessment.id, document, "../../etc/Quyết định 1.pdf")
    assert page.status_code == 200 and "Quyết định 1.pdf" in page.text
    stored = db.session.scalar(select(EvidenceDocument))
    assert stored.original_name == "Quyết định 1.pdf" and stored.size == len(document) and not stored.signed
    assert stored.file.content == document and stored.file.size == len(document)
    assert stored.file.sha256 == stored.sha256 == hashlib.sha256(document).hexdigest()
    assert stored.file.content_type == "application/pdf"
    assert _stored_files(app) == 1 and _files_on_disk(app) == []  # nothing on this app server's disk

    download = client.get(f"/scoring/evidence/{stored.id}")
    assert download.status_code == 200 and download.data == document
    assert download.mimetype == "application/pdf"
    # the plain name for old browsers drops "đ" (no ASCII decomposition), as for a file sent from disk
    assert download.headers["Content-Disposition"] == (
        "attachment; filename=\"Quyet inh 1.pdf\"; filename*=UTF-8''Quy%E1%BA%BFt%20%C4%91%E1%BB%8Bnh%201.pdf"
    )
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Content-Length"] == str(len(document))
    assert download.headers["ETag"] == f'"{stored.sha256}"' and "no-cache" in download.headers["Cache-Control"]
    assert client.get(f"/scoring/evidence/{stored.id}", headers={"If-None-Match": stored.sha256}).status_code == 304


def test_a_download_larger_than_one_read_comes_back_whole_and_by_ranges(app, client, officer, assessment):
    # 2.5 MB: three reads of 1 MB from the database, the middle one whole
    body = bytes(range(256)) * (10 * 1024)
    document = b"%PDF-1.4\n" + body + b"\n%%EOF\n"
    assert len(document) == 9 + 2_621_440 + 7
    _upload(client, assessment.id, document, "big.pdf")
    stored = db.session.scalar(select(EvidenceDocument))
    download = client.get(f"/scoring/evidence/{stored.id}")
    assert download.status_code == 200 and download.data == document
    # a range across the boundary of the first two reads (byte 1,048,576)
    part = client.get(f"/scoring/evidence/{stored.id}", headers={"Range": "bytes=1048570-1048585"})
    assert part.status_code == 206 and part.data == document[1048570:1048586]
    assert part.headers["Content-Range"] == f"bytes 1048570-1048585/{len(document)}"


def test_a_failed_transaction_leaves_no_stored_file(app, assessment):
    evidence.attach(assessment, io.BytesIO(pdf_document()), "a.pdf", actor=None)
    assert db.session.scalar(select(func.count()).select_from(StoredFile)) == 1  # inside the transaction
    db.session.rollback()  # the request failed after the upload: the row and its file go together
    assert _stored_files(app) == 0
    assert db.session.scalar(select(func.count()).select_from(EvidenceDocument)) == 0


def test_a_document_without_its_file_is_not_found(app, client, officer, assessment):
    # as a document whose file was missing from the folder when files moved into the database
    document = evidence.attach(db.session.merge(assessment), io.BytesIO(pdf_document()), "a.pdf", actor=None)
    file_id, document.file = document.file_id, None
    db.session.flush()
    db.session.execute(StoredFile.__table__.delete().where(StoredFile.id == file_id))
    db.session.commit()
    assert client.get(f"/scoring/evidence/{document.id}").status_code == 404


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
    assert _stored_files(app) == 0


def test_a_document_over_the_limit_is_refused_and_nothing_is_stored(app, client, officer, assessment):
    app.config["EVIDENCE_MAX_BYTES"] = 1024 * 1024
    page = _upload(client, assessment.id, b"%PDF-1.4\n" + b"0" * (1024 * 1024) + b"\n%%EOF", "big.pdf")
    assert "1 MB" in page.text
    assert db.session.scalar(select(func.count()).select_from(EvidenceDocument)) == 0
    assert _stored_files(app) == 0


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


def test_removal_deletes_the_file_in_its_transaction_and_a_published_round_refuses(app, client, officer, assessment):
    _upload(client, assessment.id, pdf_document(), "a.pdf")
    document = db.session.scalar(select(EvidenceDocument))
    client.post(f"/scoring/evidence/{document.id}/delete", data={"csrf_token": csrf_token(client, "/dashboard")})
    assert db.session.scalar(select(func.count()).select_from(EvidenceDocument)) == 0
    assert _stored_files(app) == 0

    _upload(client, assessment.id, pdf_document(), "b.pdf")
    kept = db.session.scalar(select(EvidenceDocument))
    evidence.remove(kept, actor=None)
    db.session.rollback()  # a removal that does not commit keeps the file
    assert _stored_files(app) == 1

    assessment = db.session.get(SelfAssessment, assessment.id)
    db.session.get(EvaluationRound, assessment.round_id).published_at = assessment.reported_at
    db.session.commit()
    with pytest.raises(ServiceError, match="round_published"):
        evidence.attach(assessment, io.BytesIO(pdf_document()), "c.pdf", actor=None)
    db.session.rollback()
    assert _stored_files(app) == 1


def test_files_no_document_names_are_pruned(app, runner, assessment):
    evidence.attach(assessment, io.BytesIO(pdf_document()), "kept.pdf", actor=None)
    stored_files.store(b"left by a report deleted with its documents", "application/pdf")
    db.session.commit()
    assert _stored_files(app) == 2
    result = runner.invoke(args=["evidence", "prune"])
    assert result.exit_code == 0 and "Đã xoá 1 tệp minh chứng không thuộc tài liệu nào." in result.output
    named = db.session.scalar(select(EvidenceDocument.file_id))
    assert db.session.scalars(select(StoredFile.id)).all() == [named]
    assert runner.invoke(args=["evidence", "prune"]).output.startswith("Đã xoá 0 tệp")


def test_a_file_two_documents_name_goes_with_the_last_of_them(app, assessment):
    first = evidence.attach(assessment, io.BytesIO(pdf_document(signed=True)), "a.pdf", actor=None)
    second = evidence.attach_stored(assessment, first.file, "copy.pdf", actor=None)
    db.session.commit()
    assert second.file_id == first.file_id and second.signed and _stored_files(app) == 1
    evidence.remove(first, actor=None)
    db.session.commit()
    assert _stored_files(app) == 1  # still named by the second
    evidence.remove(second, actor=None)
    db.session.commit()
    assert _stored_files(app) == 0
