"""Reading frames from CSV and Excel, and the errors that name the row."""

import io

import pandas as pd
import pytest

from sampling import SamplingError, read_list_frame, read_population_frame, read_stratum_deviations

CSV = "province,urban,population\n01,urban,4000300\n01,rural,4093600\n02,urban,137200\n"


def test_population_frame_from_csv_and_excel():
    frame = read_population_frame(CSV.encode(), ["province", "urban"], name="frame.csv")
    assert frame.loc[("01", "rural")] == 4093600 and frame.sum() == 8231100
    buffer = io.BytesIO()
    pd.read_csv(io.StringIO(CSV), dtype=str).to_excel(buffer, index=False)
    from_excel = read_population_frame(buffer.getvalue(), ["province", "urban"], name="frame.xlsx")
    pd.testing.assert_series_equal(from_excel, frame)


@pytest.mark.parametrize(
    "text, code, params",
    [
        ("province,urban,population\n01,urban,-5\n", "invalid_count", {"row": 2, "value": "-5"}),
        ("province,urban,population\n01,urban,\n", "missing_value", {"row": 2, "column": "population"}),
        ("province,urban,population\n01,urban,abc\n", "invalid_count", {"row": 2, "value": "abc"}),
        ("province,population\n01,5\n", "missing_column", {"column": "urban"}),
        (
            "province,urban,population\n01,urban,5\n01,urban,6\n",
            "duplicate_stratum",
            {"row": 3, "stratum": "01 × urban"},
        ),
    ],
)
def test_bad_population_frames_name_the_row(text, code, params):
    with pytest.raises(SamplingError) as caught:
        read_population_frame(text.encode(), ["province", "urban"], name="frame.csv")
    assert (caught.value.code, caught.value.params) == (code, params)


def test_a_file_that_is_not_a_table_is_refused():
    with pytest.raises(SamplingError) as caught:
        read_population_frame(b"%PDF-1.4 \x00\x01", ["province"], name="frame.xlsx")
    assert caught.value.code == "unreadable_file"


def test_list_frame_with_size_measure():
    frame = read_list_frame(
        b"id,province,employees\n1, 01 ,10\n2,02,3\n", ["province"], size="employees", name="firms.csv"
    )
    assert frame["province"].tolist() == ["01", "02"] and frame["employees"].tolist() == [10, 3]
    with pytest.raises(SamplingError) as caught:
        read_list_frame(b"id,province,employees\n1,01,0\n", ["province"], size="employees", name="firms.csv")
    assert caught.value.params == {"row": 2, "value": "0"}


SEX_FRAME = (
    "province,urban,sex,population\n01,urban,female,1200\n01,urban,male,1100\n01,rural,female,3000\n"
    "01,rural,male,2900\n02,urban,female,70\n02,urban,male,65\n02,rural,female,400\n02,rural,male,380\n"
)


def test_strata_fewer_than_the_columns_add_the_rows_up():
    frame = read_population_frame(SEX_FRAME.encode(), ["province", "urban"], name="frame.csv")
    # 1,200 + 1,100; 3,000 + 2,900; 70 + 65; 400 + 380, in the order the strata first appear
    assert frame.index.tolist() == [("01", "urban"), ("01", "rural"), ("02", "urban"), ("02", "rural")]
    assert frame.tolist() == [2300, 5900, 135, 780]
    by_province = read_population_frame(SEX_FRAME.encode(), ["province"], name="frame.csv")
    assert by_province.index.name == "province" and by_province.to_dict() == {"01": 8200, "02": 915}
    by_sex = read_population_frame(SEX_FRAME.encode(), ["sex"], name="frame.csv")
    assert by_sex.to_dict() == {"female": 1200 + 3000 + 70 + 400, "male": 1100 + 2900 + 65 + 380}


def test_a_row_repeated_in_every_column_is_still_refused():
    repeated = SEX_FRAME + "01,urban,male,5\n"
    with pytest.raises(SamplingError) as caught:
        read_population_frame(repeated.encode(), ["province", "urban"], name="frame.csv")
    assert (caught.value.code, caught.value.params) == ("duplicate_stratum", {"row": 10, "stratum": "01 × urban"})


def test_a_column_named_twice_is_refused():
    with pytest.raises(SamplingError) as caught:
        read_population_frame(SEX_FRAME.encode(), ["province", "province"], name="frame.csv")
    assert (caught.value.code, caught.value.params) == ("column_twice", {"column": "province"})
    with pytest.raises(SamplingError) as caught:
        read_population_frame(SEX_FRAME.encode(), ["population"], name="frame.csv")
    assert caught.value.code == "column_twice"


def test_expected_proportions_of_the_rows_combine_into_the_strata():
    frame = (
        "province,sex,population,aware\n01,female,100,0.2\n01,male,300,0.6\n02,female,50,0.1\n02,male,50,0.1\n"
    ).encode()
    deviations = read_stratum_deviations(frame, ["province"], "aware", kind="proportion", name="frame.csv")
    # 01: P = (100 × 0.2 + 300 × 0.6) / 400 = 0.5, S = sqrt(0.25); 02: P = 0.1, S = sqrt(0.09)
    assert deviations.index.name == "province"
    assert deviations.to_dict() == pytest.approx({"01": 0.5, "02": 0.3})


def test_standard_deviations_must_agree_within_a_stratum():
    frame = "province,sex,population,sd\n01,female,100,2\n01,male,300,2\n02,female,50,1\n02,male,50,3\n"
    by_sex = read_stratum_deviations(frame.encode(), ["province", "sex"], "sd", name="frame.csv")
    assert by_sex.tolist() == [2, 2, 1, 3]
    with pytest.raises(SamplingError) as caught:
        read_stratum_deviations(frame.encode(), ["province"], "sd", name="frame.csv")
    assert (caught.value.code, caught.value.params) == ("varying_sd", {"stratum": "02"})


@pytest.mark.parametrize("value, kind", [("abc", "sd"), ("-1", "sd"), ("1.5", "proportion")])
def test_a_bad_deviation_names_the_row(value, kind):
    frame = f"province,population,spread\n01,100,0.5\n02,100,{value}\n"
    with pytest.raises(SamplingError) as caught:
        read_stratum_deviations(frame.encode(), ["province"], "spread", kind=kind, name="frame.csv")
    assert (caught.value.code, caught.value.params) == (
        "invalid_deviation",
        {"row": 3, "value": value, "column": "spread"},
    )
