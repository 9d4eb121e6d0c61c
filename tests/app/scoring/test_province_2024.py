"""The 2024 round under Decision 405, as it was published: computed on the 63 provinces, and for the 34 units of
2025 each unit's main-index values the average of its predecessors' [405; announcement of 21/10/2025]."""

import pandas as pd
import pytest

from analysis.index import index_from_values, merge_units
from survey_app.core.extensions import db
from survey_app.frameworks import operations as frameworks
from survey_app.rounds import operations as rounds
from survey_app.scoring import channel_inputs
from survey_app.scoring import operations as scoring
from survey_app.units import operations as units


def test_the_2024_round_on_the_63_provinces_gives_the_34_units_by_averaging_main_indices(app):
    lists = units.load_shipped_unit_lists()
    version = next(
        v for v, _ in frameworks.load_shipped_frameworks() if (v.code, v.year) == ("national-province", 2024)
    )
    evaluation = rounds.create_round(
        "dti-2024", 2024, "DTI 2024", "DTI 2024", version, lists["provinces-2019"], actor=None
    )
    rows = [
        # Tuyên Quang: awareness 1, digital government 0.5; Hà Giang: awareness 0.5, digital economy 1
        ("08", "AW", "1"),
        ("08", "DG", "0,5"),
        ("02", "AW", "0,5"),
        ("02", "DE", "1"),
    ]
    data = (
        pd.DataFrame([{"Mã đơn vị": u, "Mã tiêu chí": c, "Giá trị": v, "Minh chứng": "x"} for u, c, v in rows])
        .to_csv(index=False)
        .encode("utf-8-sig")
    )
    channel_inputs.import_self_assessment(evaluation, data, "data.csv", actor=None)
    proposed = list(scoring.proposed_exclusions(evaluation)["node"])
    run = scoring.run_scoring(evaluation, excluded=[], kept=proposed, actor=None)
    # (100 + 0.5 × 200) / 1000 and (50 + 150) / 1000 on 922's interim points
    assert (run.index["08"], run.index["02"]) == pytest.approx((0.2, 0.2))

    values = scoring.result(run).scores.values()
    predecessors = {unit.code: [old.code for old in unit.predecessors] for unit in lists["provinces-2025"].units}
    merged = merge_units(values, predecessors)
    assert len(merged) == 34
    # the new Tuyên Quang (code 08): awareness (1 + 0.5) / 2, digital government 0.25, digital economy 0.5
    tuyen_quang = merged.loc["08"]
    assert tuyen_quang[["AW", "DG", "DE", "DS"]].tolist() == pytest.approx([0.75, 0.25, 0.5, 0])
    framework = frameworks.framework_of(version)
    # (0.75 × 100 + 0.25 × 200 + 0.5 × 150) / 1000
    assert index_from_values(framework, tuyen_quang.to_dict()) == pytest.approx(0.2)
    db.session.commit()
