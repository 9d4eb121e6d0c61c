"""The shipped indicators of Decision 483/QĐ-BTTTT (29/3/2023), section II.1: every numbered indicator, and a sample
of rows checked against the decision's text (``../shared/seeds/002_9fd3dca20bceb5d9.txt``), transcribed here by
hand: the 2022 column, the three plan columns as written, legal basis, the measuring unit and the implementing and
coordinating bodies."""

import re
from pathlib import Path

import pytest

from survey_app.core.extensions import db
from survey_app.publication import targets
from survey_app.publication.models import StrategicIndicator

#: the numbers the decision's table gives, in its order; group 5 has no 5.5 or 5.6
NUMBERED = (
    [f"1.{n}" for n in range(1, 11)]
    + [f"2.{n}" for n in range(1, 4)]
    + [f"3.{n}" for n in range(1, 13)]
    + [f"4.{n}" for n in range(1, 23)]
    + ["5.1", "5.2", "5.3", "5.4", "5.7"]
)
#: the numbered indicators the table splits into rows with values
SPLIT = {"1.7": ["1.7.1", "1.7.2"], "3.5": ["3.5.1", "3.5.2", "3.5.3"]}

A = "Các bộ, ngành, địa phương"
#: code → (2022 value, {year: (comparison, target)}, legal basis, agency, coordinating agency), from the text
SAMPLE = {
    # group 1: 98% | 100% | - | 100%
    "1.1": (98.0, {"2023": ("", 100), "2025": ("", 100)}, "QĐ 942", "Cục CĐSQG", A),
    # - | 30% | 60% | ≥ 80%
    "1.4": (None, {"2023": ("", 30), "2024": ("", 60), "2025": ("≥", 80)}, "QĐ 942", "Cục CĐSQG", A),
    # split: "- Hộ gia đình" 75% | 85% | 90% | > 80%, agency on the heading row 1.7
    "1.7.1": (75.0, {"2023": ("", 85), "2024": ("", 90), "2025": (">", 80)}, "QĐ 749", "Cục Viễn thông", ""),
    "1.7.2": (100.0, {"2023": ("", 100), "2025": ("", 100)}, "QĐ 749", "Cục Viễn thông", ""),
    # 66% | 70% | 80% | ≥ 50%
    "1.8": (66.0, {"2023": ("", 70), "2024": ("", 80), "2025": ("≥", 50)}, "QĐ 749", "Vụ KTS&XHS", "NHNN Việt Nam"),
    # 86,97% written with a decimal comma
    "1.9": (
        86.97,
        {"2023": ("", 90), "2024": ("", 95), "2025": ("", 90)},
        "QĐ 942",
        "Cục CĐSQG",
        "Bộ Nội vụ; Các bộ, ngành, địa phương",
    ),
    # group 2: 11,2% | 50% | 80% | 100%
    "2.1": (11.2, {"2023": ("", 50), "2024": ("", 80), "2025": ("", 100)}, "QĐ 942", "Cục CĐSQG", A),
    "2.2": (None, {"2023": ("", 10), "2024": ("", 30), "2025": ("≥", 50)}, "QĐ 942", "Cục CĐSQG", A),
    # group 3, split: "Cấp huyện" 81,11% | 85% | 100% | 80%
    "3.5.2": (
        81.11,
        {"2023": ("", 85), "2024": ("", 100), "2025": ("", 80)},
        "QĐ 942;749",
        "Cục CĐSQG",
        "Các địa phương",
    ),
    # 45% | >50% | 80% | 100%
    "3.10": (45.0, {"2023": (">", 50), "2024": ("", 80), "2025": ("", 100)}, "QĐ 942", "Cục CĐSQG", A),
    "3.11": (45.0, {"2023": (">", 50), "2024": ("", 90), "2025": ("≥", 50)}, "QĐ 942", "Cục CĐSQG", A),
    # group 4: two bodies in the measuring column
    "4.2": (
        None,
        {"2023": ("", 50), "2024": ("", 80), "2025": ("", 100)},
        "QĐ 942",
        "Vụ Bưu chính; Tổng Công ty Bưu điện Việt Nam",
        "Các địa phương",
    ),
    # 100% | - | - | 100%
    "4.17": (100.0, {"2025": ("", 100)}, "QĐ 942", "Cục CĐSQG", "Bộ Tài chính"),
    # 14.26%(1) | 15,5% | 17,5% | 20%
    "4.19": (
        14.26,
        {"2023": ("", 15.5), "2024": ("", 17.5), "2025": ("", 20)},
        "QĐ 749",
        "Vụ KTS&XHS",
        "Bộ, ngành, địa phương",
    ),
    # group 5, ranks: 86(2) | - | 70 | Top 50
    "5.1": (86.0, {"2024": ("", 70), "2025": ("top", 50)}, "QĐ 942", "Cục CĐSQG", ""),
    # 25(5) | 30 | - | Top 40
    "5.4": (25.0, {"2023": ("", 30), "2025": ("top", 40)}, "QĐ 749", "Cục ATTT", ""),
    # 48(6) | 45 | 40 | Top 35
    "5.7": (48.0, {"2023": ("", 45), "2024": ("", 40), "2025": ("top", 35)}, "QĐ 942", "Vụ KTS&XHS", "Bộ KHCN"),
}


