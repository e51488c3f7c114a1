"""nnspec/program/sources: CSV tables read and checked directly, without rendering a program."""

from __future__ import annotations

import pytest

from nnspec.program.errors import DataError
from nnspec.program.sources.csv_source import load_csv
from nnspec.program.sources.table import label_column, label_order, number, numeric_column, read_table

torch = pytest.importorskip("torch")


@pytest.fixture
def csv_file(tmp_path):
    def write(content, name="t.csv") -> str:
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        return str(path)

    return write


def code_of(call, *args) -> str:
    with pytest.raises(DataError) as raised:
        call(*args)
    return raised.value.code


def test_rows_keep_their_line_numbers_blank_lines_skipped_bom_dropped(csv_file):
    table = read_table(csv_file(b"\xef\xbb\xbfa,b\n1,x\n\n2,y\n"), ",")
    assert table.header == ["a", "b"]
    assert table.rows == [["1", "x"], ["2", "y"]]
    assert table.lines == [2, 4]
    assert table.column("b") == 1


@pytest.mark.parametrize(
    "content, code",
    [
        ("", "E504"),  # empty
        ("a,b\n", "E504"),  # a header and no rows
        ("a,a\n1,2\n", "E515"),  # a column named twice
        ("a,b\n1,2,3\n", "E511"),  # a row longer than the header
        (b"a,b\n1,\xff\n", "E511"),  # not UTF-8
    ],
)
def test_bad_files_are_data_errors_with_codes(csv_file, content, code):
    assert code_of(read_table, csv_file(content), ",") == code


def test_a_bad_line_is_named_and_another_delimiter_is_suggested(csv_file):
    path = csv_file("a;b\n1;2\n3,4\n")
    with pytest.raises(DataError) as raised:
        read_table(path, ";")
    assert raised.value.code == "E511" and f"{path}:3:" in raised.value.message
    with pytest.raises(DataError) as raised:
        read_table(csv_file("a;b\n1;2,3\n"), ",")  # the header holds ";": delimiter=";"?
    assert "';'" in raised.value.message


def test_unreadable_path_is_e501(tmp_path):
    assert code_of(read_table, str(tmp_path / "missing.csv"), ",") == "E501"


def test_numeric_column_names_bad_cells_and_counts_the_rest(csv_file):
    rows = "".join(f"{v},0\n" for v in ["1", "", "x", "inf", "1e39", "nan", "2", "y"])
    table = read_table(csv_file("a,b\n" + rows), ",")
    with pytest.raises(DataError) as raised:
        numeric_column(table, "a")
    assert raised.value.code == "E511"
    assert "line 3:" in raised.value.message and " and 1 more" in raised.value.message  # 6 bad, 5 shown


def test_numeric_and_label_columns(csv_file):
    table = read_table(csv_file("a,label\n1.5,cat\n-2, dog \n"), ",")
    assert numeric_column(table, "a") == [1.5, -2.0]
    assert label_column(table, "label") == ["cat", "dog"]
    missing = read_table(csv_file("a,label\n1,cat\n2,NaN\n"), ",")
    assert code_of(label_column, missing, "label") == "E511"


def test_number_and_label_order():
    assert number("3") == 3.0 and isinstance(number(""), str) and isinstance(number("nan"), str)
    assert sorted(["b", "10", "2", "a", "2.0"], key=label_order) == ["2", "2.0", "10", "a", "b"]


def test_load_csv_features_labels_and_unused_columns(csv_file):
    samples = load_csv(csv_file("x,y,note,label\n1,2,3,a\n4,5,6,b\n"), target="label", features=["x", "y"])
    assert samples.x.dtype == torch.float64 and samples.x.tolist() == [[1, 2], [4, 5]]
    assert samples.labels == ["a", "b"] and samples.columns == ["x", "y"] and samples.unused == ["note"]
    everything = load_csv(csv_file("x,y,label\n1,2,a\n"), target="label")
    assert everything.columns == ["x", "y"] and everything.unused == []
    assert code_of(load_csv, csv_file("x,label\n1,a\n"), ",", "label", ["x", "z"]) == "E502"
