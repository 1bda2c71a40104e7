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


# ---------------------------------------------------------------- issue 21.7: the cache never raises
@pytest.mark.parametrize("place", ["under a file", "read-only parent"])
def test_uncreatable_cache_dir_compiles_in_memory_with_one_warning(e5_tokenizer, lexicon, tmp_path,
                                                                   monkeypatch, place):
    """``$XCS_CACHE_DIR`` that cannot be created: one CacheWarning, the lexicon compiled in memory
    (it raised NotADirectoryError / PermissionError from ``compile``)."""
    import errno
    import warnings
    from pathlib import Path

    monkeypatch.undo()  # the suite's conftest points the default at a temporary directory
    if place == "under a file":
        blocker = tmp_path / "file"
        blocker.write_text("a file where the cache directory should be")
        monkeypatch.setenv("XCS_CACHE_DIR", str(blocker / "xcs"))
    else:  # chmod does not stop root: an immutable parent refuses mkdir as EACCES
        parent = tmp_path / "readonly"
        monkeypatch.setenv("XCS_CACHE_DIR", str(parent / "xcs"))
        mkdir = Path.mkdir

        def refusing(self, *args, **kwargs):
            if parent in self.parents or self == parent:
                raise PermissionError(errno.EACCES, "Permission denied", str(self))
            return mkdir(self, *args, **kwargs)

        monkeypatch.setattr(Path, "mkdir", refusing)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compiled = CompiledLexicon.compile(lexicon, e5_tokenizer)
    monkeypatch.undo()
    cache_warnings = [w for w in caught if issubclass(w.category, CacheWarning)]
    assert len(cache_warnings) == 1, [str(w.message) for w in caught]
    assert "compiling in memory" in str(cache_warnings[0].message)
    assert_same(compiled, CompiledLexicon.compile(lexicon, e5_tokenizer, cache=False))


def test_atomic_temporaries_are_unique_per_thread(tmp_path):
    """Threads writing one file get different temporaries (they shared ``.NAME.tmpPID``: one
    thread's rename took the other's file away, which warned "could not write")."""
    import threading

    from xcs.io.atomic import atomic_path

    names, barrier = [], threading.Barrier(2)

    def write():
        with atomic_path(tmp_path / "x.npz") as tmp:
            names.append(tmp.name)
            tmp.write_bytes(b"x")
            barrier.wait(timeout=10)

    threads = [threading.Thread(target=write) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(names)) == 2 and (tmp_path / "x.npz").read_bytes() == b"x"
    assert not list(tmp_path.glob(".x.npz.tmp*"))


def test_threads_compiling_one_lexicon_do_not_warn(e5_tokenizer, lexicon, tmp_path):
    import threading
    import warnings

    results, barrier = [], threading.Barrier(4)

    def compile_one():
        barrier.wait(timeout=30)
        results.append(CompiledLexicon.compile(lexicon, e5_tokenizer, cache=tmp_path))

    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)
        threads = [threading.Thread(target=compile_one) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(results) == 4
    assert len(list(tmp_path.glob("*.npz"))) == 1 and not list(tmp_path.glob(".*tmp*"))
