"""The shipped frameworks, the validation rules and the file formats."""

import copy
from pathlib import Path

import pytest

from questionnaires import (
    Channel,
    FrameworkInvalid,
    NodeKind,
    RespondentGroup,
    UnitLevel,
    framework_from_dict,
    framework_to_dict,
    generate_expert,
    read_workbook,
    read_yaml,
    shipped_framework_files,
    to_workbook,
    to_yaml,
)

SHIPPED = {path.name: read_yaml(path) for path in shipped_framework_files()}


@pytest.mark.parametrize(
    "name, total, leaves",
    [
        ("national-province-2020.yaml", 1000, 21),
        # eight scored main indices, each in three channel parts, and smart city
        ("national-province-2021.yaml", 1000, 25),
        ("national-province-2024.yaml", 1000, 8),
        ("national-ministry-2020.yaml", 500, 7),
        ("national-ministry-2024.yaml", 1000, 1),
        ("national-2021.yaml", 1000, 1),
        ("national-2024.yaml", 1000, 3),
        ("tuyen-quang-department-2022.yaml", 450, 6),
        ("tuyen-quang-district-2022.yaml", 850, 9),
        ("tuyen-quang-commune-2022.yaml", 350, 6),
        ("quang-nam-commune-2021.yaml", 100, 3),
    ],
)
def test_shipped_framework_validates_with_its_total(name, total, leaves):
    framework = SHIPPED[name]
    assert framework.total_points == total
    assert len(framework.leaves()) == leaves
    scored_top = sum(node.points for node in framework.nodes if node.scored)
    shares = framework.channel_shares
    if shares is not None and shares.level == "framework":
        scored_top /= shares.assessment
    if shares is not None and shares.level == "pillar":
        scored_top = sum(node.points for node in framework.nodes)
    assert scored_top == total


def test_every_shipped_file_is_tested():
    assert len(SHIPPED) == 11


def test_decision_1726_province_shares():
    framework = SHIPPED["national-province-2020.yaml"]
    assert [(p.code, p.points) for p in framework.nodes] == [("DG", 400), ("DE", 300), ("DS", 300)]
    government = framework.find("DG")
    assert [c.points for c in government.children] == [40, 40, 40, 40, 80, 40, 40]
    # the seven main indices carry 80% of the pillar; cyberspace and experts the other 10% + 10%
    assert sum(c.points for c in government.children) == 320
    economy = framework.find("DE")
    assert [c.points for c in economy.children] == [30, 30, 30, 30, 60, 30, 30]
    assert (
        framework.channel_shares.assessment,
        framework.channel_shares.cyberspace,
        framework.channel_shares.expert,
    ) == (0.8, 0.1, 0.1)


def test_decision_1726_ministry_shares():
    framework = SHIPPED["national-ministry-2020.yaml"]
    points = {node.code: node.points for node in framework.nodes}
    assert points == {"AW": 50, "INST": 70, "INFRA": 50, "DATA": 50, "ACT": 80, "SEC": 50, "HR": 50}
    assert sum(points.values()) == 400  # 80% of 500


def test_2021_2023_province_index_groups_and_unscored_smart_city():
    framework = SHIPPED["national-province-2021.yaml"]
    points = {node.code: (node.points, node.scored) for node, _ in framework.walk() if node.kind is NodeKind.MAIN_INDEX}
    assert points == {
        "AW": (100, True),
        "INST": (100, True),
        "INFRA": (100, True),
        "HR": (100, True),
        "SEC": (100, True),
        "SMART": (0, False),
        "DG": (200, True),
        "DE": (150, True),
        "DS": (150, True),
    }
    assert (framework.year, framework.last_year) == (2021, 2023)


def test_2021_2023_main_indices_take_the_1726_channel_parts():
    framework = SHIPPED["national-province-2021.yaml"]
    digital_government = framework.find("DG")
    # 200 points: 80% reported, appraised and surveyed, 10% cyberspace, 10% experts [1726 II.2.a]
    assert [(c.code, c.points, c.channel_kinds()) for c in digital_government.children] == [
        ("DG.R", 160, (Channel.SELF_ASSESSMENT, Channel.APPRAISAL)),
        ("DG.C", 20, (Channel.CYBERSPACE,)),
        ("DG.E", 20, (Channel.EXPERT,)),
    ]
    expert_points = {n.code: n.points for n in framework.leaves() if n.channel_kinds() == (Channel.EXPERT,)}
    assert sum(expert_points.values()) == 100  # 10% of 1000
    assert framework.find("SMART").children == []


