"""Loading, showing, exporting and freezing frameworks through the web pages."""

import io

import yaml
from openpyxl import load_workbook
from sqlalchemy import func, select

from questionnaires import read_yaml, shipped_framework_files, to_workbook
from survey_app.audit.models import AuditEvent
from survey_app.core.extensions import db
from survey_app.frameworks.models import FrameworkNode, FrameworkVersion
from tests.conftest import csrf_token

PROVINCE_2020 = next(p for p in shipped_framework_files() if p.name == "national-province-2020.yaml")


def _upload(client, content: bytes, filename: str):
    return client.post(
        "/frameworks/upload",
        data={"csrf_token": csrf_token(client, "/frameworks/upload"), "file": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
    )


def _count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_upload_valid_yaml_stores_framework_nodes_and_audit(client, create_user, login):
    officer = create_user("scoring_officer")
    login(officer)
    response = _upload(client, PROVINCE_2020.read_bytes(), "dti.yaml")
    assert response.status_code == 302
    stored = db.session.scalar(select(FrameworkVersion))
    assert (stored.code, stored.year, stored.version, stored.total_points) == ("national-province", 2020, 1, 1000)
    assert _count(FrameworkNode) == 24
    activities = db.session.scalar(select(FrameworkNode).where(FrameworkNode.code == "DG.ACT"))
    # the experts score every main index of 1726 [II.2.b.v]
    assert activities.points == 80 and activities.channels == ["self_assessment", "appraisal", "expert"]
    assert db.session.get(FrameworkNode, activities.parent_id).code == "DG"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "framework.load"))
    assert event.actor == officer.email and event.new_value["content_hash"] == stored.content_hash


def test_upload_with_errors_lists_each_node_and_stores_nothing(client, create_user, login):
    login(create_user())
    doc = yaml.safe_load(PROVINCE_2020.read_text())
    doc["nodes"][0]["children"][4]["points"] = 70  # DG.ACT: 80 → 70
    doc["nodes"][1]["children"][0].pop("channels")  # DE.AW
    response = _upload(client, yaml.safe_dump(doc, allow_unicode=True).encode(), "bad.yaml")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Tệp chưa được nạp: có 3 lỗi" in page
    assert "Nút DG.ACT: tỷ trọng 0,2 của 400 là 80 điểm, nhưng nút có 70 điểm" in page
    assert "Nút DG: tổng điểm các nút con là 310, cần bằng 320" in page
    assert "Nút DE.AW: nút lá được tính điểm chưa ghi kênh đo lường" in page
    assert _count(FrameworkVersion) == 0 and _count(FrameworkNode) == 0


def test_a_yaml_file_with_unreadable_values_and_broken_rules_reports_them_all(client, create_user, login):
    login(create_user())
    doc = yaml.safe_load(PROVINCE_2020.read_text())
    doc["last_year"] = 2019
    doc["nodes"][0]["children"][4]["points"] = "nhiều"  # DG.ACT
    doc["nodes"][1]["children"][0].pop("channels")  # DE.AW
    doc["nodes"][2]["children"][1]["scoring"] = {"method": "thresholds"}  # DS.INST
    response = _upload(client, yaml.safe_dump(doc, allow_unicode=True).encode(), "bad.yaml")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Tệp chưa được nạp: có 4 lỗi" in page
    assert "Bộ chỉ số: năm cuối 2019 trước năm đầu 2020" in page
    assert "Nút DG.ACT: trường “points” có giá trị không hợp lệ: nhiều" in page
    assert "Nút DE.AW: nút lá được tính điểm chưa ghi kênh đo lường" in page
    assert "Nút DS.INST: cách tính điểm “theo ngưỡng” chưa đủ: chưa có ngưỡng nào" in page
    assert _count(FrameworkVersion) == 0 and _count(FrameworkNode) == 0


def test_a_workbook_with_several_problems_reports_each_with_its_sheet_and_row(client, create_user, login):
    login(create_user())
    book = load_workbook(io.BytesIO(to_workbook(read_yaml(PROVINCE_2020))))
    header = [cell.value for cell in book["nodes"][1]]
    book["nodes"].cell(7, header.index("points") + 1).value = "nhiều"  # DG.ACT
    book["nodes"].cell(11, header.index("parent_code") + 1).value = "DX"  # DE.AW
    book["nodes"].cell(20, header.index("kind") + 1).value = "chapter"  # DS.INST
    buffer = io.BytesIO()
    book.save(buffer)
    client.get("/language/en")
    response = _upload(client, buffer.getvalue(), "bad.xlsx")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "The file was not loaded: 4 problems" in page
    assert "Sheet “nodes”, row 11: Node DE.AW: field “parent_code” has an invalid value: DX" in page
    assert "Sheet “nodes”, row 7: Node DG.ACT: field “points” has an invalid value: nhiều" in page
    assert "Sheet “nodes”, row 20: Node DS.INST: field “kind” has an invalid value: chapter" in page
    # DE.AW's 30 points are missing from its pillar, whose main indices carry 80% of 300
    assert "Sheet “nodes”, row 10: Node DE: the children&#39;s points add up to 210, expected 240" in page
    assert _count(FrameworkVersion) == 0 and _count(FrameworkNode) == 0