@pytest.fixture
def indicators(app):
    found = {row.code: row for row in targets.load_shipped_indicators(actor=None)}
    db.session.commit()
    return found


def _numbered(code: str) -> str:
    return ".".join(code.split(".")[:2])


def test_every_numbered_indicator_of_the_decision_is_shipped(indicators):
    assert len(indicators) == 55
    assert sorted({_numbered(code) for code in indicators}, key=lambda c: [int(p) for p in c.split(".")]) == NUMBERED
    assert len(NUMBERED) == 52
    for heading, parts in SPLIT.items():
        assert heading not in indicators and [code for code in indicators if code.startswith(heading + ".")] == parts
    # in the decision's order: 1.10 after 1.9, 3.5.1 after 3.4
    codes = list(indicators)
    assert codes.index("1.10") == codes.index("1.9") + 1 and codes.index("3.5.1") == codes.index("3.4") + 1
    # every row has its names in both languages, a measure, a legal basis, an agency and a target for 2025
    for row in indicators.values():
        assert row.name_vi and row.name_en and row.measure in {"%", "rank"} and row.legal_basis and row.agency
        assert "2025" in row.targets
    # only group 5 ranks, and ranks improve downwards
    assert {code for code, row in indicators.items() if row.lower_is_better} == {"5.1", "5.2", "5.3", "5.4", "5.7"}
    assert all(row.measure == "rank" for row in indicators.values() if row.lower_is_better)


@pytest.mark.parametrize("code", SAMPLE)
def test_a_sample_of_rows_reads_as_the_decision_writes_them(indicators, code):
    baseline, written, basis, agency, coordinating = SAMPLE[code]
    row = indicators[code]
    assert (row.baseline, row.baseline_year if baseline is not None else None) == (
        baseline,
        2022 if baseline is not None else None,
    )
    assert row.targets == {year: float(target) for year, (_, target) in written.items()}
    assert row.target_comparisons == {year: comparison for year, (comparison, _) in written.items() if comparison}
    assert (row.legal_basis, row.agency, row.coordinating_agency) == (basis, agency, coordinating)


def test_the_decisions_notes_on_the_2022_column(indicators):
    # note (1): the digital economy's share is MIC's provisional estimate
    assert indicators["4.19"].baseline_provisional
    assert "tạm ước tính" in indicators["4.19"].baseline_note_vi
    assert sum(row.baseline_provisional for row in indicators.values()) == 1
    # notes (2) to (6): the ranks' sources
    assert indicators["5.1"].baseline_note_vi == "Báo cáo khảo sát mức độ sẵn sàng CPĐT của Liên Hợp Quốc năm 2022"
    assert indicators["5.4"].baseline_note_en == "ITU's Global Cybersecurity Index 2021 report"
    assert indicators["5.7"].baseline_note_vi == "Báo cáo GII của WIPO năm 2021"