@pytest.mark.parametrize(
    "name, items, sections",
    [
        # 1726: the experts score the 7 main indices of each pillar, and the ministry's 7
        ("national-province-2020.yaml", 21, ["DG", "DE", "DS"]),
        ("national-ministry-2020.yaml", 7, ["national-ministry"]),
        # 922: the expert part of each scored main index, one section per main index
        ("national-province-2021.yaml", 8, ["AW", "INST", "INFRA", "HR", "SEC", "DG", "DE", "DS"]),
    ],
)
def test_the_expert_form_of_the_1726_and_922_frameworks_has_items(name, items, sections):
    questionnaire = generate_expert(SHIPPED[name])
    assert len(questionnaire.items()) == items
    assert [section.code for section in questionnaire.sections] == sections


def test_the_expert_share_of_1726_is_the_main_indices_expert_values():
    framework = SHIPPED["national-province-2020.yaml"]
    # the main indices the experts score feed the channel shares: experts never replace the reported points
    assert all(Channel.EXPERT in node.channel_kinds() for node in framework.leaves())
    assert framework.channel_shares.expert == 0.1


def test_decision_405_province_index_from_the_2024_round():
    framework = SHIPPED["national-province-2024.yaml"]
    assert (framework.level, framework.year, framework.last_year, framework.total_points) == (
        UnitLevel.PROVINCE,
        2024,
        2026,
        1000,
    )
    groups = {group.code: [c.name.vi for c in group.children] for group in framework.nodes}
    # the eight main indices of 405, in its two groups
    assert groups == {
        "FOUND": ["Nhận thức số", "Thể chế số", "Hạ tầng số", "Nhân lực số", "An toàn thông tin mạng"],
        "ACTS": ["Hoạt động chính quyền số", "Hoạt động kinh tế số", "Hoạt động xã hội số"],
    }
    # 922's codes, so that a province's series runs on; the points await the annex and say so
    assert [leaf.code for leaf in framework.leaves()] == ["AW", "INST", "INFRA", "HR", "SEC", "DG", "DE", "DS"]
    assert all("405" in leaf.note and "922" in leaf.note for leaf in framework.leaves())
    assert "47" in framework.note
    assert generate_expert(framework).items() == []


def test_decision_405_ministry_and_national_indices():
    ministry = SHIPPED["national-ministry-2024.yaml"]
    assert (ministry.total_points, ministry.years()) == (1000, range(2024, 2027))
    assert "31" in ministry.note and "6" in ministry.note
    national = SHIPPED["national-2024.yaml"]
    assert national.level is UnitLevel.NATIONAL
    assert [(p.code, p.kind, p.points, p.share) for p in national.nodes] == [
        ("DG", NodeKind.PILLAR, 400, 0.4),
        ("DE", NodeKind.PILLAR, 300, 0.3),
        ("DS", NodeKind.PILLAR, 300, 0.3),
    ]
    # 4 + 3 + 5 indices, the UN e-government ranking among the first four
    assert [p.note.split(" ")[0] for p in national.nodes] == ["4", "3", "5"]
    assert "EGDI" in national.find("DG").note
    earlier = SHIPPED["national-2021.yaml"]
    assert (earlier.level, earlier.years(), earlier.total_points) == (UnitLevel.NATIONAL, range(2021, 2024), 1000)


def test_tuyen_quang_district_pillars_take_the_shared_foundation():
    framework = SHIPPED["tuyen-quang-district-2022.yaml"]
    assert [(v.code, v.points) for v in framework.pillar_views] == [("P.DG", 450), ("P.DE", 450), ("P.DS", 450)]
    foundation = framework.find("FOUND")
    assert foundation.points == 250 and sum(c.criteria_count for c in foundation.children) == 37


def test_quang_nam_pillars_and_survey_groups():
    framework = SHIPPED["quang-nam-commune-2021.yaml"]
    assert [(n.code, n.points) for n in framework.nodes] == [("DG", 50), ("DE", 20), ("DS", 30)]
    assert framework.find("DG").survey_groups() == (RespondentGroup.CITIZENS, RespondentGroup.BUSINESSES)


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_yaml_round_trip(name):
    framework = SHIPPED[name]
    again = read_yaml(to_yaml(framework))
    assert framework_to_dict(again) == framework_to_dict(framework)


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_excel_round_trip(name):
    framework = SHIPPED[name]
    again = read_workbook(to_workbook(framework))
    assert framework_to_dict(again) == framework_to_dict(framework)


