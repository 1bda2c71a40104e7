"""xcs.data.pairs_file: a user's own training pairs from JSON Lines, TSV, CSV and saved datasets."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from xcs.data import detect_format, load_pairs_file
from xcs.data.pairs import TrainPair
from xcs.data.pairs_file import subsample

ROWS = [
    {"query": "Wer schrieb den Faust?", "positive": 'Goethe wrote "Faust", a play.',
     "neg": "Schiller wrote plays."},
    {"query": "Where is Ulm?", "positive": "Ulm lies on the Danube,\nin Germany.", "neg": "Bonn."},
]
EXPECTED = [TrainPair(r["query"], r["positive"]) for r in ROWS]


def _jsonl(path: Path, rows: list[dict], gzipped: bool = False) -> Path:
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    if gzipped:
        path.write_bytes(gzip.compress(text.encode("utf-8")))
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _save_dataset(path: Path, columns: dict[str, list], split: str | None = None) -> Path:
    datasets = pytest.importorskip("datasets")
    dataset = datasets.Dataset.from_dict(columns)
    (datasets.DatasetDict({split: dataset}) if split else dataset).save_to_disk(str(path))
    return path


def test_jsonl_round_trip_plain_and_gzipped(tmp_path):
    assert load_pairs_file(_jsonl(tmp_path / "pairs.jsonl", ROWS)) == EXPECTED
    assert load_pairs_file(_jsonl(tmp_path / "pairs.jsonl.gz", ROWS, gzipped=True)) == EXPECTED
    blank_lines = tmp_path / "blank.json"  # .json is read as JSON Lines; blank lines are skipped
    blank_lines.write_text(f"\n{json.dumps(ROWS[0])}\n\n{json.dumps(ROWS[1])}\n\n", encoding="utf-8")
    assert load_pairs_file(blank_lines) == EXPECTED


def test_tsv_round_trip_reads_fields_literally(tmp_path):
    path = tmp_path / "pairs.tsv"
    path.write_text('q\tpos\textra\n"Who?"\tHe said "hi".\tx\nWhy?\tBecause.\ty\n', encoding="utf-8")
    assert load_pairs_file(path, query_column="q", positive_column="pos") == [
        TrainPair('"Who?"', 'He said "hi".'), TrainPair("Why?", "Because.")]


def test_csv_round_trip_with_quoting_and_bom(tmp_path):
    import csv

    path = tmp_path / "pairs.csv"
    with open(path, "w", encoding="utf-8-sig", newline="") as stream:  # a BOM, as Excel writes it
        writer = csv.writer(stream)
        writer.writerow(["query", "positive"])
        writer.writerows([[r["query"], r["positive"]] for r in ROWS])
    assert load_pairs_file(path) == EXPECTED


def test_saved_dataset_and_dataset_dict_round_trip(tmp_path):
    columns = {"query": [r["query"] for r in ROWS], "positive": [r["positive"] for r in ROWS]}
    assert load_pairs_file(_save_dataset(tmp_path / "ds", columns)) == EXPECTED
    assert load_pairs_file(_save_dataset(tmp_path / "dd", columns, split="train")) == EXPECTED
    assert load_pairs_file(_save_dataset(tmp_path / "dev", columns, split="dev"), split="dev") == EXPECTED
    with pytest.raises(ValueError, match=r"no split 'train' in this DatasetDict \(splits: \['dev'\]\)"):
        load_pairs_file(tmp_path / "dev")


def test_negative_columns_one_text_each_or_a_list(tmp_path):
    rows = [{**r, "neg2": f"Other {i}.", "many": [f"A {i}.", f"B {i}."]} for i, r in enumerate(ROWS)]
    path = _jsonl(tmp_path / "pairs.jsonl", rows)
    pairs = load_pairs_file(path, negative_columns=["neg", "neg2"])
    assert [p.negatives for p in pairs] == [(r["neg"], r["neg2"]) for r in rows]
    listed = load_pairs_file(path, negative_columns=["many", "neg"])
    assert [p.negatives for p in listed] == [(*r["many"], r["neg"]) for r in rows]
    dataset = _save_dataset(tmp_path / "ds", {k: [r[k] for r in rows] for k in ("query", "positive", "many")})
    assert [p.negatives for p in load_pairs_file(dataset, negative_columns=["many"])] == [
        tuple(r["many"]) for r in rows]
    csv_path = tmp_path / "pairs.csv"
    csv_path.write_text("query,positive,neg\nq1,p1,n1\nq2,p2,n2\n", encoding="utf-8")
    assert [p.negatives for p in load_pairs_file(csv_path, negative_columns=["neg"])] == [("n1",), ("n2",)]


def test_format_from_suffix_or_override(tmp_path):
    assert detect_format("a.jsonl") == detect_format("a.JSON.gz") == detect_format("a.ndjson") == "jsonl"
    assert detect_format("a.tsv.gz") == "tsv"
    assert detect_format("a.csv") == "csv"
    assert detect_format(tmp_path) == "datasets"
    with pytest.raises(ValueError, match="cannot tell the format.*--train-format"):
        detect_format("pairs.txt")
    path = tmp_path / "pairs.txt"
    path.write_text("query,positive\nq,p\n", encoding="utf-8")
    assert load_pairs_file(path, format="csv") == [TrainPair("q", "p")]
    with pytest.raises(ValueError, match="unknown training file format 'xml'"):
        load_pairs_file(path, format="xml")
    with pytest.raises(ValueError, match="is a directory; format 'csv' reads a file"):
        load_pairs_file(tmp_path, format="csv")
    with pytest.raises(ValueError, match="is a file; format 'datasets' reads a directory"):
        load_pairs_file(path, format="datasets")


def test_missing_column_names_file_column_and_columns_present(tmp_path):
    path = _jsonl(tmp_path / "pairs.jsonl", [ROWS[0], {"query": "q", "answer": "a"}])
    with pytest.raises(ValueError, match=r"pairs.jsonl, line 2: no column 'positive' \(columns present: "
                                         r"\['query', 'answer'\]\)"):
        load_pairs_file(path)
    csv_path = tmp_path / "pairs.csv"
    csv_path.write_text("question,positive\nq,p\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"pairs.csv: no column 'query', 'hard' \(columns present: "
                                         r"\['question', 'positive'\]\)"):
        load_pairs_file(csv_path, negative_columns=["hard"])
    dataset = _save_dataset(tmp_path / "ds", {"query": ["q"], "pos": ["p"]})
    with pytest.raises(ValueError, match=r"ds: no column 'positive' \(columns present: \['query', 'pos'\]\)"):
        load_pairs_file(dataset)


@pytest.mark.parametrize(("value", "message"), [
    (None, r"column 'query' must hold text, got null / None"),
    (7, r"column 'query' must hold text, got int 7"),
    ("  ", r"column 'query' is empty"),
])
def test_empty_or_non_text_query_names_the_line(tmp_path, value, message):
    path = _jsonl(tmp_path / "pairs.jsonl", [ROWS[0], ROWS[1], {"query": value, "positive": "p"}])
    with pytest.raises(ValueError, match=r"pairs.jsonl, line 3: " + message):
        load_pairs_file(path)


def test_empty_fields_in_tsv_and_csv_name_the_line(tmp_path):
    tsv = tmp_path / "pairs.tsv"
    tsv.write_text("query\tpositive\nq\tp\nq2\t\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"pairs.tsv, line 3: column 'positive' is empty"):
        load_pairs_file(tsv)
    csv_path = tmp_path / "pairs.csv"  # a quoted line break: the record starting on line 3 is reported
    csv_path.write_text('query,positive\nq,p\n"two\nlines",""\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"pairs.csv, line 3: column 'positive' is empty"):
        load_pairs_file(csv_path)
    csv_path.write_text("query,positive\nq,p,extra\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"pairs.csv, line 2: 3 field\(s\), the header has 2"):
        load_pairs_file(csv_path)


def test_non_text_values_in_a_saved_dataset_name_the_row(tmp_path):
    dataset = _save_dataset(tmp_path / "ds", {"query": ["q1", None], "positive": ["p1", "p2"]})
    with pytest.raises(ValueError, match=r"ds, row 1 \(0-based\): column 'query' must hold text, got null"):
        load_pairs_file(dataset)


def test_malformed_json_names_the_line(tmp_path):
    path = tmp_path / "pairs.jsonl"
    path.write_text(json.dumps(ROWS[0]) + '\n{"query": "q", "positive": \n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"pairs.jsonl, line 2: malformed JSON"):
        load_pairs_file(path)
    path.write_text('["q", "p"]\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"pairs.jsonl, line 1: expected a JSON object, got list"):
        load_pairs_file(path)


@pytest.mark.parametrize(("name", "text"), [("empty.jsonl", ""), ("blank.jsonl", "\n\n"),
                                            ("header.csv", "query,positive\n"), ("empty.tsv", "")])
def test_empty_file_is_a_clear_error(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=f"{name}: no training pairs in it"):
        load_pairs_file(path)


def test_missing_file_and_bad_dataset_directory(tmp_path):
    with pytest.raises(FileNotFoundError, match="training file not found"):
        load_pairs_file(tmp_path / "nope.jsonl")
    with pytest.raises(ValueError, match="not a directory written by Dataset.save_to_disk"):
        load_pairs_file(tmp_path)


def test_every_pair_needs_the_same_number_of_negatives(tmp_path):
    rows = [{"query": "q1", "positive": "p1", "many": ["a", "b"]},
            {"query": "q2", "positive": "p2", "many": ["c"]}]
    path = _jsonl(tmp_path / "pairs.jsonl", rows)
    with pytest.raises(ValueError, match=r"pairs.jsonl, line 2: 1 hard negative\(s\) in \['many'\], but .*"
                                         r"pairs.jsonl, line 1 has 2; every pair needs the same number"):
        load_pairs_file(path, negative_columns=["many"])
    path = _jsonl(tmp_path / "bad.jsonl", [{"query": "q", "positive": "p", "many": ["a", None]}])
    with pytest.raises(ValueError, match=r"line 1: column 'many\[1\]' must hold text, got null"):
        load_pairs_file(path, negative_columns=["many"])
    path = _jsonl(tmp_path / "num.jsonl", [{"query": "q", "positive": "p", "many": 3}])
    with pytest.raises(ValueError, match=r"column 'many' must hold a text or a list of texts, got int 3"):
        load_pairs_file(path, negative_columns=["many"])


def test_subsample_is_seeded_and_keeps_order():
    items = list(range(20))
    picked = subsample(items, 5, seed=3)
    assert len(picked) == 5 and picked == sorted(picked) and picked == subsample(items, 5, seed=3)
    assert subsample(items, None) == subsample(items, 50) == items


def test_text_that_is_not_utf8_is_an_error(tmp_path):
    path = tmp_path / "latin1.tsv"
    path.write_bytes("query\tpositive\nWo liegt Köln?\tAm Rhein.\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin1.tsv, line 2: not UTF-8 text \(byte 0xf6 at byte 11 of the "
                                         r"line"):
        load_pairs_file(path)


# ---------------------------------------------------------------- issue 21.5 / 21.6
def test_non_utf8_byte_names_file_and_line_past_the_decoder_buffer(tmp_path):
    """The decoder used to report a position in its 8 KiB buffer and no line."""
    lines = [json.dumps({"query": f"q{i}", "positive": f"p{i}"}) for i in range(3000)]
    lines[2500] = lines[2500].replace("p2500", "p\u00e9")
    path = tmp_path / "pairs.jsonl.gz"
    path.write_bytes(gzip.compress("\n".join(lines).encode("utf-8").replace("p\u00e9".encode(), b"p\xe9")))
    with pytest.raises(ValueError, match=r"pairs.jsonl.gz, line 2501: not UTF-8 text \(byte 0xe9"):
        load_pairs_file(path)


@pytest.mark.parametrize("damage", ["truncate", "corrupt"])
def test_a_corrupt_or_truncated_gzip_file_is_named(tmp_path, damage):
    data = gzip.compress(b"".join(json.dumps({"query": f"q{i}", "positive": f"p {i} " * 20}).encode() + b"\n"
                                  for i in range(400)))
    if damage == "truncate":  # EOFError inside gzip
        data = data[: len(data) // 2]
    else:  # zlib.error: invalid data in the deflate stream
        data = data[:20] + bytes(b ^ 0xFF for b in data[20:60]) + data[60:]
    path = tmp_path / "pairs.jsonl.gz"
    path.write_bytes(data)
    with pytest.raises(ValueError, match=r"pairs.jsonl.gz: corrupt or truncated gzip file after line \d+"):
        load_pairs_file(path)


def test_a_corrupt_arrow_file_names_the_dataset_directory(tmp_path):
    columns = {"query": [r["query"] for r in ROWS], "positive": [r["positive"] for r in ROWS]}
    path = _save_dataset(tmp_path / "ds", columns)
    arrow = next(path.glob("*.arrow"))
    arrow.write_bytes(arrow.read_bytes()[: arrow.stat().st_size // 2])
    with pytest.raises(ValueError, match=rf"{path}: a corrupt or truncated saved dataset"):
        load_pairs_file(path)


def test_one_column_in_two_roles_is_refused(tmp_path):
    path = _jsonl(tmp_path / "pairs.jsonl", ROWS)
    with pytest.raises(ValueError, match=r"query_column and positive_column \(--query-column / "
                                         r"--positive-column\) are both 'query'"):
        load_pairs_file(path, positive_column="query")
    with pytest.raises(ValueError, match="names 'positive', the positive column"):
        load_pairs_file(path, negative_columns=["positive"])
    with pytest.raises(ValueError, match="names 'neg' twice"):
        load_pairs_file(path, negative_columns=["neg", "neg"])


def test_a_split_is_refused_where_it_cannot_apply(tmp_path):
    with pytest.raises(ValueError, match=r"--train-split 'bogus' applies to a saved DatasetDict only; "
                                         r"a jsonl"):
        load_pairs_file(_jsonl(tmp_path / "pairs.jsonl", ROWS), split="bogus")
    columns = {"query": [r["query"] for r in ROWS], "positive": [r["positive"] for r in ROWS]}
    with pytest.raises(ValueError, match="'bogus': this is a saved Dataset, which has no splits"):
        load_pairs_file(_save_dataset(tmp_path / "ds", columns), split="bogus")
    with pytest.raises(ValueError, match=r"no split 'bogus' in this DatasetDict \(splits: \['train'\]\)"):
        load_pairs_file(_save_dataset(tmp_path / "dd", columns, split="train"), split="bogus")


def test_a_key_twice_in_one_json_object_is_refused(tmp_path):
    path = tmp_path / "pairs.jsonl"
    path.write_text('{"query": "a", "positive": "b"}\n{"query": "a", "positive": "b", "query": "c"}\n')
    with pytest.raises(ValueError, match="pairs.jsonl, line 2: key 'query' appears twice in one object"):
        load_pairs_file(path)


@pytest.mark.parametrize("record", ['Who?,a"b', 'Who?,"a"b', 'Who?,"a" b'])
def test_a_csv_quote_outside_rfc_4180_is_refused(tmp_path, record):
    path = tmp_path / "pairs.csv"
    path.write_text(f'query,positive\r\n"fine, quoted ""x""",ok\r\n{record}\r\n', encoding="utf-8")
    with pytest.raises(ValueError, match="pairs.csv, line 3: malformed CSV"):
        load_pairs_file(path)


