"""On-disk cache of compiled lexicons: a second process loads in milliseconds what took seconds.

:meth:`CompiledLexicon.compile <xcs.switching.compiled_lexicon.CompiledLexicon.compile>` spends
seconds tokenizing every key variant and translation of a MUSE lexicon. Its arrays depend only on

* the lexicon: its languages and its entries, in order (:func:`lexicon_digest`);
* the tokenizer: its vocabulary and how it segments text (:func:`tokenizer_fingerprint`: for fast
  tokenizers the serialised model — vocabulary and scores —, normaliser and pre-tokenizer, the
  added tokens and the special ids; for slow ones the :class:`~xcs.switching.vocab.VocabTable`
  fingerprint, the class and its scalar settings);
* the compile options (``case_variants``) and :data:`FORMAT_VERSION` (the compile rules and this
  file layout: bump it whenever either changes),

so the SHA-256 of all of them names a file ``<src>-<tgt>-<hash>.npz`` in the cache directory
(``cache_dir()/lexicons``, i.e. ``$XCS_CACHE_DIR/lexicons``, default ``~/.cache/xcs/lexicons``).
Each file also records the vocabulary fingerprint and size, so that a hit needs no
:class:`~xcs.switching.vocab.VocabTable`. Files are written atomically (:mod:`xcs.io.atomic`),
uncompressed (loading is a copy), under a temporary name unique per process and thread (threads
compiling one lexicon at once never share it). A file that
cannot be read, whose metadata do not match its name, or whose arrays fail validation is ignored
with a :class:`CacheWarning` and written again; a cache directory that cannot be created or written
(``$XCS_CACHE_DIR`` under a file, in a read-only place) warns once per compile, which then runs in
memory. Nothing here raises on a bad cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import warnings
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from xcs.io.atomic import atomic_path
from xcs.io.paths import cache_dir

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

    from xcs.lexicons.lexicon import Lexicon

# Version of the compile rules and of the file layout; part of every key.
FORMAT_VERSION = 1
_META = "__meta__"


class CacheWarning(UserWarning):
    """A cache file was ignored (unreadable, mismatched or invalid) or could not be written."""


def default_directory() -> Path:
    """``cache_dir() / "lexicons"`` (``$XCS_CACHE_DIR/lexicons``, default ``~/.cache/xcs/lexicons``)."""
    return cache_dir() / "lexicons"


def resolve_directory(cache: bool | str | os.PathLike[str]) -> Path | None:
    """The directory of the ``cache`` option: None for False, :func:`default_directory` for True,
    else the given path. A directory that cannot be created (``$XCS_CACHE_DIR`` under a file, in a
    read-only place) is None with one :class:`CacheWarning`: the lexicon is compiled in memory."""
    if cache is False:
        return None
    if cache is not True and not isinstance(cache, (str, os.PathLike)):
        raise TypeError(f"cache must be True, False or a directory path, got {type(cache).__name__} "
                        f"{cache!r}")
    try:
        directory = default_directory() if cache is True else Path(cache)
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        where = " ($XCS_CACHE_DIR)" if cache is True else ""
        warnings.warn(f"could not write the lexicon cache: cannot create its directory{where} ({exc}); "
                      "compiling in memory", CacheWarning, stacklevel=3)
        return None
    return directory


def lexicon_digest(lexicon: Lexicon) -> str:
    """SHA-256 of a lexicon's languages and entries (sources and candidates in order), over their
    ``repr`` (unambiguous for strings, lists and dicts; 10x faster than JSON for MUSE's 75k entries
    once the process holds many objects, which makes ``json.dumps`` trigger garbage collections)."""
    text = repr([lexicon.src_lang, lexicon.tgt_lang, lexicon.entries])
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def tokenizer_fingerprint(tokenizer: PreTrainedTokenizerBase) -> str:
    """SHA-256 of what decides a tokenizer's ids for a text (cached per tokenizer object)."""
    try:
        return _FINGERPRINTS[tokenizer]
    except (KeyError, TypeError):
        pass
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        digest = hashlib.sha256(b"fast")
        for part in (backend.model, backend.normalizer, backend.pre_tokenizer):
            digest.update(b"\0" if part is None else part.__getstate__())
        digest.update(json.dumps([len(tokenizer), sorted(tokenizer.all_special_ids),
                                  sorted(tokenizer.get_added_vocab().items())]).encode())
    else:
        from xcs.switching.vocab import VocabTable

        settings = {k: v for k, v in getattr(tokenizer, "init_kwargs", {}).items()
                    if isinstance(v, (str, int, float, bool))}
        digest = hashlib.sha256(VocabTable.for_tokenizer(tokenizer).fingerprint.encode())
        digest.update(json.dumps([type(tokenizer).__name__, settings], sort_keys=True).encode())
    fingerprint = digest.hexdigest()
    with contextlib.suppress(TypeError):  # not weak-referenceable: computed again next time
        _FINGERPRINTS[tokenizer] = fingerprint
    return fingerprint


_FINGERPRINTS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def cache_key(lexicon: Lexicon, tokenizer: PreTrainedTokenizerBase, options: dict[str, Any]) -> str:
    """The hex SHA-256 naming the compiled form of ``lexicon`` for ``tokenizer`` with ``options``."""
    parts = {"format": FORMAT_VERSION, "lexicon": lexicon_digest(lexicon),
             "tokenizer": tokenizer_fingerprint(tokenizer), "options": options}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def cache_file(directory: Path, lexicon: Lexicon, key: str) -> Path:
    """``directory/<src>-<tgt>-<key[:32]>.npz``."""
    safe = "".join(c if c.isalnum() else "_" for c in f"{lexicon.src_lang}-{lexicon.tgt_lang}")
    return directory / f"{safe}-{key[:32]}.npz"


def read(path: Path, key: str) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
    """The arrays and metadata stored at ``path`` for ``key``; None when there is no such file, and
    None with a :class:`CacheWarning` when it cannot be read or was written for another key."""
    try:
        if not path.is_file():  # may raise (PermissionError) on a directory that cannot be searched
            return None
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files if name != _META}
            meta = json.loads(str(data[_META]))
        if not isinstance(meta, dict) or meta.get("key") != key or meta.get("format") != FORMAT_VERSION:
            raise ValueError("its metadata belong to another lexicon, tokenizer or format")
    except Exception as exc:  # any unreadable file (zip, npy, JSON errors) is a cache miss
        warn_ignored(path, exc)
        return None
    return arrays, meta


def write(path: Path, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
    """Store ``arrays`` and ``meta`` (JSON; ``meta["key"]`` names them) at ``path``, atomically; a
    directory that cannot be written gives a :class:`CacheWarning`."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp:
            np.savez(tmp, **arrays, **{_META: np.array(json.dumps(dict(meta, format=FORMAT_VERSION)))})
    except (OSError, ValueError) as exc:
        warnings.warn(f"could not write the lexicon cache file {path}: {exc}", CacheWarning, stacklevel=3)


def warn_ignored(path: Path, exc: BaseException) -> None:
    """Warn that the cache file ``path`` is ignored (and will be written again)."""
    warnings.warn(f"ignoring the lexicon cache file {path} ({type(exc).__name__}: {exc}); compiling again",
                  CacheWarning, stacklevel=3)
