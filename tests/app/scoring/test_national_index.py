"""The national level [1726 II.1.e]: the country as the one unit of its own frameworks (Decision 922's 24 indices
for 2021-2023, Decision 405's 12 in three pillars from 2024), computed like the other levels, year after year."""

import pandas as pd
import pytest

from survey_app.core.extensions import db
from survey_app.frameworks import operations as frameworks
from survey_app.rounds import operations as rounds
from survey_app.scoring import channel_inputs
from survey_app.scoring import operations as scoring
from survey_app.units import operations as units


def _report(evaluation, values: dict[str, str]):
    rows = [
        {"Mã đơn vị": "VN", "Mã tiêu chí": node, "Giá trị": value, "Minh chứng": "x"} for node, value in values.items()
    ]
    channel_inputs.import_self_assessment(
        evaluation, pd.DataFrame(rows).to_csv(index=False).encode("utf-8-sig"), "vn.csv", actor=None
    )
    proposed = list(scoring.proposed_exclusions(evaluation)["node"])
    assert proposed == []  # the one unit has data on every node: nothing to exclude
    return scoring.run_scoring(evaluation, excluded=[], actor=None)


def test_the_national_index_is_computed_for_the_country_across_the_change_of_framework(app):
    country = units.load_national_unit_list()
    stored = {(v.code, v.year): v for v, _ in frameworks.load_shipped_frameworks()}
    earlier = rounds.create_round(
        "dti-quoc-gia-2023",
        2023,
        "DTI quốc gia 2023",
        "National DTI 2023",
        stored[("national", 2021)],
        country,
        actor=None,
    )
    # the published 2023 value, one node of 1000 points until 922's annex is loaded
    run_2023 = _report(earlier, {"DTI": "0,7326"})
    assert run_2023.index == {"VN": pytest.approx(0.7326)}

    later = rounds.create_round(
        "dti-quoc-gia-2024",
        2024,
        "DTI quốc gia 2024",
        "National DTI 2024",
        stored[("national", 2024)],
        country,
        actor=None,
    )
    # Decision 405: digital government 400, economy 300, society 300; made-up pillar values
    run_2024 = _report(later, {"DG": "0,8", "DE": "0,75", "DS": "0,8"})
    # (0.8 × 400 + 0.75 × 300 + 0.8 × 300) / 1000 = (320 + 225 + 240) / 1000
    assert run_2024.index["VN"] == pytest.approx(0.785)
    table = scoring.ranking(run_2024).set_index("unit")
    assert table.loc["VN", ["DG", "DE", "DS"]].tolist() == pytest.approx([0.8, 0.75, 0.8])
    assert table.loc["VN", "rank"] == 1 and len(table) == 1
    # the national level's rounds follow each other like a province's
    assert later.level == earlier.level == "national"
    db.session.commit()


def test_a_national_framework_is_refused_for_a_list_of_another_level(app):
    from survey_app.core.errors import ServiceError

    version = next(v for v, _ in frameworks.load_shipped_frameworks() if v.code == "national" and v.year == 2024)
    with pytest.raises(ServiceError) as caught:
        rounds.create_round(
            "wrong", 2024, "x", "x", version, units.load_shipped_unit_lists()["provinces-2025"], actor=None
        )
    assert caught.value.code == "level_mismatch"
