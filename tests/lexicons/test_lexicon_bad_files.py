"""Lexicons that would silently switch nothing, or switch wrongly, are refused or warned about (issue 12)."""

from __future__ import annotations

import gzip

import pytest

from xcs.lexicons.filters import cap_candidates
from xcs.lexicons.lexicon import Lexicon, LexiconFormatError
from xcs.lexicons.pivot import compose
from xcs.switching.switcher import CodeSwitcher


def test_a_byte_order_mark_is_not_part_of_the_first_key(tmp_path):
    path = tmp_path / "en-de.txt"
    path.write_bytes("\ufeffhouse\tHaus\ncat\tKatze\n".encode())
    lex = Lexicon.load(path, "en", "de")
    assert "house" in lex and "\ufeffhouse" not in lex


WHOLE = gzip.compress("".join(f"word{i}\tWort{i}\n" for i in range(5000)).encode())


@pytest.mark.parametrize("content", [b"\x1f\x8b\x08\x00 not really gzip", WHOLE[: len(WHOLE) // 2]])
def test_a_corrupt_or_truncated_gz_names_the_file(tmp_path, content):
    path = tmp_path / "en-de.txt.gz"
    path.write_bytes(content)
    with pytest.raises(LexiconFormatError, match=r"en-de.txt.gz: not a readable gzip file"):
        Lexicon.load(path, "en", "de")


def test_a_directory_is_named(tmp_path):
    with pytest.raises(LexiconFormatError, match="is a directory, not a lexicon file"):
        Lexicon.load(tmp_path, "en", "de")


def test_mostly_malformed_files_warn(tmp_path):
    path = tmp_path / "en-de.csv"
    path.write_text("house,Haus\ncat,Katze\ndog\tHund\n")
    with pytest.warns(UserWarning, match="2 malformed line"):
        lex = Lexicon.load(path, "en", "de", on_error="skip")
    assert len(lex) == 1


def test_max_candidates_zero_is_refused(tmp_path):
    path = tmp_path / "en-de.txt"
    path.write_text("house\tHaus\n")
    with pytest.raises(ValueError, match="max_candidates must be an integer >= 1"):
        Lexicon.load(path, "en", "de", max_candidates=0)


@pytest.mark.parametrize(("build", "name"), [
    (lambda lex, cap: Lexicon.from_pairs([("house", "Haus")], "en", "de", max_candidates=cap),
     "max_candidates"),
    (lambda lex, cap: cap_candidates(lex, cap), "max_candidates"),
    (lambda lex, cap: compose(lex, Lexicon("de", "fr"), max_candidates=cap), "max_candidates"),
    (lambda lex, cap: compose(lex, Lexicon("de", "fr"), max_per_pivot=cap), "max_per_pivot"),
])
@pytest.mark.parametrize("cap", [0, -1, 2.5, True])
def test_every_builder_refuses_a_bad_cap_by_name(build, name, cap):
    # the cap is checked once per builder, even where no pair would reach Lexicon.add
    with pytest.raises(ValueError, match=f"{name} must be an integer >= 1 or None, got {cap!r}"):
        build(Lexicon("en", "de"), cap)


def test_a_lexicon_that_switches_nothing_is_refused(e5_tokenizer, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(ValueError, match=r"lexicons\['de'\] \(en->de\) has no entry .* would switch nothing"):
        CodeSwitcher(e5_tokenizer, {"de": Lexicon.load(empty, "en", "de")})
    malformed = tmp_path / "malformed.txt"
    malformed.write_text("a,b\nc,d\n")
    with pytest.warns(UserWarning, match="malformed"):
        skipped = Lexicon.load(malformed, "en", "de", on_error="skip")
    with pytest.raises(ValueError, match="would switch nothing"):
        CodeSwitcher(e5_tokenizer, {"de": skipped})


def test_a_lexicon_mostly_out_of_the_tokenizer_warns(e5_tokenizer):
    unmatchable = [(f"<s>{'</s>' * i}", f"x{i}") for i in range(1, 6)]  # special tokens only: no key
    lexicon = Lexicon.from_pairs([("cat", "Katze"), *unmatchable], "en", "de")
    with pytest.warns(UserWarning, match="keys for its 6 source words"):
        CodeSwitcher(e5_tokenizer, {"de": lexicon})
