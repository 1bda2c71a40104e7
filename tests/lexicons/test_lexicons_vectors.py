"""The streaming ``.vec`` reader: round trip, vocabulary limit, and errors that name the line."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from xcs.lexicons.vectors import VectorFormatError, WordVectors, read_vec, subset, write_vec


def _write(path, text: str | bytes) -> None:
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))


def test_round_trip_keeps_order_and_values(tmp_path):
    rng = np.random.default_rng(0)
    vectors = WordVectors(["der", "die", "straße", "日本"], rng.normal(size=(4, 5)).astype(np.float32))
    path = tmp_path / "de.vec.gz"
    write_vec(path, vectors, precision=6)
    back = read_vec(path)
    assert back.words == vectors.words
    np.testing.assert_allclose(back.vectors, vectors.vectors, atol=1e-6)
    assert back.index["straße"] == 2


def test_reads_fasttext_trailing_space_limit_and_lowercase_duplicates(tmp_path):
    path = tmp_path / "en.vec"
    _write(path, "4 2\nThe 1 0 \nthe 0 1 \ncat 0.5 0.5 \ndog 1 1 \n")
    vecs = read_vec(path, lowercase=True)
    assert vecs.words == ["the", "cat", "dog"]  # the later "the" is a duplicate: first one wins
    np.testing.assert_array_equal(vecs.vectors[0], [1, 0])
    assert read_vec(path, max_words=2).words == ["The", "the"]
    assert subset(vecs, ["dog", "bird", "the"]).words == ["dog", "the"]


@pytest.mark.parametrize(
    ("content", "line", "needle"),
    [
        ("hello world\nx 1 2\n", 1, "header"),
        ("2 3 4\nx 1 2 3\n", 1, "header"),
        ("", 1, "empty"),
        ("2 3\na 1 2 3\nb 1 2", 3, "truncated"),
        ("2 3\na 1 2 3 4\n", 2, "got 4 values"),
        ("1 2\na 1 zwei\n", 2, "not a number"),
    ],
)
def test_malformed_files_name_the_line(tmp_path, content, line, needle):
    path = tmp_path / "bad.vec"
    _write(path, content)
    with pytest.raises(VectorFormatError, match=rf"bad\.vec:{line}: .*{needle}"):
        read_vec(path)


def test_non_utf8_bytes_name_the_line(tmp_path):
    path = tmp_path / "latin1.vec.gz"
    with gzip.open(path, "wb") as fh:
        fh.write(b"2 2\nok 1 2\nstra\xdfe 1 2\n")
    with pytest.raises(VectorFormatError, match=r"latin1\.vec\.gz:3: not valid UTF-8"):
        read_vec(path)


def test_write_rejects_words_with_spaces(tmp_path):
    with pytest.raises(ValueError, match="no spaces"):
        write_vec(tmp_path / "x.vec", WordVectors(["new york"], np.zeros((1, 2), np.float32)))
    assert list(tmp_path.iterdir()) == []  # neither the file nor a temporary is left behind