@pytest.mark.parametrize("suffix", ["tsv", "csv"])
def test_long_fields_are_read_up_to_the_documented_bound(tmp_path, suffix, monkeypatch):
    import csv

    from xcs.data import pairs_file

    sep = "\t" if suffix == "tsv" else ","
    path = tmp_path / f"pairs.{suffix}"
    long = "word " * 40_000  # 200,000 characters: past csv's default 131,072
    path.write_text(f"query{sep}positive\nWho?{sep}{long}\n", encoding="utf-8")
    before = csv.field_size_limit()
    assert load_pairs_file(path) == [TrainPair("Who?", long)]
    assert csv.field_size_limit() == before  # the process-wide limit is put back
    monkeypatch.setattr(pairs_file, "MAX_FIELD_CHARS", 150_000)
    with pytest.raises(ValueError, match=rf"pairs.{suffix}, line 2: a field longer than 150,000 characters"):
        load_pairs_file(path)


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
def test_every_line_ending_is_a_line_and_numbered(tmp_path, end):
    """Lines are decoded one by one (to name a bad byte's line): \\r alone still ends one, as it does
    for open(newline="")."""
    rows = [json.dumps({"query": f"q{i}", "positive": f"p{i}"}) for i in range(3)]
    csv_text = end.join(["query,positive", '"a\rb",x', "c,y"])
    for name, text in (("p.jsonl", end.join(rows)), ("p.csv", csv_text)):
        path = tmp_path / name
        path.write_bytes((text + end).encode("utf-8"))
        assert len(load_pairs_file(path)) == (3 if name == "p.jsonl" else 2)
    path.write_bytes(end.join(["query,positive", "a,x", "b,\xff"]).encode("latin-1"))
    with pytest.raises(ValueError, match=r"p.csv, line 3: not UTF-8 text"):
        load_pairs_file(path)