def test_the_split_rows_carry_their_headings_name(indicators):
    assert indicators["1.7.1"].name_vi == "Tỷ lệ phủ của hạ tầng mạng băng rộng cáp quang – Hộ gia đình"
    assert indicators["3.5.3"].name_vi.endswith("(trừ hồ sơ công việc thuộc phạm vi bí mật nhà nước) – Cấp xã")
    assert indicators["3.5.3"].name_en.endswith("– commune level")


def test_an_earlier_release_is_completed_without_undoing_corrections(app):
    """A database loaded from the 15 rows shipped before: the loader adds the 40 missing rows, and to those there
    the coordinating agency and the comparisons of targets still at the shipped figure."""
    db.session.add_all(
        [
            StrategicIndicator(code="1.4", name_vi="Tên cũ", targets={"2023": 30.0, "2024": 60.0, "2025": 80.0}),
            # staff corrected the 2025 target: its comparison is not guessed
            StrategicIndicator(code="2.2", name_vi="Tên cũ", targets={"2025": 60.0}, coordinating_agency="Bộ X"),
        ]
    )
    db.session.commit()
    found = {row.code: row for row in targets.load_shipped_indicators(actor=None)}
    assert len(found) == 55
    assert found["1.4"].target_comparisons == {"2025": "≥"} and found["1.4"].coordinating_agency == A
    assert found["1.4"].name_vi == "Tên cũ"
    assert found["2.2"].target_comparisons == {} and found["2.2"].coordinating_agency == "Bộ X"
    # once complete, loading again changes nothing
    targets.load_shipped_indicators(actor=None)
    assert found["1.4"].target_comparisons == {"2025": "≥"}


SEED = Path(__file__).resolve().parents[3].parent / "shared" / "seeds" / "002_9fd3dca20bceb5d9.txt"


def _decisions_table(text: str) -> dict[str, list[str]]:
    """The table of section II.1 as the seed's text lays it out: one cell a paragraph, an empty cell a blank one;
    a row starts at its number (a group's heading is its digit and its name)."""
    table = text[text.index("Cơ quan, đơn vị thực hiện, phối hợp\n") : text.index("2. Tổ chức đo lường chỉ tiêu")]
    cells = [cell.strip() for cell in table.split("\n\n")][1:]
    rows, position = {}, 0
    while position < len(cells):
        if re.fullmatch(r"\d+\.\d+(\.\d+)?", cells[position]):
            rows[cells[position]] = cells[position + 1 : position + 9]
            position += 9
        else:
            position += 1
    return rows


def _figure(cell: str) -> tuple[str, float] | None:
    """A cell as the shipped file reads it: without its % sign or its footnote mark, "-" for no figure."""
    return targets.parse_target(re.sub(r"\(\d\)$", "", cell).replace("%", ""))


@pytest.mark.skipif(not SEED.is_file(), reason="the decision's text is kept beside the repository, not in it")
def test_every_row_reads_as_the_decisions_text(indicators):
    table = _decisions_table(SEED.read_text(encoding="utf-8"))
    assert len(table) == 57  # 55 rows with values and the two headings of split indicators
    for code, row in indicators.items():
        heading = table.get(_numbered(code)) if code.count(".") == 2 else None
        name, baseline, *plan, basis, agency, coordinating = table[code]
        if heading is not None:
            name = f"{heading[0]} – {name.removeprefix('- ')}"
            agency = agency or heading[6]
        assert row.name_vi == re.sub(r"\(\d\)$", "", name), code
        assert (row.legal_basis, row.agency, row.coordinating_agency) == (basis, agency, coordinating), code
        figure = _figure(baseline)
        assert row.baseline == (figure[1] if figure else None), code
        written = {str(year): _figure(cell) for year, cell in zip((2023, 2024, 2025), plan, strict=True)}
        assert row.targets == {year: target[1] for year, target in written.items() if target}, code
        assert row.target_comparisons == {year: t[0] for year, t in written.items() if t and t[0]}, code