DEMO_FRAMEWORK = (
    Path(__file__).resolve().parents[2] / "survey_app" / "core" / "demo" / "national-province-2021-demo.yaml"
)


def test_excel_round_trip_keeps_criteria_scoring():
    demo = read_yaml(
        Path(__file__).resolve().parents[2] / "survey_app" / "core" / "demo" / "national-province-2021-demo.yaml"
    )
    again = read_workbook(to_workbook(demo))
    assert framework_to_dict(again) == framework_to_dict(demo)
    steps = again.find("INST.1").scoring.steps
    # the demo gives INST.1 90% of its former 40 points (the rest went to INST.E): steps 20/30/40 times 0.9
    assert [(s.at_least, s.points) for s in steps] == [(1, 18), (2, 27), (3, 36)]
    assert again.find("DG.4").scoring.scale == (1, 5)
    assert again.find("DG.3").channel_kinds() == (Channel.SURVEY,)


def test_a_framework_may_name_its_normalisation_and_keeps_it_both_ways():
    from dataclasses import replace

    demo = read_yaml(
        Path(__file__).resolve().parents[2] / "survey_app" / "core" / "demo" / "national-province-2021-demo.yaml"
    )
    assert demo.normalisation == "none" and "normalisation" not in framework_to_dict(demo)
    chosen = replace(demo, normalisation="z-score")
    assert read_yaml(to_yaml(chosen)).normalisation == "z-score"
    assert read_workbook(to_workbook(chosen)).normalisation == "z-score"
    bad = framework_to_dict(demo) | {"normalisation": "log"}
    with pytest.raises(FrameworkInvalid) as caught:
        framework_from_dict(bad)
    assert any(issue.params.get("field") == "normalisation" for issue in caught.value.issues)


# --- every validation rule names the node --------------------------------------------------------------


def _base() -> dict:
    return {
        "code": "test",
        "level": "province",
        "year": 2024,
        "version": 1,
        "name": {"vi": "Thử", "en": "Test"},
        "total_points": 100,
        "nodes": [
            {
                "code": "P1",
                "kind": "pillar",
                "name": {"vi": "Trụ cột", "en": "Pillar"},
                "points": 100,
                "children": [
                    {
                        "code": "M1",
                        "kind": "main_index",
                        "name": {"vi": "A", "en": "A"},
                        "points": 60,
                        "children": [
                            {
                                "code": "C1",
                                "kind": "criterion",
                                "name": {"vi": "C1", "en": "C1"},
                                "points": 60,
                                "channels": ["self_assessment", "appraisal"],
                                "scoring": {"method": "ratio", "target": 100},
                            },
                        ],
                    },
                    {
                        "code": "M2",
                        "kind": "main_index",
                        "name": {"vi": "B", "en": "B"},
                        "points": 40,
                        "channels": ["survey(citizens)"],
                        "scoring": {"method": "survey", "rule": "share_yes"},
                    },
                ],
            }
        ],
    }


def test_base_document_is_valid():
    framework = framework_from_dict(_base())
    assert [leaf.code for leaf in framework.leaves()] == ["C1", "M2"]


def _node(doc, code):
    stack = list(doc["nodes"])
    while stack:
        node = stack.pop()
        if node["code"] == code:
            return node
        stack.extend(node.get("children", []))
    raise KeyError(code)


def _breaks(mutate):
    doc = copy.deepcopy(_base())
    mutate(doc)
    with pytest.raises(FrameworkInvalid) as caught:
        framework_from_dict(doc)
    return caught.value.issues


