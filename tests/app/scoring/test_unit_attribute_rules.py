"""Tuyên Quang's rules per unit and criterion [742 Art. 7]: the framework tags what a criterion is about, the unit
list says which departments have subordinate units, provide online public services or are special-purpose
units, and a run applies each rule to its own units on its own criteria, computed by hand below."""

from importlib import resources

import pandas as pd
import pytest
import yaml

from questionnaires import FrameworkInvalid, framework_from_dict
from survey_app.frameworks import operations as frameworks
from survey_app.rounds import operations as rounds
from survey_app.scoring import channel_inputs
from survey_app.scoring import operations as scoring
from survey_app.units import operations as units

#: awareness (50 points) with four criteria, three of them tagged
AWARENESS = [
    ("AW.1", 10, ["subordinate_units"]),
    ("AW.2", 10, ["online_services"]),
    ("AW.3", 10, ["unrelated_to_special_purpose"]),
    ("AW.4", 20, []),
]
#: self-assessed values in [0, 1] (points = value × the criterion's points); STC has no subordinate units; TTT
#: (the provincial inspectorate) has none, provides no online public services and is a special-purpose unit
VALUES = {
    "SNV": (0.8, 0.6, 0.5, 1),
    "STP": (0.9, 0.7, 0.4, 0.5),
    "STC": (0, 0.3, 0.2, 0.5),
    "TTT": (0, 0, 0, 0.25),
}


def _framework(tags=None):
    document = yaml.safe_load(
        (resources.files("questionnaires") / "frameworks" / "tuyen-quang-department-2022.yaml").read_text()
    )
    document["version"] = 2
    awareness = document["nodes"][0]
    for key in ("channels", "scoring", "measure", "criteria_count"):
        awareness.pop(key, None)
    awareness["children"] = [
        {
            "code": code,
            "kind": "criterion",
            "name": {"vi": code, "en": code},
            "points": points,
            "channels": ["self_assessment", "appraisal"],
            "scoring": {"method": "ratio", "target": 1},
            **({"about": tags if tags is not None else about} if (tags is not None or about) else {}),
        }
        for code, points, about in AWARENESS
    ]
    return framework_from_dict(document)


def test_each_rule_applies_to_its_own_units_on_its_own_criteria(app):
    from survey_app.core.extensions import db

    departments = units.load_provincial_unit_lists()["tuyen-quang-departments"]
    version, _ = frameworks.store_framework(_framework())
    evaluation = rounds.create_round("tq-2022", 2022, "TQ 2022", "TQ 2022", version, departments, actor=None)
    rows = [
        {"Mã đơn vị": unit, "Mã tiêu chí": code, "Giá trị": str(value).replace(".", ","), "Minh chứng": "x"}
        for unit, values in VALUES.items()
        for (code, _, _), value in zip(AWARENESS, values)
    ]
    data = pd.DataFrame(rows).to_csv(index=False).encode("utf-8-sig")
    channel_inputs.import_self_assessment(evaluation, data, "data.csv", actor=None)
    proposed = list(scoring.proposed_exclusions(evaluation)["node"])
    run = scoring.run_scoring(evaluation, excluded=[], kept=proposed, actor=None)

    # AW.1, about subordinate units: the departments without any (STC, TTT, BDT, BQLKCN) get the best points
    # of those with them, STP's 0.9 × 10 = 9; AW.2, about online services: TTT alone gets the best of the
    # others, STP's 7; AW.3: TTT, special-purpose, gets full marks 10; AW.4 is everyone's own
    def earned(unit):  # the run keeps each index as a share of the framework's 450 points
        return run.index[unit] * 450

    assert earned("SNV") == pytest.approx(8 + 6 + 5 + 20)
    assert earned("STP") == pytest.approx(9 + 7 + 4 + 10)
    assert earned("STC") == pytest.approx(9 + 3 + 2 + 10)  # its own 3 on AW.2: it provides online services
    assert earned("TTT") == pytest.approx(9 + 7 + 10 + 5)
    assert earned("BDT") == pytest.approx(9) and earned("SKHDT") == pytest.approx(0)
    points = scoring.result(run).points.set_index(["unit", "node"])
    assert points.loc[("TTT", "AW.3"), "source"] == "full_marks"
    assert points.loc[("STC", "AW.1"), "source"] == "peer_maximum"
    assert points.loc[("STC", "AW.2"), "source"] != "peer_maximum"
    cases = run.versions["attribute_rules"]
    assert [(case["tag"], sorted(case["units"]), case["criteria"]) for case in cases] == [
        ("subordinate_units", ["BDT", "BQLKCN", "STC", "TTT"], ["AW.1"]),
        ("online_services", ["TTT"], ["AW.2"]),
        ("unrelated_to_special_purpose", ["TTT"], ["AW.3"]),
    ]
    db.session.commit()


def test_an_unknown_tag_is_refused_with_the_node_named():
    with pytest.raises(FrameworkInvalid) as refused:
        _framework(tags=["subordinates"])
    assert any(issue.node == "AW.1" and issue.params.get("field") == "about" for issue in refused.value.issues)


def test_the_tags_survive_the_workbook_and_the_yaml():
    from questionnaires import read_workbook, read_yaml, to_workbook, to_yaml

    framework = _framework()
    for again in (read_workbook(to_workbook(framework)), read_yaml(to_yaml(framework))):
        assert [node.about for node in again.leaves() if node.code.startswith("AW.")] == [
            ("subordinate_units",),
            ("online_services",),
            ("unrelated_to_special_purpose",),
            (),
        ]
