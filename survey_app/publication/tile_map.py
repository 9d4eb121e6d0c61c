"""Vietnam's provincial units as tile grids, and the colour classes a map of published values is drawn in.

A tile grid (one equal square per unit, placed roughly where the unit lies: the wide north, the narrow centre, the
wider south) rather than drawn boundaries: no package in the registries ships the boundaries of the 34 units of
2025 under a licence that lets the product redistribute them, and one that is kept up to date (packages such as
``vietnam-provinces`` carry the lists of units, not their shapes; ``gadm`` downloads GADM's boundaries at run
time, under a licence that forbids redistribution). A grid also gives every unit the same weight: Hà Nội is as
visible as Lâm Đồng, which a ranking of units (not of land) wants.

The grids are keyed by the codes the product stores (``units/data``): the GSO code of each of the 63 provinces,
and for a 2025 unit the GSO code of the predecessor that gave it its name. Columns run west to east, rows north to
south; each tile carries a short label (at most four characters) drawn on it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Mapping


@dataclass(frozen=True)
class Tile:
    column: int
    row: int
    #: the unit's short label drawn on its tile
    label: str


def _grid(rows: Iterable[tuple[str, int, int, str]]) -> dict[str, Tile]:
    return {code: Tile(column, row, label) for code, column, row, label in rows}


#: the 63 provinces and centrally-run cities evaluated up to the 2024 round (``provinces-2019``)
PROVINCES_2019 = _grid(
    [
        ("12", 3, 0, "LCh"), ("10", 4, 0, "LC"), ("02", 5, 0, "HG"), ("04", 6, 0, "CB"),
        ("11", 2, 1, "ĐB"), ("15", 4, 1, "YB"), ("08", 5, 1, "TQ"), ("06", 6, 1, "BK"), ("20", 7, 1, "LS"),
        ("14", 3, 2, "SL"), ("25", 4, 2, "PT"), ("26", 5, 2, "VP"), ("19", 6, 2, "TN"), ("24", 7, 2, "BG"),
        ("22", 8, 2, "QNi"),
        ("17", 4, 3, "HB"), ("01", 5, 3, "HN"), ("27", 6, 3, "BN"), ("30", 7, 3, "HD"), ("31", 8, 3, "HP"),
        ("35", 5, 4, "HNa"), ("33", 6, 4, "HY"), ("34", 7, 4, "TB"),
        ("38", 4, 5, "TH"), ("37", 5, 5, "NB"), ("36", 6, 5, "NĐ"),
        ("40", 4, 6, "NA"), ("42", 5, 6, "HT"),
        ("44", 5, 7, "QB"),
        ("45", 5, 8, "QT"),
        ("46", 5, 9, "Huế"), ("48", 6, 9, "ĐN"),
        ("49", 6, 10, "QNa"),
        ("62", 5, 11, "KT"), ("51", 6, 11, "QNg"),
        ("64", 5, 12, "GL"), ("52", 6, 12, "BĐ"),
        ("66", 5, 13, "ĐL"), ("54", 6, 13, "PY"),
        ("70", 3, 14, "BP"), ("67", 4, 14, "ĐNo"), ("68", 5, 14, "LĐ"), ("56", 6, 14, "KH"),
        ("72", 2, 15, "TNi"), ("74", 3, 15, "BD"), ("75", 4, 15, "ĐNa"), ("60", 5, 15, "BTh"), ("58", 6, 15, "NT"),
        ("89", 0, 16, "AG"), ("87", 1, 16, "ĐT"), ("80", 2, 16, "LA"), ("79", 3, 16, "HCM"), ("77", 4, 16, "VT"),
        ("91", 0, 17, "KG"), ("92", 1, 17, "CT"), ("86", 2, 17, "VL"), ("82", 3, 17, "TG"), ("83", 4, 17, "BTr"),
        ("93", 1, 18, "HGi"), ("94", 2, 18, "ST"), ("84", 3, 18, "TV"),
        ("96", 0, 19, "CM"), ("95", 1, 19, "BL"),
    ]
)  # fmt: skip

#: the 34 provincial units of the 2025 reorganisation (``provinces-2025``)
PROVINCES_2025 = _grid(
    [
        ("12", 1, 0, "LCh"), ("10", 2, 0, "LC"), ("08", 3, 0, "TQ"), ("04", 4, 0, "CB"),
        ("11", 0, 1, "ĐB"), ("14", 1, 1, "SL"), ("25", 2, 1, "PT"), ("19", 3, 1, "TN"), ("20", 4, 1, "LS"),
        ("01", 2, 2, "HN"), ("27", 3, 2, "BN"), ("22", 4, 2, "QNi"),
        ("37", 2, 3, "NB"), ("33", 3, 3, "HY"), ("31", 4, 3, "HP"),
        ("38", 2, 4, "TH"),
        ("40", 2, 5, "NA"), ("42", 3, 5, "HT"),
        ("45", 3, 6, "QT"),
        ("46", 3, 7, "Huế"), ("48", 4, 7, "ĐN"),
        ("51", 4, 8, "QNg"),
        ("64", 4, 9, "GL"),
        ("66", 4, 10, "ĐL"),
        ("68", 3, 11, "LĐ"), ("56", 4, 11, "KH"),
        ("72", 1, 12, "TNi"), ("75", 2, 12, "ĐNa"),
        ("89", 0, 13, "AG"), ("87", 1, 13, "ĐT"), ("79", 2, 13, "HCM"),
        ("92", 1, 14, "CT"), ("86", 2, 14, "VL"),
        ("96", 0, 15, "CM"),
    ]
)  # fmt: skip

#: the grids by the code of the shipped unit list they draw (``units.operations``)
GRIDS: dict[str, dict[str, Tile]] = {"provinces-2019": PROVINCES_2019, "provinces-2025": PROVINCES_2025}


def grid_for(unit_list_code: str, unit_codes: Iterable[str]) -> dict[str, Tile] | None:
    """The grid a round's units are drawn on.

    :param unit_list_code: the code of the round's unit list
    :param unit_codes: the codes of its units
    :return: the grid drawn for that list; else the grid that has exactly those units (a list an administrator
        imported from the same GSO table under another code); else ``None`` (ministries, a province's communes)
    """
    if unit_list_code in GRIDS:
        return GRIDS[unit_list_code]
    wanted = set(unit_codes)
    return next((grid for grid in GRIDS.values() if set(grid) == wanted), None)


def grid_size(grid: Mapping[str, Tile]) -> tuple[int, int]:
    """The number of columns and rows a grid spans."""
    return max(tile.column for tile in grid.values()) + 1, max(tile.row for tile in grid.values()) + 1


#: a sequential scale of blues, lightest (lowest values) first, each with the colour of the text drawn on it: dark
#: on the three light fills, white on the two dark ones, each pair at least 4.5:1 (WCAG AA for small text)
CLASS_COLOURS: tuple[tuple[str, str], ...] = (
    ("#eff3ff", "#1a1a1a"),
    ("#c6dbef", "#1a1a1a"),
    ("#6baed6", "#1a1a1a"),
    ("#2171b5", "#ffffff"),
    ("#08306b", "#ffffff"),
)
#: a unit without a value: a light grey hatched tile (its pattern is drawn in the page) with dark text
NO_DATA_FILL, NO_DATA_TEXT = "#f3f5f8", "#1a1a1a"


@dataclass(frozen=True)
class ValueClass:
    #: 1 for the lowest values up to the number of classes
    number: int
    low: float
    high: float
    fill: str
    text: str


def value_classes(values: Iterable[float | None], count: int = len(CLASS_COLOURS)) -> list[ValueClass]:
    """Equal intervals between the lowest and the highest of the values, lowest first, each with its colours.

    Equal intervals rather than quantiles: a class is a range of values the legend and the table state, and units
    with equal values always share a class. Where every value is the same there is one class, the darkest.

    :param values: the units' values; ``None`` and NaN (no data) are left out
    :param count: how many classes, at most the number of colours
    :return: the classes, or none when no unit has a value
    """
    if not 1 <= count <= len(CLASS_COLOURS):
        raise ValueError(f"between 1 and {len(CLASS_COLOURS)} classes, not {count}")
    known = [value for value in values if value is not None and math.isfinite(value)]
    if not known:
        return []
    low, high = min(known), max(known)
    if high == low:
        fill, text = CLASS_COLOURS[-1]
        return [ValueClass(1, low, high, fill, text)]
    # fewer classes take the darker colours, so that the top class is always the darkest
    colours = CLASS_COLOURS[len(CLASS_COLOURS) - count :]
    width = (high - low) / count
    return [
        ValueClass(i + 1, low + i * width, high if i == count - 1 else low + (i + 1) * width, *colours[i])
        for i in range(count)
    ]


def class_of(value: float | None, classes: list[ValueClass]) -> ValueClass | None:
    """The class a value falls in (a value on a boundary belongs to the class above it), or ``None`` for no data."""
    if value is None or not math.isfinite(value) or not classes:
        return None
    return next((found for found in reversed(classes) if value >= found.low), classes[0])
