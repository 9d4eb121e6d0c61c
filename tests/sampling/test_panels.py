"""Expert panels: the 40/30/30 quotas by the largest remainder, shortfalls, reproducible selection and
replacement within the category."""

import pandas as pd
import pytest

from sampling import ExpertCategory, SamplingError, panel_quotas, replace_member, select_panel, shortfalls

R, S, B = ExpertCategory.RETIRED_LEADER, ExpertCategory.SERVING_OFFICIAL, ExpertCategory.BUSINESS_LEADER


@pytest.mark.parametrize(
    "size, expected",
    [
        # 15: 6, 4.5, 4.5 → 6, 4, 4 and one left; serving officials win the tie
        (15, (6, 5, 4)),
        # 16: 6.4, 4.8, 4.8 → 6, 4, 4 and two left, to the two .8
        (16, (6, 5, 5)),
        # 17: 6.8, 5.1, 5.1 → 6, 5, 5 and one left, to the .8
        (17, (7, 5, 5)),
        # 18: 7.2, 5.4, 5.4 → 7, 5, 5 and one left; the .4 tie goes to serving officials
        (18, (7, 6, 5)),
        # 19: 7.6, 5.7, 5.7 → 7, 5, 5 and two left, to the two .7
        (19, (7, 6, 6)),
        (20, (8, 6, 6)),
    ],
)
def test_quotas_of_every_panel_size(size, expected):
    quotas = panel_quotas(size)
    assert (quotas[R], quotas[S], quotas[B]) == expected
    assert sum(quotas.values()) == size


def _nominees(retired, serving, business):
    rows = [(f"{c.value[0]}{i}", c.value) for c, n in ((R, retired), (S, serving), (B, business)) for i in range(n)]
    return pd.DataFrame(rows, columns=["id", "category"])


def test_a_category_that_cannot_be_filled_is_reported_with_its_shortfall():
    missing = shortfalls({"retired_leader": 9, "serving_official": 3, "business_leader": 6}, 18)
    assert [(m.category, m.needed, m.nominated, m.missing) for m in missing] == [(S, 6, 3, 3)]
    with pytest.raises(SamplingError) as error:
        select_panel(_nominees(9, 3, 6), 18, seed=1)
    assert error.value.code == "panel_shortfall" and error.value.params["category"] == "serving_official"


def test_selection_is_reproducible_keeps_reserves_and_replacement_keeps_the_category():
    nominees = _nominees(10, 8, 9)
    panel = select_panel(nominees, 18, seed=42)
    shuffled = select_panel(nominees.sample(frac=1, random_state=3), 18, seed=42)
    assert panel.members == shuffled.members and len(panel.members) == 18
    category = dict(zip(nominees["id"], nominees["category"]))
    assert [category[m] for m in panel.members].count("retired_leader") == 7
    assert len(panel.reserves[R]) == 3 and len(panel.reserves[S]) == 2 and len(panel.reserves[B]) == 4
    declined = next(m for m in panel.members if category[m] == "serving_official")
    first_reserve = panel.reserves[S][0]
    assert replace_member(panel, declined, S) == first_reserve
    assert category[first_reserve] == "serving_official" and declined not in panel.members
    # the replacement declines too: the second and last serving reserve comes in
    assert replace_member(panel, first_reserve, S) == panel.replacements[-1][1] is not None
    # once a category's reserves are used up, a decliner leaves the panel short
    replace_member(panel, next(m for m in panel.members if category[m] == "serving_official"), S)
    assert panel.replacements[-1][1] is None and len(panel.members) == 17


def test_a_nominee_of_unknown_category_is_refused():
    nominees = pd.concat([_nominees(8, 6, 6), pd.DataFrame([{"id": "x", "category": "journalist"}])])
    with pytest.raises(SamplingError) as error:
        select_panel(nominees, 20, seed=1)
    assert error.value.params["category"] == "journalist"