@pytest.mark.parametrize(
    "rule, node, mutate",
    [
        ("points_mismatch", "M1", lambda d: _node(d, "C1").update(points=50) or _node(d, "M1").update(points=60)),
        ("points_mismatch", "P1", lambda d: _node(d, "M2").update(points=30)),
        ("total_mismatch", None, lambda d: d.update(total_points=90)),
        ("share_mismatch", "M2", lambda d: _node(d, "M2").update(share=0.5)),
        ("missing_channel", "C1", lambda d: _node(d, "C1").pop("channels")),
        ("missing_scoring", "C1", lambda d: _node(d, "C1").pop("scoring")),
        ("duplicate_code", "M1", lambda d: _node(d, "C1").update(code="M1")),
        ("survey_without_groups", "M2", lambda d: _node(d, "M2").update(channels=["survey"])),
        (
            "survey_scoring_without_survey",
            "C1",
            lambda d: _node(d, "C1").update(scoring={"method": "survey", "rule": "share_yes"}),
        ),
        ("scoring_invalid", "C1", lambda d: _node(d, "C1").update(scoring={"method": "thresholds"})),
        (
            "scoring_invalid",
            "M2",
            lambda d: _node(d, "M2").update(scoring={"method": "survey", "rule": "mean_scale", "scale": [5, 1]}),
        ),
        (
            "step_above_maximum",
            "C1",
            lambda d: _node(d, "C1").update(scoring={"method": "thresholds", "steps": [[1, 30], [2, 70]]}),
        ),
        ("bad_nesting", "C1", lambda d: _node(d, "C1").update(kind="pillar")),
        ("criterion_with_children", "M1", lambda d: _node(d, "M1").update(kind="criterion")),
        ("negative_points", "C1", lambda d: _node(d, "C1").update(points=-60)),
        ("unscored_with_points", "M2", lambda d: _node(d, "M2").update(scored=False)),
        ("missing_field", "C1", lambda d: _node(d, "C1").pop("kind")),
        ("invalid_value", "C1", lambda d: _node(d, "C1").update(channels=["telepathy"])),
        ("invalid_value", "C1", lambda d: _node(d, "C1").update(points="many")),
        (
            "channel_shares_total",
            None,
            lambda d: d.update(channel_shares={"assessment": 0.8, "cyberspace": 0.1, "expert": 0.2}),
        ),
        (
            "view_unknown_node",
            "PV",
            lambda d: d.update(
                pillar_views=[{"code": "PV", "name": {"vi": "x"}, "points": 100, "includes": ["M1", "M9"]}]
            ),
        ),
        (
            "view_points_mismatch",
            "PV",
            lambda d: d.update(
                pillar_views=[{"code": "PV", "name": {"vi": "x"}, "points": 90, "includes": ["M1", "M2"]}]
            ),
        ),
        ("year_range", None, lambda d: d.update(last_year=2020)),
    ],
)
def test_validation_error_names_node_and_rule(rule, node, mutate):
    issues = _breaks(mutate)
    assert (rule, node) in [(issue.code, issue.node) for issue in issues]
    message = str(next(issue for issue in issues if issue.code == rule and issue.node == node))
    if node:
        assert message.startswith(f"{node}: ")


def test_points_mismatch_message_gives_both_sums():
    issues = _breaks(lambda d: _node(d, "M2").update(points=30))
    assert str(issues[0]) == "P1: children's points add up to 90, expected 100"


def test_channel_shares_at_pillar_level_expect_80_percent_of_the_pillar():
    def mutate(d):
        d["channel_shares"] = {"assessment": 0.8, "cyberspace": 0.1, "expert": 0.1, "level": "pillar"}

    issues = _breaks(mutate)
    assert [(i.code, i.node, i.params["expected"]) for i in issues] == [("points_mismatch", "P1", 80)]


def test_every_problem_is_reported_at_once():
    def mutate(d):
        _node(d, "C1").pop("scoring")
        _node(d, "M2").update(channels=[])

    assert {(i.code, i.node) for i in _breaks(mutate)} == {
        ("missing_scoring", "C1"),
        ("missing_channel", "M2"),
        ("survey_scoring_without_survey", "M2"),
    }


def test_not_yaml_is_refused():
    with pytest.raises(FrameworkInvalid) as caught:
        read_yaml("code: [unclosed")
    assert caught.value.issues[0].code == "invalid_value"


def test_not_a_mapping_is_refused():
    with pytest.raises(FrameworkInvalid):
        read_yaml("- just\n- a list\n")


def test_not_a_workbook_is_refused():
    with pytest.raises(FrameworkInvalid) as caught:
        read_workbook(b"%PDF-1.4 not a workbook")
    assert caught.value.issues[0].params["field"] == "file"


