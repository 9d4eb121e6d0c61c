"""Write the shipped district and commune lists of Tuyên Quang and Quảng Nam (survey_app/units/data/) from the
`vietnam-provinces` package's copy of the General Statistics Office's divisions.

    .venv/bin/pip download vietnam-provinces==0.6.0 --no-deps -d /tmp/vp
    .venv/bin/python scripts/unit_lists_from_vietnam_provinces.py /tmp/vp/vietnam_provinces-0.6.0-py3-none-any.whl

The package is not a dependency of the service: the lists are data, shipped as CSV files an official can read
and correct, and this script says where every row came from. Version 0.6.0 carries the GSO table of 2025-01-04
(the divisions as they stood at the end of 2024, before the 2025 reorganisation); see the data README for how
that differs from the frameworks' years.
"""

from __future__ import annotations

import csv
import json
import sys
import unicodedata
import zipfile
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "survey_app" / "units" / "data"
SOURCE = "vietnam-provinces 0.6.0 (GSO, 2025-01-04)"
#: GSO province codes
PROVINCES = {"tuyen_quang": 8, "quang_nam": 49}
#: a division's Vietnamese prefix and the English word that follows its name
KINDS = {
    "Thành phố": "City",
    "Thị xã": "Town",
    "Huyện": "District",
    "Quận": "District",
    "Phường": "Ward",
    "Thị trấn": "Township",
    "Xã": "Commune",
}


def ascii_name(text: str) -> str:
    """Vietnamese without its marks (đ as d), as English texts write place names."""
    text = text.replace("Đ", "D").replace("đ", "d")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def english(name: str) -> str:
    """ "Huyện Lâm Bình" → "Lam Binh District"."""
    for prefix, word in KINDS.items():
        if name.startswith(prefix + " "):
            return f"{ascii_name(name[len(prefix) + 1 :])} {word}"
    return ascii_name(name)


def divisions(wheel: Path) -> list[dict]:
    with zipfile.ZipFile(wheel) as archive:
        return json.loads(archive.read("vietnam_provinces/data/nested-divisions.json"))


def write(path: Path, rows: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"{path.name}: {len(rows)} units")


def main(wheel: Path) -> None:
    found = {p["code"]: p for p in divisions(wheel)}
    for key, code in PROVINCES.items():
        province = found[code]
        districts, communes = [], []
        for district in province["districts"]:
            districts.append(
                {
                    "code": f"{district['code']:03d}",
                    "name": district["name"],
                    "name_en": english(district["name"]),
                    "parent": f"{code:02d}",
                    # every district-level unit has communes under it and serves the public online
                    "has_subordinate_units": "yes",
                    "provides_online_services": "yes",
                    "special_purpose": "no",
                }
            )
            for ward in district["wards"]:
                communes.append(
                    {
                        "code": f"{ward['code']:05d}",
                        "name": ward["name"],
                        "name_en": english(ward["name"]),
                        "parent": f"{district['code']:03d}",
                        "has_subordinate_units": "no",
                        "provides_online_services": "yes",
                        "special_purpose": "no",
                    }
                )
        write(DATA / f"{key}_districts.csv", districts)
        write(DATA / f"{key}_communes.csv", communes)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))
