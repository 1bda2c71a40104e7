"""The on-disk cache of compiled lexicons: hits, misses, bad files, and where it writes."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from xcs.lexicons.lexicon import Lexicon
from xcs.switching import compile_cache
from xcs.switching.compile_cache import CacheWarning
from xcs.switching.compiled_lexicon import CompiledLexicon

PAIRS = [("cat", "Katze"), ("house", "Haus"), ("house", "Gebäude"), ("new york", "New York")]


@pytest.fixture
def lexicon():
    return Lexicon.from_pairs(PAIRS, "en", "de")


@pytest.fixture
def builds(monkeypatch):
    """Counts the compilations that do not come from the cache."""
    calls = []
    build = CompiledLexicon._build.__func__

    def counting(cls, *args):
        calls.append(args)
        return build(cls, *args)

    monkeypatch.setattr(CompiledLexicon, "_build", classmethod(counting))
    return calls


def assert_same(a: CompiledLexicon, b: CompiledLexicon) -> None:
    assert (a.fingerprint, a.vocab_size, a.case_variants) == (b.fingerprint, b.vocab_size, b.case_variants)
    assert a.arrays.keys() == b.arrays.keys()
    for name, array in a.arrays.items():
        np.testing.assert_array_equal(b.arrays[name], array)


def test_hit_returns_the_same_lexicon(e5_tokenizer, lexicon, tmp_path, builds):
    first = CompiledLexicon.compile(lexicon, e5_tokenizer, cache=tmp_path)
    assert len(builds) == 1 and len(list(tmp_path.glob("en_de-*.npz"))) == 1
    again = CompiledLexicon.compile(Lexicon.from_pairs(PAIRS, "en", "de"), e5_tokenizer, cache=tmp_path)
    assert len(builds) == 1  # loaded, not compiled
    assert_same(first, again)
    assert_same(first, CompiledLexicon.compile(lexicon, e5_tokenizer, cache=False))


@pytest.mark.parametrize("change", ["entry", "candidate order", "languages"])
def test_miss_on_changed_entries(e5_tokenizer, lexicon, tmp_path, builds, change):
    CompiledLexicon.compile(lexicon, e5_tokenizer, cache=tmp_path)
    if change == "entry":
        other = Lexicon.from_pairs([*PAIRS, ("dog", "Hund")], "en", "de")
    elif change == "candidate order":
        other = Lexicon.from_pairs([PAIRS[0], PAIRS[2], PAIRS[1], PAIRS[3]], "en", "de")
    else:
        other = Lexicon.from_pairs(PAIRS, "en", "nl")
    compiled = CompiledLexicon.compile(other, e5_tokenizer, cache=tmp_path)
    assert len(builds) == 2 and len(list(tmp_path.glob("*.npz"))) == 2
    assert_same(compiled, CompiledLexicon.compile(other, e5_tokenizer, cache=False))


def test_miss_on_other_options_and_tokenizer(e5_tokenizer, lexicon, tmp_path, builds):
    CompiledLexicon.compile(lexicon, e5_tokenizer, cache=tmp_path)
    plain = CompiledLexicon.compile(lexicon, e5_tokenizer, cache=tmp_path, case_variants=False)
    assert len(builds) == 2 and plain.case_variants == 1
    other_tokenizer = copy.deepcopy(e5_tokenizer)
    other_tokenizer.add_tokens(["Katzenhaus"])
    fingerprints = {compile_cache.tokenizer_fingerprint(t) for t in (e5_tokenizer, other_tokenizer)}
    assert len(fingerprints) == 2
    compiled = CompiledLexicon.compile(lexicon, other_tokenizer, cache=tmp_path)
    assert len(builds) == 3 and len(list(tmp_path.glob("*.npz"))) == 3
    assert compiled.vocab_size == len(other_tokenizer)


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "other key", "bad arrays", "bad meta"])
def test_a_bad_file_warns_and_is_rebuilt(e5_tokenizer, lexicon, tmp_path, builds, damage):
    reference = CompiledLexicon.compile(lexicon, e5_tokenizer, cache=tmp_path)
    (path,) = tmp_path.glob("*.npz")
    good = path.read_bytes()
    if damage == "garbage":
        path.write_bytes(b"not a zip file at all")
    elif damage == "truncated":
        path.write_bytes(good[: len(good) // 2])
    elif damage == "empty":
        path.write_bytes(b"")
    else:
        with np.load(path) as data:
            arrays = {name: data[name] for name in data.files}
        if damage == "other key":
            arrays["__meta__"] = np.array(str(arrays["__meta__"]).replace('"key": "', '"key": "0'))
        elif damage == "bad meta":
            arrays["__meta__"] = np.array("[1, 2]")
        else:
            arrays["key_entry"] = np.full_like(arrays["key_entry"], 10**6)
        np.savez(path, **arrays)
    with pytest.warns(CacheWarning, match="ignoring the lexicon cache file"):
        rebuilt = CompiledLexicon.compile(lexicon, e5_tokenizer, cache=tmp_path)
    assert len(builds) == 2
    assert_same(reference, rebuilt)
    again = CompiledLexicon.compile(lexicon, e5_tokenizer, cache=tmp_path)  # rewritten: a hit again
    assert len(builds) == 2
    assert_same(reference, again)


def test_bad_file_without_native_extension(e5_tokenizer, lexicon, tmp_path, monkeypatch, builds):
    monkeypatch.setattr("xcs.switching.compiled_lexicon.native_module", lambda: None)
    reference = CompiledLexicon.compile(lexicon, e5_tokenizer, cache=tmp_path)
    (path,) = tmp_path.glob("*.npz")
    with np.load(path) as data:
        arrays = {name: data[name] for name in data.files}
    np.savez(path, **dict(arrays, cand_tokens=np.full_like(arrays["cand_tokens"], -5)))
    with pytest.warns(CacheWarning):
        assert_same(reference, CompiledLexicon.compile(lexicon, e5_tokenizer, cache=tmp_path))


def test_unwritable_directory_only_warns(e5_tokenizer, lexicon, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache directory should be")
    with pytest.warns(CacheWarning, match="could not write"):
        compiled = CompiledLexicon.compile(lexicon, e5_tokenizer, cache=blocker / "lexicons")
    assert compiled.num_entries == 3


def test_default_directory_and_switches(e5_tokenizer, lexicon, tmp_path, monkeypatch):
    monkeypatch.undo()  # the suite's conftest points the default at a temporary directory
    monkeypatch.setenv("XCS_CACHE_DIR", str(tmp_path / "xcs"))
    assert compile_cache.default_directory() == tmp_path / "xcs" / "lexicons"
    CompiledLexicon.compile(lexicon, e5_tokenizer)  # cache=True: the default directory
    assert len(list((tmp_path / "xcs" / "lexicons").glob("en_de-*.npz"))) == 1
    CompiledLexicon.compile(lexicon, e5_tokenizer, cache=False, case_variants=False)
    assert len(list((tmp_path / "xcs" / "lexicons").glob("*.npz"))) == 1
    with pytest.raises(TypeError, match="cache must be True, False or a directory path"):
        CompiledLexicon.compile(lexicon, e5_tokenizer, cache=3)
    with pytest.raises(TypeError, match="case_variants must be True or False"):
        CompiledLexicon.compile(lexicon, e5_tokenizer, case_variants="yes")


def test_lexicon_digest_covers_entries_and_languages(lexicon):
    digest = compile_cache.lexicon_digest(lexicon)
    assert digest == compile_cache.lexicon_digest(Lexicon.from_pairs(PAIRS, "en", "de"))
    assert digest != compile_cache.lexicon_digest(Lexicon.from_pairs(PAIRS, "de", "en"))
    assert digest != compile_cache.lexicon_digest(Lexicon.from_pairs(PAIRS[:-1], "en", "de"))