def test_workbook_with_unknown_parent_names_the_node():
    import io

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(to_workbook(framework_from_dict(_base()))))
    sheet = book["nodes"]
    for row in sheet.iter_rows(min_row=2):
        if row[0].value == "C1":
            row[1].value = "NOPE"
    buffer = io.BytesIO()
    book.save(buffer)
    with pytest.raises(FrameworkInvalid) as caught:
        read_workbook(buffer.getvalue())
    first = caught.value.issues[0]
    assert (first.code, first.node, first.params, first.sheet, first.row) == (
        "invalid_value",
        "C1",
        {"field": "parent_code", "value": "NOPE"},
        "nodes",
        4,
    )
    # M1 is read as the leaf the file now makes it
    assert {(i.code, i.node) for i in caught.value.issues[1:]} == {("missing_channel", "M1"), ("missing_scoring", "M1")}


# --- a file with several problems reports them all, in one pass -----------------------------------------


def _yaml_text(doc: dict) -> str:
    import yaml

    return yaml.safe_dump(doc, allow_unicode=True)


def test_unreadable_values_and_broken_rules_are_reported_together():
    doc = copy.deepcopy(_base())
    _node(doc, "C1").update(points="sixty")  # unreadable
    _node(doc, "M2").update(kind="chapter")  # unreadable
    _node(doc, "M2").pop("channels")  # a rule: no channel, and survey scoring the survey does not measure
    doc["total_points"] = 90  # a rule: the pillar's 100 points
    with pytest.raises(FrameworkInvalid) as caught:
        read_yaml(_yaml_text(doc))
    assert [(i.code, i.node) for i in caught.value.issues] == [
        ("invalid_value", "C1"),
        ("invalid_value", "M2"),
        ("missing_channel", "M2"),
        ("survey_scoring_without_survey", "M2"),
        ("total_mismatch", None),
    ]
    # M1's children cannot be added up while C1's points are unreadable: no "points_mismatch" on M1


def _workbook(mutate) -> bytes:
    """The base framework as a workbook, its sheets changed by ``mutate(book)``."""
    import io

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(to_workbook(framework_from_dict(_base()))))
    mutate(book)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _set(book, sheet: str, code: str, column: str, value) -> None:
    rows = book[sheet].iter_rows()
    header = [cell.value for cell in next(rows)]
    for row in rows:
        if row[0].value == code:
            row[header.index(column)].value = value


def test_every_problem_of_a_workbook_is_reported_with_its_sheet_and_row():
    def mutate(book):
        # rows: 2 P1, 3 M1, 4 C1, 5 M2
        _set(book, "nodes", "C1", "points", "sáu mươi")
        _set(book, "nodes", "C1", "scoring_method", "guess")
        _set(book, "nodes", "M2", "parent_code", "P9")
        book["nodes"].append(["M1", "P1", "main_index", "Lặp", "Again", 0, None, "no"])

    with pytest.raises(FrameworkInvalid) as caught:
        read_workbook(_workbook(mutate))
    assert [(i.code, i.node, i.params.get("field"), i.sheet, i.row) for i in caught.value.issues] == [
        ("invalid_value", "M2", "parent_code", "nodes", 5),  # P9 is not in the sheet
        ("invalid_value", "C1", "points", "nodes", 4),
        ("invalid_value", "C1", "method", "nodes", 4),
        ("points_mismatch", "P1", None, "nodes", 2),  # M2 is no longer under it
        ("duplicate_code", "M1", None, "nodes", 6),
    ]
    assert str(caught.value.issues[0]) == "sheet nodes, row 5: M2: field 'parent_code' has an invalid value: 'P9'"


def test_a_loop_of_parent_codes_is_reported_not_dropped():
    def mutate(book):
        _set(book, "nodes", "M1", "parent_code", "C1")  # M1 under C1, C1 under M1

    with pytest.raises(FrameworkInvalid) as caught:
        read_workbook(_workbook(mutate))
    issues = caught.value.issues
    assert {(i.code, i.node, i.params["parent"], i.row) for i in issues if i.code == "parent_loop"} == {
        ("parent_loop", "M1", "C1", 3),
        ("parent_loop", "C1", "M1", 4),
    }
    assert ("points_mismatch", "P1") in [(i.code, i.node) for i in issues]


def test_an_unreadable_file_stops_there():
    with pytest.raises(FrameworkInvalid) as caught:
        read_yaml("code: [unclosed\nnodes: 7\n")
    assert [(i.code, i.params["field"]) for i in caught.value.issues] == [("invalid_value", "file")]
