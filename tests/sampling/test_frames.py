"""Reading frames from CSV and Excel, and the errors that name the row."""
import io

import pandas as pd
import pytest

from sampling import SamplingError, read_list_frame, read_population_frame

CSV = "province,urban,population\n01,urban,4000300\n01,rural,4093600\n02,urban,137200\n"


def test_population_frame_from_csv_and_excel():
    frame = read_population_frame(CSV.encode(), ["province", "urban"], name="frame.csv")
    assert frame.loc[("01", "rural")] == 4093600 and frame.sum() == 8231100
    buffer = io.BytesIO()
    pd.read_csv(io.StringIO(CSV), dtype=str).to_excel(buffer, index=False)
    from_excel = read_population_frame(buffer.getvalue(), ["province", "urban"], name="frame.xlsx")
    pd.testing.assert_series_equal(from_excel, frame)


@pytest.mark.parametrize("text, code, params", [
    ("province,urban,population\n01,urban,-5\n", "invalid_count", {"row": 2, "value": "-5"}),
    ("province,urban,population\n01,urban,\n", "missing_value", {"row": 2, "column": "population"}),
    ("province,urban,population\n01,urban,abc\n", "invalid_count", {"row": 2, "value": "abc"}),
    ("province,population\n01,5\n", "missing_column", {"column": "urban"}),
    ("province,urban,population\n01,urban,5\n01,urban,6\n", "duplicate_stratum", {"row": 3, "stratum": "01 × urban"}),
])
def test_bad_population_frames_name_the_row(text, code, params):
    with pytest.raises(SamplingError) as caught:
        read_population_frame(text.encode(), ["province", "urban"], name="frame.csv")
    assert (caught.value.code, caught.value.params) == (code, params)


def test_a_file_that_is_not_a_table_is_refused():
    with pytest.raises(SamplingError) as caught:
        read_population_frame(b"%PDF-1.4 \x00\x01", ["province"], name="frame.xlsx")
    assert caught.value.code == "unreadable_file"


def test_list_frame_with_size_measure():
    frame = read_list_frame(b"id,province,employees\n1, 01 ,10\n2,02,3\n", ["province"], size="employees",
                            name="firms.csv")
    assert frame["province"].tolist() == ["01", "02"] and frame["employees"].tolist() == [10, 3]
    with pytest.raises(SamplingError) as caught:
        read_list_frame(b"id,province,employees\n1,01,0\n", ["province"], size="employees", name="firms.csv")
    assert caught.value.params == {"row": 2, "value": "0"}
