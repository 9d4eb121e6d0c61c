"""The experts' part of the demo's 2021-2023 framework: its expert form has an item per scored main index (the
".E" criteria, 10% of each main index [1726 II.2.b.v]) and a unit's expert answers move its index by what a
hand computation gives."""

import pandas as pd
import pytest

from questionnaires import NodeKind, generate_expert, read_yaml
from survey_app.core.demo import demo_framework_path
from survey_app.core.extensions import db
from survey_app.experts import operations as experts
from survey_app.frameworks import operations as frameworks
from survey_app.scoring import channel_inputs
from survey_app.scoring import operations as scoring
from tests.conftest import expert_panel

#: each scored main index's expert criterion and its points: 10% of the main index's (smart city is not scored)
EXPERT_ITEMS = {"AW.E": 10, "INST.E": 10, "INFRA.E": 10, "HR.E": 10, "SEC.E": 10, "DG.E": 20, "DE.E": 15, "DS.E": 15}


def _run(evaluation):
    """A run keeping every criterion proposed for exclusion: Hà Nội alone has an expert panel here."""
    proposed = list(scoring.proposed_exclusions(evaluation)["node"])
    return scoring.run_scoring(evaluation, excluded=[], kept=proposed, actor=None)


def _submit_all(tokens, raw, prefix):
    for number, token in enumerate(tokens.values()):
        assert experts.submit(experts.open_link(token), raw, f"{prefix}-{number}") == {}


def test_the_demo_expert_form_has_an_item_per_scored_main_index():
    framework = read_yaml(demo_framework_path())
    scored_main = [node.code for node, _ in framework.walk() if node.kind == NodeKind.MAIN_INDEX and node.scored]
    questionnaire = generate_expert(framework)
    assert [section.code for section in questionnaire.sections] == scored_main
    assert [[item.code for item in section.items] for section in questionnaire.sections] == [
        [f"{code}.E"] for code in scored_main
    ]
    main_points = {node.code: node.points for node, _ in framework.walk() if node.code in scored_main}
    assert {item.code: item.points for item in questionnaire.items()} == {
        f"{code}.E": main_points[code] / 10 for code in scored_main
    }
    assert {item.code: item.points for item in questionnaire.items()} == EXPERT_ITEMS


def test_changed_expert_answers_move_the_units_index_by_the_hand_computed_amount(app, create_user):
    version, _ = frameworks.store_framework(read_yaml(demo_framework_path()))
    evaluation, _panel, tokens = expert_panel(version, round_code="demo-experts-2023", size=15)
    questionnaire = experts.questionnaire_of(experts.open_link(next(iter(tokens.values()))))
    assert {item.code: item.points for item in questionnaire.items()} == EXPERT_ITEMS
    # Hà Nội and Hồ Chí Minh City both have their steering committee: AW.1 yes, 27 points (the demo's 30 × 0.9)
    rows = [
        {"Mã đơn vị": unit, "Mã tiêu chí": "AW.1", "Giá trị": "có", "Minh chứng": "Quyết định số 1"}
        for unit in ("01", "79")
    ]
    data = pd.DataFrame(rows).to_csv(index=False).encode("utf-8-sig")
    channel_inputs.import_self_assessment(evaluation, data, "data.csv", actor=None)
    nothing = _run(evaluation)
    assert (nothing.index["01"], nothing.index["79"]) == pytest.approx((0.027, 0.027))

    # Hà Nội's fifteen experts give 3 on every item: (3 − 1) / 4 = 0.5 of each expert criterion, 0.5 × the 100
    # points the eight carry = 50
    _submit_all(tokens, {code: {"choice": "3"} for code in EXPERT_ITEMS}, "first")
    before = _run(evaluation)
    assert before.index["01"] == pytest.approx((27 + 50) / 1000)
    assert before.index["79"] == pytest.approx(0.027)
    assert scoring.ranking(before).set_index("unit").loc["01", "AW"] == pytest.approx((27 + 5) / 100)

    # the forms are reopened and every expert now gives 5 on awareness and 1 on digital government: AW.E 0.5 → 1
    # of its 10 points (+5), DG.E 0.5 → 0 of its 20 (−10); Hà Nội's index moves by (5 − 10) / 1000
    officer = create_user("scoring_officer")
    for token in tokens.values():
        experts.reopen(experts.open_link(token), reason="Phiếu cần xem lại", actor=officer)
    changed = {code: {"choice": "3"} for code in EXPERT_ITEMS} | {"AW.E": {"choice": "5"}, "DG.E": {"choice": "1"}}
    _submit_all(tokens, changed, "second")
    after = _run(evaluation)
    assert after.index["01"] - before.index["01"] == pytest.approx(((1 - 0.5) * 10 + (0 - 0.5) * 20) / 1000)
    assert after.index["01"] == pytest.approx((27 + 50 + 5 - 10) / 1000)
    # Hồ Chí Minh City has no panel: its index does not move
    assert after.index["79"] == before.index["79"] == pytest.approx(0.027)
    table = scoring.ranking(after).set_index("unit")
    # awareness holds AW.1's 27 and AW.E's full 10 of its 100 points; digital government none of its 200
    assert table.loc["01", "AW"] == pytest.approx((27 + 10) / 100)
    assert table.loc["01", "DG"] == pytest.approx(0)
    db.session.commit()
