"""CSV ingestion: types, class assignment and error messages a user can act on."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cmsnn.config.checks import assign_classes
from cmsnn.dataframes import read_parquet
from cmsnn.ingestion.csv_files import ingest_csv_files, label_classes, read_ahead, read_events

FEATURES = ["Met", "Njet"]
CLASSES = [
    {"name": "Signal", "patterns": ["T2DegStop_*"]},
    {"name": "Wjets", "patterns": ["WJets*", "Wj*"]},
    {"name": "TTbar", "patterns": ["TT*"]},
    {"name": "Other", "patterns": ["*"]},
]
#: The tutorial files' columns, as the CSV ingestion takes them.
COLUMNS = {"features": FEATURES, "weight_column": "Weights", "process_column": "Process"}

HEADERLESS = (
    "250.5,2,0.001,T2DegStop_500_470.root\n"
    "301.25,1,1.5e-4,WJetsToLNu_HT200To400.root\n"
    "410,3,0.25,TTJets_DiLept.root\n"
    "222,4,3,WWTo2L2Nu.root\n"
)


def write(tmp_path, text, name="events.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def read(path, header=False):
    return read_events(path, FEATURES, "Weights", "Process", header)


# --- reading valid files -------------------------------------------------------------


def test_headerless_values_and_dtypes(tmp_path):
    events = read(write(tmp_path, HEADERLESS))
    assert list(events.columns) == ["Met", "Njet", "weight", "process"]
    assert events["Met"].dtype == np.float32
    assert events["Njet"].dtype == np.float32
    assert events["weight"].dtype == np.float64
    assert pd.api.types.is_string_dtype(events["process"])
    np.testing.assert_array_equal(events["Met"], np.float32([250.5, 301.25, 410, 222]))
    np.testing.assert_array_equal(events["Njet"], np.float32([2, 1, 3, 4]))
    # the weight keeps full double precision (not rounded through float32)
    assert events["weight"].tolist() == [0.001, 1.5e-4, 0.25, 3.0]
    assert events["process"].tolist() == [
        "T2DegStop_500_470.root",
        "WJetsToLNu_HT200To400.root",
        "TTJets_DiLept.root",
        "WWTo2L2Nu.root",
    ]


def test_header_picks_configured_columns_in_any_order(tmp_path):
    text = (
        "Process,Njet,Unused,Weights,Met\n"
        "T2DegStop_500_470.root,2,foo,0.001,250.5\n"
        "TTJets_DiLept.root,3,bar,0.25,410\n"
    )
    events = read(write(tmp_path, text), header=True)
    assert list(events.columns) == ["Met", "Njet", "weight", "process"]
    assert events["Met"].tolist() == [250.5, 410.0]
    assert events["Njet"].tolist() == [2.0, 3.0]
    assert events["weight"].tolist() == [0.001, 0.25]
    assert events["process"].tolist() == ["T2DegStop_500_470.root", "TTJets_DiLept.root"]
    assert events["Met"].dtype == np.float32 and events["weight"].dtype == np.float64


def test_header_and_headerless_files_read_the_same(tmp_path):
    headerless = read(write(tmp_path, HEADERLESS, "a.csv"))
    with_header = read(write(tmp_path, "Met,Njet,Weights,Process\n" + HEADERLESS, "b.csv"), True)
    pd.testing.assert_frame_equal(headerless, with_header)


# --- class assignment ----------------------------------------------------------------


def test_assign_classes_ordered_patterns():
    processes = [
        "T2DegStop_500_470.root",
        "WJetsToLNu_HT200To400.root",
        "Wjj.root",
        "TTJets_DiLept.root",
        "ZJetsToNuNu_HT200To400.root",
        "T2DegStop_500_470.root",  # repeated names are fine
    ]
    assert assign_classes(processes, CLASSES) == {
        "T2DegStop_500_470.root": 0,
        "WJetsToLNu_HT200To400.root": 1,
        "Wjj.root": 1,
        "TTJets_DiLept.root": 2,
        "ZJetsToNuNu_HT200To400.root": 3,
    }


def test_first_matching_class_wins_even_if_a_later_one_is_more_specific():
    classes = [
        {"name": "broad", "patterns": ["W*"]},
        {"name": "specific", "patterns": ["WJets*"]},
    ]
    assert assign_classes(["WJetsToLNu.root"], classes) == {"WJetsToLNu.root": 0}
    # and a catch-all placed first takes everything
    catch_all_first = [{"name": "all", "patterns": ["*"]}, *CLASSES]
    assert set(assign_classes(["TTJets.root", "T2DegStop_1.root"], catch_all_first).values()) == {0}


def test_unmatched_process_is_an_error_naming_it():
    classes = CLASSES[:3]  # no catch-all
    with pytest.raises(ValueError, match="ZJetsToNuNu_HT200To400.root"):
        assign_classes(["TTJets_DiLept.root", "ZJetsToNuNu_HT200To400.root"], classes)


def test_label_classes_adds_name_and_index_per_event(tmp_path):
    events = label_classes(read(write(tmp_path, HEADERLESS)), CLASSES)
    assert events["class"].tolist() == ["Signal", "Wjets", "TTbar", "Other"]
    assert events["class_index"].tolist() == [0, 1, 2, 3]
    assert events["class_index"].dtype == np.int32


# --- ingest_csv: Parquet with the documented types -----------------------------------


def test_ingest_csv_writes_typed_parquet(tmp_path):
    source = write(tmp_path, HEADERLESS)
    output = tmp_path / "out" / "events.parquet"
    ingest_csv_files(csv=source, parquet=output, **COLUMNS, header=False, classes=CLASSES)
    schema = pq.read_schema(output)
    assert schema.names == [
        "Met", "Njet", "weight", "process", "source_file", "source_entry", "class", "class_index"
    ]  # fmt: skip
    assert schema.field("Met").type == pa.float32()
    assert schema.field("Njet").type == pa.float32()
    assert schema.field("weight").type == pa.float64()
    assert pa.types.is_string(schema.field("process").type) or pa.types.is_large_string(
        schema.field("process").type
    )
    assert pa.types.is_string(schema.field("class").type) or pa.types.is_large_string(
        schema.field("class").type
    )
    assert schema.field("class_index").type == pa.int32()
    events = read_parquet(output)
    assert events["class"].tolist() == ["Signal", "Wjets", "TTbar", "Other"]
    assert events["weight"].tolist() == [0.001, 1.5e-4, 0.25, 3.0]
    # where each event came from: the file and its data row
    assert events["source_file"].tolist() == [str(source)] * 4
    assert events["source_entry"].tolist() == [0, 1, 2, 3]
    # no leftover temporary files next to the output
    assert [p.name for p in output.parent.iterdir()] == ["events.parquet"]


def test_ingest_csv_unmatched_process_names_file_and_process(tmp_path):
    source = write(tmp_path, HEADERLESS, "mixed.csv")
    output = tmp_path / "events.parquet"
    with pytest.raises(ValueError, match=r"mixed\.csv.*WWTo2L2Nu\.root"):
        ingest_csv_files(csv=source, parquet=output, **COLUMNS, header=False, classes=CLASSES[:3])
    assert not output.exists()


# --- streaming: a file larger than a block ------------------------------------------


def many_blocks(events=3000):
    """A CSV of ``events`` lines (about 45 bytes each), every process of CLASSES."""
    return "".join(HEADERLESS.splitlines(keepends=True)[i % 4] for i in range(events))


@pytest.mark.parametrize("header", [False, True])
@pytest.mark.parametrize("suffix", [".csv", ".csv.gz"])
def test_ingestion_in_many_blocks_writes_the_same_table_as_in_one(tmp_path, header, suffix):
    text = ("Met,Njet,Weights,Process\n" if header else "") + many_blocks()
    source = tmp_path / f"events{suffix}"
    source.write_bytes(gzip.compress(text.encode()) if suffix.endswith(".gz") else text.encode())
    one, many = tmp_path / "one.parquet", tmp_path / "many.parquet"
    ingest_csv_files(csv=source, parquet=one, **COLUMNS, header=header, classes=CLASSES)
    ingest_csv_files(
        csv=source, parquet=many, **COLUMNS, header=header, classes=CLASSES, block_size=4096
    )
    assert pq.ParquetFile(one).metadata.num_row_groups == 1
    # one row group per block: the file is never held whole
    assert pq.ParquetFile(many).metadata.num_row_groups > 20
    pd.testing.assert_frame_equal(read_parquet(one), read_parquet(many), check_exact=True)
    events = read_parquet(many)
    assert events["source_entry"].tolist() == list(range(3000))
    assert events["class"].value_counts().to_dict() == {
        "Signal": 750, "Wjets": 750, "TTbar": 750, "Other": 750
    }  # fmt: skip


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("nan,2,0.5,TT.root\n", r"line 2501, column 'Met': an empty or NaN value"),
        ("300,2,abc,TT.root\n", r"line 2501, column 'Weights': 'abc' is not a number"),
        ("300,2,0.5, \n", r"line 2501, column 'Process': the process name is empty"),
    ],
)
def test_a_bad_line_in_a_later_block_is_named(tmp_path, bad_line, message):
    lines = many_blocks().splitlines(keepends=True)
    lines[2500] = bad_line
    source = write(tmp_path, "".join(lines), "late.csv")
    output = tmp_path / "events.parquet"
    with pytest.raises(ValueError, match=r"late\.csv " + message):
        ingest_csv_files(
            csv=source, parquet=output, **COLUMNS, header=False, classes=CLASSES, block_size=4096
        )
    assert list(tmp_path.glob("*.parquet")) == []  # nothing half-written


def test_a_process_of_no_class_in_a_later_block_is_named(tmp_path):
    source = write(tmp_path, many_blocks() + "300,2,0.5,ZZTo4L.root\n", "late.csv")
    output = tmp_path / "events.parquet"
    classes = [*CLASSES[:3], {"name": "Diboson", "patterns": ["WW*"]}]
    with pytest.raises(ValueError, match=r"late\.csv: process 'ZZTo4L\.root' matches no class"):
        ingest_csv_files(
            csv=source, parquet=output, **COLUMNS, header=False, classes=classes, block_size=4096
        )
    assert list(tmp_path.glob("*.parquet")) == []


def test_read_ahead_yields_in_order_raises_the_producers_error_and_stops_early():
    assert list(read_ahead(iter(range(100)), depth=2)) == list(range(100))

    def failing():
        yield 1
        raise ValueError("events.csv line 7: broken")

    with pytest.raises(ValueError, match="line 7"):
        list(read_ahead(failing(), depth=2))

    produced = []

    def endless():
        for number in range(10**9):
            produced.append(number)
            yield number

    ahead = read_ahead(endless(), depth=2)
    assert next(ahead) == 0
    ahead.close()  # the caller stops: so does the producer, a few items ahead at most
    assert len(produced) <= 5


# --- malformed input: file, line and column in the message ---------------------------


def test_too_few_fields_names_file_and_line(tmp_path):
    text = HEADERLESS + "300,0.5,WJetsToLNu_HT200To400.root\n"  # line 5 lacks Njet
    path = write(tmp_path, text, "short_row.csv")
    with pytest.raises(ValueError, match=r"short_row\.csv line 5: 3 fields, expected 4"):
        read(path)


def test_too_many_fields_headerless_names_line(tmp_path):
    lines = HEADERLESS.splitlines()
    lines[1] = "301.25,1,7,1.5e-4,WJetsToLNu_HT200To400.root"
    path = write(tmp_path, "\n".join(lines) + "\n", "long_row.csv")
    with pytest.raises(ValueError, match=r"long_row\.csv line 2: 5 fields, expected 4"):
        read(path)


def test_too_few_fields_with_header_counts_the_header_line(tmp_path):
    text = "Met,Njet,Weights,Process\n" + HEADERLESS + "300,2,0.5\n"  # line 6
    path = write(tmp_path, text, "short.csv")
    with pytest.raises(ValueError, match=r"short\.csv line 6: 3 fields, expected 4"):
        read(path, header=True)


@pytest.mark.parametrize(
    ("column", "position"),
    [("Met", 0), ("Njet", 1), ("Weights", 2)],
)
def test_non_numeric_value_names_line_and_column(tmp_path, column, position):
    lines = HEADERLESS.splitlines()
    fields = lines[2].split(",")
    fields[position] = "abc"
    lines[2] = ",".join(fields)
    path = write(tmp_path, "\n".join(lines) + "\n", "bad_value.csv")
    with pytest.raises(ValueError, match=rf"bad_value\.csv line 3, column '{column}'.*'abc'"):
        read(path)


def test_non_numeric_value_with_header_names_line_and_column(tmp_path):
    text = "Met,Njet,Weights,Process\n250,2,0.1,TT.root\n260,two,0.1,TT.root\n"
    path = write(tmp_path, text, "hdr.csv")
    with pytest.raises(ValueError, match=r"hdr\.csv line 3, column 'Njet'"):
        read(path, header=True)


@pytest.mark.parametrize("bad", ["nan", "NaN", "inf", "-inf", ""])
@pytest.mark.parametrize(("column", "position"), [("Njet", 1), ("Weights", 2)])
def test_nan_inf_or_missing_value_names_line_and_column(tmp_path, bad, column, position):
    lines = HEADERLESS.splitlines()
    fields = lines[3].split(",")
    fields[position] = bad
    lines[3] = ",".join(fields)
    path = write(tmp_path, "\n".join(lines) + "\n", "nonfinite.csv")
    with pytest.raises(ValueError, match=rf"nonfinite\.csv line 4, column '{column}'"):
        read(path)


def test_nan_with_header_counts_the_header_line(tmp_path):
    text = "Met,Njet,Weights,Process\n250,2,0.1,TT.root\n260,2,0.1,TT.root\ninf,2,0.1,TT.root\n"
    path = write(tmp_path, text, "hdr_inf.csv")
    with pytest.raises(ValueError, match=r"hdr_inf\.csv line 4, column 'Met'"):
        read(path, header=True)


def test_header_line_in_a_file_read_as_headerless_names_line_one(tmp_path):
    path = write(tmp_path, "Met,Njet,Weights,Process\n" + HEADERLESS, "has_header.csv")
    with pytest.raises(ValueError, match=r"has_header\.csv line 1, column 'Met'"):
        read(path, header=False)


def test_header_lacking_a_configured_column_names_it(tmp_path):
    text = "Met,Njet,Process\n250,2,TT.root\n"
    path = write(tmp_path, text, "no_weight.csv")
    with pytest.raises(ValueError, match=r"no_weight\.csv line 1: header lacks.*'Weights'"):
        read(path, header=True)


def test_file_without_events_is_an_error(tmp_path):
    path = write(tmp_path, "Met,Njet,Weights,Process\n", "header_only.csv")
    with pytest.raises(ValueError, match=r"header_only\.csv.*no events"):
        read(path, header=True)


@pytest.mark.parametrize(
    "features",
    [["Met", "Met"], ["Met", "Weights"], ["Met", "weight"], ["class_index", "Met"]],
)
def test_bad_feature_names_rejected(tmp_path, features):
    path = write(tmp_path, HEADERLESS)
    with pytest.raises(ValueError):
        read_events(path, features, "Weights", "Process", False)


# --- line numbers stay right around blank lines and with headers ---------------------


def test_line_number_of_nan_after_a_blank_line(tmp_path):
    path = write(tmp_path, "250,2,0.1,TT.root\n\n260,nan,0.1,TT.root\n", "blank.csv")
    with pytest.raises(ValueError, match=r"blank\.csv line 3, column 'Njet'"):
        read(path)


def test_line_number_of_text_after_a_blank_line(tmp_path):
    path = write(tmp_path, "250,2,0.1,TT.root\n\n260,x,0.1,TT.root\n", "blank_text.csv")
    with pytest.raises(ValueError, match=r"blank_text\.csv line 3, column 'Njet'"):
        read(path)


def test_too_many_fields_with_header_names_line(tmp_path):
    text = "Met,Njet,Weights,Process\n250,2,0.1,TT.root\n260,2,0.1,TT.root,extra\n"
    path = write(tmp_path, text, "hdr_long.csv")
    with pytest.raises(ValueError, match=r"hdr_long\.csv line 3"):
        read(path, header=True)


def test_empty_process_name_is_rejected_with_its_line(tmp_path):
    path = write(tmp_path, "250,2,0.1,TT.root\n260,2,0.1,\n", "noname.csv")
    with pytest.raises(ValueError, match=r"noname\.csv line 2, column 'Process'.*empty"):
        read(path)


def test_underscored_number_is_named_with_its_line(tmp_path):
    path = write(tmp_path, "250,2,0.1,TT.root\n1_000,2,0.1,TT.root\n", "underscore.csv")
    with pytest.raises(ValueError, match=r"underscore\.csv line 2, column 'Met'"):
        read(path)


def test_check_classes_accepts_a_catch_all_last():
    from cmsnn.config.checks import check_classes

    check_classes([{"name": "S", "patterns": ["T2*"]}, {"name": "Rest", "patterns": ["*"]}])
    with pytest.raises(ValueError, match=r"used twice"):
        check_classes([{"name": "S", "patterns": ["a"]}, {"name": "S", "patterns": ["b"]}])
    with pytest.raises(ValueError, match=r"'\*\*', which catches every process"):
        check_classes([{"name": "A", "patterns": ["x", "**"]}, {"name": "B", "patterns": ["y"]}])


def test_process_names_are_stripped_and_tabulated(tmp_path):
    from cmsnn.ingestion.processes import process_table, tabulate_processes_files

    text = HEADERLESS + "300,2,0.5, TTJets_DiLept.root \n"
    source = write(tmp_path, text)
    ingest_csv_files(
        csv=source, parquet=tmp_path / "a.parquet", **COLUMNS, header=False, classes=CLASSES
    )
    events = read_parquet(tmp_path / "a.parquet")
    assert sorted(events["process"].unique()) == [
        "T2DegStop_500_470.root", "TTJets_DiLept.root", "WJetsToLNu_HT200To400.root",
        "WWTo2L2Nu.root",
    ]  # fmt: skip
    table = process_table(events).set_index("process")
    assert table.loc["TTJets_DiLept.root", "class"] == "TTbar"
    assert table.loc["TTJets_DiLept.root", "events"] == 2
    assert table.loc["TTJets_DiLept.root", "sum_of_weights"] == pytest.approx(0.75)
    assert table.loc["WWTo2L2Nu.root", "class"] == "Other"
    # across files: one row per process, events and weights summed
    ingest_csv_files(
        csv=source, parquet=tmp_path / "b.parquet", **COLUMNS, header=False, classes=CLASSES
    )
    tabulate_processes_files(
        parquet=[tmp_path / "a.parquet", tmp_path / "b.parquet"], table=tmp_path / "p.csv"
    )
    combined = pd.read_csv(tmp_path / "p.csv")
    assert list(combined.columns) == ["process", "class", "events", "sum_of_weights"]
    assert combined.set_index("process").loc["TTJets_DiLept.root", "events"] == 4
    assert len(combined) == 4


def test_a_byte_that_is_not_utf8_names_file_line_and_column(tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(HEADERLESS.encode() + b"300,2,0.5,TTJets_M\xe9lange.root\n")
    with pytest.raises(ValueError) as info:
        read(path)
    assert str(info.value).startswith(f"{path} line 5, column 'Process': holds bytes that are not")


def test_gzip_compressed_csv_is_read_and_its_errors_named(tmp_path):
    import gzip

    path = tmp_path / "events.csv.gz"
    path.write_bytes(gzip.compress(HEADERLESS.encode()))
    pd.testing.assert_frame_equal(read(path), read(write(tmp_path, HEADERLESS)))
    bad = tmp_path / "bad.csv.gz"
    bad.write_bytes(gzip.compress((HEADERLESS + "300,x2,0.5,TT.root\n").encode()))
    with pytest.raises(
        ValueError, match=r"bad\.csv\.gz line 5, column 'Njet': 'x2' is not a number"
    ):
        read(bad)


def test_a_line_over_a_megabyte_does_not_hide_the_malformed_one(tmp_path):
    long_name = "300,2,0.5," + "T" * 1_200_000 + ".root\n"
    path = write(tmp_path, HEADERLESS + long_name + "300,2,abc,TT.root\n")
    with pytest.raises(ValueError, match=r"line 6, column 'Weights': 'abc' is not a number"):
        read(path)
    # alone, the long line parses, and its name is refused in a message of its own size
    with pytest.raises(ValueError, match=r"line 5, column 'Process'.* 1,200,005 characters"):
        read(write(tmp_path, HEADERLESS + long_name, "long.csv"))


def test_a_value_beyond_float32_says_what_the_file_holds(tmp_path):
    path = write(tmp_path, HEADERLESS + "1e39,2,0.5,TTJets_DiLept.root\n")
    with pytest.raises(ValueError) as info:
        read(path)
    message = str(info.value)
    assert "line 5, column 'Met': '1e39' is beyond the range" in message and "inf" not in message
    # an infinity written as such is still called one
    path = write(tmp_path, HEADERLESS + "inf,2,0.5,TTJets_DiLept.root\n", "inf.csv")
    with pytest.raises(ValueError, match="value inf is not a finite number"):
        read(path)