def test_upload_messages_in_english(client, create_user, login):
    login(create_user())
    client.get("/language/en")
    doc = yaml.safe_load(PROVINCE_2020.read_text())
    doc["total_points"] = 999
    response = _upload(client, yaml.safe_dump(doc).encode(), "bad.yaml")
    assert "Framework: the top-level points add up to 1,000, expected 999" in response.get_data(as_text=True)


def test_upload_refuses_other_file_types_and_garbage(client, create_user, login):
    login(create_user())
    response = _upload(client, b"%PDF-1.4", "framework.pdf")
    assert response.status_code == 400
    assert "Chỉ chấp nhận tệp .yaml, .yml hoặc .xlsx." in response.get_data(as_text=True)
    response = _upload(client, b"\x00\x01 not a workbook", "framework.xlsx")
    assert response.status_code == 400
    assert _count(FrameworkVersion) == 0


def test_excel_upload_round_trip(client, create_user, login):
    login(create_user())
    workbook = to_workbook(read_yaml(PROVINCE_2020))
    assert _upload(client, workbook, "dti.xlsx").status_code == 302
    stored = db.session.scalar(select(FrameworkVersion))
    exported = client.get(f"/frameworks/{stored.id}/export.xlsx")
    assert exported.headers["Content-Disposition"] == "attachment; filename=national-province-2020-v1.xlsx"
    rows = list(load_workbook(io.BytesIO(exported.data))["nodes"].iter_rows(values_only=True))
    assert rows[0][:6] == ("code", "parent_code", "kind", "name_vi", "name_en", "points")
    assert ("DG.ACT", "DG", "main_index", "Hoạt động chuyển đổi số", "Digital transformation activities", 80) in [
        row[:6] for row in rows
    ]
    # the same content again changes nothing
    assert _upload(client, exported.data, "again.xlsx").status_code == 302
    assert _count(FrameworkVersion) == 1


def test_a_frozen_framework_changes_into_a_new_version(client, create_user, login):
    login(create_user())
    _upload(client, PROVINCE_2020.read_bytes(), "dti.yaml")
    stored_id = db.session.scalar(select(FrameworkVersion.id))
    assert (
        client.post(
            f"/frameworks/{stored_id}/freeze", data={"csrf_token": csrf_token(client, "/dashboard")}
        ).status_code
        == 302
    )
    doc = yaml.safe_load(PROVINCE_2020.read_text())
    doc["name"]["en"] = "Province DTI 2020 (revised wording)"
    response = _upload(client, yaml.safe_dump(doc, allow_unicode=True).encode(), "revised.yaml")
    assert response.status_code == 302
    versions = db.session.execute(
        select(FrameworkVersion.version, FrameworkVersion.name_en, FrameworkVersion.frozen_at).order_by(
            FrameworkVersion.version
        )
    ).all()
    assert [(v, name, frozen is not None) for v, name, frozen in versions] == [
        (1, "Province-level Digital Transformation Index (DTI 2020)", True),
        (2, "Province DTI 2020 (revised wording)", False),
    ]


def test_an_unfrozen_framework_is_updated_in_place_keeping_node_identity(client, create_user, login):
    login(create_user())
    _upload(client, PROVINCE_2020.read_bytes(), "dti.yaml")
    node_id = db.session.scalar(select(FrameworkNode.id).where(FrameworkNode.code == "DS.HR"))
    doc = yaml.safe_load(PROVINCE_2020.read_text())
    doc["nodes"][2]["children"][6]["name"]["en"] = "Digital skills"
    _upload(client, yaml.safe_dump(doc, allow_unicode=True).encode(), "edited.yaml")
    db.session.expire_all()
    node = db.session.scalar(select(FrameworkNode).where(FrameworkNode.code == "DS.HR"))
    assert (node.id, node.name_en) == (node_id, "Digital skills")
    assert _count(FrameworkVersion) == 1
    event = db.session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
    assert event.action == "framework.update" and event.actor is not None
    assert event.old_value["nodes"][2]["children"][6]["name"]["en"] == "Training and human resources"
    assert event.new_value["nodes"][2]["children"][6]["name"]["en"] == "Digital skills"


def test_tree_page_shows_points_shares_and_channels(client, create_user, login):
    login(create_user("viewer"))
    from survey_app.frameworks import operations as frameworks

    frameworks.load_shipped_frameworks()
    db.session.commit()
    stored_id = db.session.scalar(
        select(FrameworkVersion.id).where(FrameworkVersion.year == 2020, FrameworkVersion.level == "province")
    )
    page = client.get(f"/frameworks/{stored_id}").get_data(as_text=True)
    assert "Chính quyền số" in page and "400 điểm" in page
    assert "80 điểm (20%)" in page
    assert "Tự đánh giá" in page and "Thẩm định" in page
    assert "số liệu báo cáo, thẩm định và điều tra xã hội học 80%, không gian mạng 10%, chuyên gia 10%" in page
    assert "Khóa (kết quả đã công bố)" not in page  # a viewer cannot freeze
    english = client.get(f"/frameworks/{stored_id}?lang=en").get_data(as_text=True)
    assert "Digital government" in english and "400 points" in english
