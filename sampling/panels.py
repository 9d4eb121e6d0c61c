"""Expert panels: the 40/30/30 composition in whole numbers, whether a unit's nominations can fill it, a
reproducible selection with reserves per category, and the replacement of a decliner.

Letter 5066 (Annex II.3): each province proposes 15 to 20 experts, 40% retired leaders of the province, its
departments or districts; 30% serving officials of the province; 30% leaders of businesses, organisations
and associations of the province.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Mapping

import numpy as np
import pandas as pd

from sampling._errors import SamplingError
from sampling.allocation import _largest_remainder


class ExpertCategory(StrEnum):
    # listed in the order that breaks ties when shares are rounded
    RETIRED_LEADER = "retired_leader"
    SERVING_OFFICIAL = "serving_official"
    BUSINESS_LEADER = "business_leader"


#: the composition of a panel [5066 Annex II.3]
COMPOSITION: dict[ExpertCategory, float] = {
    ExpertCategory.RETIRED_LEADER: 0.4,
    ExpertCategory.SERVING_OFFICIAL: 0.3,
    ExpertCategory.BUSINESS_LEADER: 0.3,
}
PANEL_SIZES = range(15, 21)


def panel_quotas(size: int, composition: Mapping[ExpertCategory, float] = COMPOSITION) -> dict[ExpertCategory, int]:
    """The whole number of experts of each category in a panel of ``size``.

    Largest remainder: each category gets the whole part of its share of ``size``, and the experts left go to
    the largest fractional parts, ties broken in the order retired leaders, serving officials, business leaders.
    15 → 6/5/4, 16 → 6/5/5, 17 → 7/5/5, 18 → 7/6/5, 19 → 7/6/6, 20 → 8/6/6.

    :raises SamplingError: ``invalid_panel_size`` for a size below 1
    """
    if int(size) != size or size < 1:
        raise SamplingError("invalid_panel_size", "a panel needs a whole number of experts, got {size}", size=size)
    categories = list(ExpertCategory)
    shares = np.array([composition.get(category, 0.0) for category in categories], dtype=float)
    exact = shares / shares.sum() * size
    sizes = _largest_remainder(exact, int(size), np.zeros(len(categories)), np.full(len(categories), np.inf))
    return {category: int(n) for category, n in zip(categories, sizes)}


@dataclass(frozen=True)
class Shortfall:
    category: ExpertCategory
    needed: int
    nominated: int

    @property
    def missing(self) -> int:
        return max(self.needed - self.nominated, 0)


def shortfalls(nominated: Mapping[ExpertCategory | str, int], size: int) -> list[Shortfall]:
    """The categories whose nominations cannot fill a panel of ``size`` (empty when the panel can be filled)."""
    quotas = panel_quotas(size)
    found = [
        Shortfall(category, needed, int(nominated.get(category, nominated.get(str(category), 0))))
        for category, needed in quotas.items()
    ]
    return [one for one in found if one.missing]


@dataclass
class Panel:
    """A unit's panel: the selected experts and, per category, the reserves in the order they are called."""

    size: int
    members: list = field(default_factory=list)
    reserves: dict[ExpertCategory, list] = field(default_factory=dict)
    #: (declined id, replacement id or None when the category has no reserve left)
    replacements: list[tuple] = field(default_factory=list)


def select_panel(
    nominees: pd.DataFrame, size: int, *, seed: int, id_column: str = "id", category_column: str = "category"
) -> Panel:
    """Select a panel of ``size`` from a unit's nominees: in each category its quota drawn at random (each
    category from its own stream of ``seed``, so the same nominations and seed give the same panel), the rest
    of the category kept as reserves in a random order.

    :raises SamplingError: ``panel_shortfall`` naming the first category that cannot be filled;
        ``unknown_category`` for a nominee of no known category
    """
    unknown = sorted(set(nominees[category_column].astype(str)) - {str(c) for c in ExpertCategory})
    if unknown:
        raise SamplingError("unknown_category", "unknown expert category {category}", category=unknown[0])
    counts = nominees[category_column].astype(str).value_counts().to_dict()
    missing = shortfalls(counts, size)
    if missing:
        first = missing[0]
        raise SamplingError(
            "panel_shortfall",
            "{category} needs {needed} experts, {nominated} nominated",
            category=str(first.category),
            needed=first.needed,
            nominated=first.nominated,
        )
    panel = Panel(size)
    for category, quota in panel_quotas(size).items():
        # nominees in a stable order first, so that the file's row order does not change the draw
        ids = sorted(nominees.loc[nominees[category_column].astype(str) == str(category), id_column].tolist(), key=str)
        stream = np.random.default_rng([seed, zlib.crc32(str(category).encode())])
        order = [ids[i] for i in stream.permutation(len(ids))]
        panel.members.extend(order[:quota])
        panel.reserves[category] = order[quota:]
    return panel


def replace_member(panel: Panel, declined, category: ExpertCategory | str):
    """Replace a member who declined with the next reserve of the same category; the replacement (or None when
    the category has no reserve left, and the panel stays short)."""
    category = ExpertCategory(category)
    if declined not in panel.members:
        raise SamplingError("not_a_member", "{expert} is not on the panel", expert=declined)
    panel.members.remove(declined)
    reserves = panel.reserves.get(category, [])
    replacement = reserves.pop(0) if reserves else None
    if replacement is not None:
        panel.members.append(replacement)
    panel.replacements.append((declined, replacement))
    return replacement
