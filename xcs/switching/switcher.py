"""``CodeSwitcher``: code-switch batches of token IDs with compiled bilingual lexicons.

For every word unit (see :mod:`xcs.switching.vocab`), a counter-based coin with probability ``p`` decides
whether the unit is looked up; if so, the longest key starting there (phrase lexicons: up to
``max_units`` units) is replaced by one of its translations, drawn uniformly. In bilingual mode
(BL-CS) the lexicon is that of ``target_language``; in multilingual mode (ML-CS) a language is
drawn per unit from ``language_weights`` and a unit missing from that language's lexicon stays
as it is; with ``language_per="example"`` the language is drawn once per example instead (the
paper's Wiki-CS: each training example switches bilingually into one language), and with
``example_p < 1`` only that share of the examples switches at all (hybrid batches). The output
depends only on (seed, epoch, example index, pair index, input).

Switch quality (keyword-only options, identical in both backends):

* ``keep_case`` (default True): the translation takes the case pattern of the words it replaces —
  "Paris" -> "Parigi", "PARIS" -> "PARIGI", "New York City" -> "Città Di New York" (every word
  capitalised when two or more cased words all are), lower case -> as the lexicon writes it.
* ``skip_stopwords`` (default False): a stopword (NLTK's list for the lexicons' source language,
  or ``stopwords``) is never switched on its own; it may still start a phrase key ("the hague").
* ``protect_names`` (default False): a word whose first letter is upper case and that does not
  start a sentence (see :mod:`xcs.switching.vocab`, ``SENTENCE_END``) is never switched on its own;
  a phrase key starting there still switches the whole phrase ("New York" -> "Nuova York").

Contractions and clitics ("don't", "I'm", "O'Neill") are one word unit, switched whole or not at
all (:mod:`xcs.switching.vocab`).

Backends: ``"native"`` (C++ core, threads, GIL released), ``"numba"`` (serial fallback with
bit-identical output), ``"auto"`` (native when the extension is built).
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from xcs.deprecation import renamed_keywords
from xcs.lexicons.lexicon import Lexicon
from xcs.ragged import (
    check_batch_layout,
    check_token_ids,
    flatten_lists,
    flatten_padded,
    integer_array,
    is_2d_array,
    pad_flat,
)
from xcs.switching.arguments import (
    check_choice,
    check_coverage,
    check_flag,
    check_integer,
    check_language_weights,
    check_length,
    check_probability,
    check_texts,
)
from xcs.switching.compiled_lexicon import CompiledLexicon, stopword_set
from xcs.switching.native import native_module
from xcs.switching.rng import ONE53, example_language, example_switches, language_thresholds
from xcs.switching.vocab import VocabTable

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

BACKENDS = ("auto", "native", "numba")
MODES = ("bilingual", "multilingual")
LANGUAGE_UNITS = ("word", "example")  # what a multilingual switcher draws a language for
# Added to a document's example index so that the query and the document of one example draw
# independently even from one switcher (or two with the same seed): disjoint index ranges.
DOCUMENT_INDEX_OFFSET = 1 << 40
MAX_THREADS = 1024  # the native core's limit
MAX_LANGUAGES = 127  # provenance's int8 language codes


class CodeSwitcher:
    """Switch words of tokenized text into other languages.

    Args:
        tokenizer: the Hugging Face tokenizer that produced the token IDs.
        lexicons: target language code -> :class:`Lexicon` (compiled here) or
            :class:`CompiledLexicon` (must be compiled for ``tokenizer``).
        p: probability that a word unit is looked up and, when found, switched; in [0, 1].
        mode: ``"bilingual"`` (one ``target_language``) or ``"multilingual"`` (a language per word,
            or per example with ``language_per="example"``).
        seed: seed of the counter-based draws.
        target_language: bilingual target; may be omitted when there is one lexicon.
        language_weights: multilingual weights per language code (default: uniform over lexicons).
        max_length: truncate outputs to this many tokens, keeping a closing special token.
        num_threads: native backend threads (outputs do not depend on it).
        backend: ``"auto" | "native" | "numba"``.
        keep_case: give a translation the case pattern of the words it replaces (lexicons compiled
            with ``case_variants``, the default); False: translations as the lexicon writes them.
        skip_stopwords: never switch a stopword unit on its own (it may start a phrase key).
        stopwords: the stopwords for ``skip_stopwords`` (default: NLTK's list of the lexicons'
            source language, :func:`xcs.lexicons.filters.stopwords`).
        protect_names: never switch a capitalised word on its own unless it starts a sentence
            (a phrase key starting there may switch).
        language_per: multilingual mode draws a language per ``"word"`` unit (ML-CS) or once per
            ``"example"`` (:meth:`example_languages`; the example then switches bilingually).
        example_p: probability that an example is code-switched at all (:meth:`switched_examples`);
            below 1 the others stay English (hybrid batches of English and code-switched pairs).
    """

    def __init__(
        self,
        tokenizer: PreTrainedTokenizerBase,
        lexicons: Mapping[str, Lexicon | CompiledLexicon],
        p: float = 0.5,
        mode: str = "bilingual",
        seed: int = 0,
        *,
        target_language: str | None = None,
        language_weights: Mapping[str, float] | None = None,
        max_length: int | None = None,
        num_threads: int = 1,
        backend: str = "auto",
        keep_case: bool = True,
        skip_stopwords: bool = False,
        stopwords: Collection[str] | None = None,
        protect_names: bool = False,
        language_per: str = "word",
        example_p: float = 1.0,
    ):
        check_choice("mode", mode, MODES)
        check_choice("language_per", language_per, LANGUAGE_UNITS)
        if language_per == "example" and mode != "multilingual":
            raise ValueError("language_per='example' is for mode='multilingual' (bilingual mode has one "
                             "language)")
        check_choice("backend", backend, BACKENDS)
        if not isinstance(lexicons, Mapping):
            raise TypeError(f"lexicons must be a mapping of language code -> Lexicon "
                            f"(e.g. {{'de': lexicon}}), got {type(lexicons).__name__}")
        if not lexicons:
            raise ValueError("lexicons must map at least one language code to a lexicon")
        for code in lexicons:
            if not isinstance(code, str) or not code:
                raise TypeError(f"lexicons: every key must be a language code (a non-empty string), got "
                                f"{type(code).__name__} {code!r}")
        # every argument is checked here, once, for both backends (the native core re-checks)
        self.seed = check_integer("seed", seed, 0, 2**64)
        self.max_length = check_length("max_length", max_length)
        self.num_threads = check_integer("num_threads", num_threads, 1, MAX_THREADS + 1)
        self.keep_case = check_flag("keep_case", keep_case)
        self.skip_stopwords = check_flag("skip_stopwords", skip_stopwords)
        self.protect_names = check_flag("protect_names", protect_names)
        if stopwords is not None and not self.skip_stopwords:
            raise ValueError("stopwords is only used with skip_stopwords=True")
        self.tokenizer = tokenizer
        self.vocab = VocabTable.for_tokenizer(tokenizer)
        self.p = p
        self.mode = mode
        self.language_per = language_per
        self.example_p = check_probability("example_p", example_p)
        self.epoch = 0

        weights = check_language_weights(lexicons, mode, target_language, language_weights)
        self.languages: list[str] = list(weights)
        if len(self.languages) > MAX_LANGUAGES:  # provenance stores a language as int8
            raise ValueError(f"at most {MAX_LANGUAGES} languages per switcher, got {len(self.languages)}")
        try:
            self.language_cumulative = language_thresholds([float(w) for w in weights.values()])
        except ValueError as exc:
            raise ValueError(f"language_weights: {exc}") from None
        self.lexicons: list[CompiledLexicon] = []
        for lang in self.languages:
            lex = lexicons[lang]
            compiled = CompiledLexicon.compile(lex, tokenizer) if isinstance(lex, Lexicon) else lex
            if not isinstance(compiled, CompiledLexicon):
                raise TypeError(f"lexicons[{lang!r}] must be a Lexicon or CompiledLexicon, got {type(lex)}")
            compiled.check_tokenizer(self.vocab)
            check_coverage(lang, lex, compiled)
            self.lexicons.append(compiled)
        self.stopword_set = self._stopword_set(stopwords) if self.skip_stopwords else None

        native = native_module()
        if backend == "native" and native is None:
            raise ImportError("backend='native' but the extension xcs._native is not built")
        self.backend = "numba" if backend == "numba" or native is None else "native"
        self._packed: dict[tuple[int, ...], Any] = {}  # Numba's packed lexicons per language subset

    def _stopword_set(self, words: Collection[str] | None) -> CompiledLexicon:
        """The stopword set for ``skip_stopwords``: ``words``, or NLTK's list of the source language."""
        sources = sorted({lex.src_lang for lex in self.lexicons})
        if words is None:
            from xcs.lexicons.filters import stopwords

            if len(sources) != 1:
                raise ValueError(f"skip_stopwords: the lexicons have several source languages {sources}; "
                                 "pass stopwords")
            words = stopwords(sources[0])
        elif isinstance(words, str) or not all(isinstance(w, str) and w.strip() for w in words):
            raise TypeError("stopwords must be a collection of non-empty strings")
        return stopword_set(words, self.tokenizer, sources[0])

    # ------------------------------------------------------------------ configuration
    @property
    def p(self) -> float:
        """The switch rate, in [0, 1]; set it to schedule p (checked like the constructor's)."""
        return self._p

    @p.setter
    def p(self, value: float) -> None:
        self._p = check_probability("p", value)

    def set_epoch(self, epoch: int) -> None:
        """Draws of later calls use ``epoch`` (a new switch pattern per training epoch)."""
        self.epoch = check_integer("epoch", epoch, 0, 2**64)

    @property
    def pad_token_id(self) -> int:
        pad = self.tokenizer.pad_token_id
        return 0 if pad is None else int(pad)

    # ------------------------------------------------------------------ core call (CSR)
    @renamed_keywords({"example_index": "example_indices", "pair_index": "pair_indices",
                       "provenance": "return_provenance"})
    def switch_flat(
        self,
        ids: np.ndarray,
        offsets: np.ndarray,
        example_indices: np.ndarray,
        *,
        epoch: int | None = None,
        max_length: int | None = None,
        return_provenance: bool = False,
        pair_indices: np.ndarray | None = None,
    ) -> dict[str, np.ndarray]:
        """Code-switch a batch in CSR form (the fast path every other call goes through).

        ``ids``: int32 or int64 ``(n_tokens,)``; ``offsets``: int64 ``(batch + 1,)``;
        ``example_indices``: int64 ``(batch,)``; ``pair_indices``: int64 ``(batch,)``, what the
        per-example draws come from (the language with ``language_per="example"``, whether the
        example switches at all with ``example_p < 1``); default ``example_indices``, the collators
        pass the training pair's index so that a query and its documents draw alike. Returns ``ids``
        (int32) and ``offsets`` (int64), plus with ``return_provenance`` per output token
        ``word_index`` (int32, the original unit), ``language`` (int8, -1 original else index into
        ``self.languages``) and ``switched`` (uint8). The arguments are named as :meth:`__call__`'s
        (the old ``example_index`` / ``pair_index`` / ``provenance`` still work, with a warning).
        """
        example_index, pair_index, provenance = example_indices, pair_indices, return_provenance
        ids = np.asarray(ids)
        if ids.dtype not in (np.int32, np.int64):
            raise TypeError(f"token ids must be int32 or int64, got {ids.dtype}")
        if ids.ndim != 1:
            raise ValueError(f"ids must be 1-D (n_tokens,) in CSR form, got shape {ids.shape}; call the "
                             "switcher itself for a padded (batch, seq) array")
        ids = np.ascontiguousarray(ids)
        offsets = integer_array("offsets", offsets)
        example_index = integer_array("example_index", example_index)
        check_batch_layout(ids, offsets, example_index)
        length = self.max_length if max_length is None else check_length("max_length", max_length)
        epoch = self.epoch if epoch is None else check_integer("epoch", epoch, 0, 2**64)
        every_language = tuple(range(len(self.languages)))
        per_example_language = self.language_per == "example" and len(self.languages) > 1
        if not per_example_language and self.example_p == 1.0:
            return self._engine(ids, offsets, example_index, every_language, self.language_cumulative,
                                self.p, epoch, length or 0, provenance)
        if pair_index is None:
            pair_index = example_index
        else:
            pair_index = integer_array("pair_index", pair_index)
            if pair_index.shape != example_index.shape:
                raise ValueError(f"pair_index has shape {pair_index.shape}, expected {example_index.shape} "
                                 "(one per example)")
        # one engine call per group of rows: -1 stays in English (p = 0), k >= 0 switches into
        # language k alone (per-example languages) or into every language (group 0 otherwise)
        groups = (self.example_languages(pair_index, epoch=epoch) if per_example_language
                  else np.zeros(pair_index.shape[0], dtype=np.int64))
        if self.example_p < 1.0:
            groups[~self.switched_examples(pair_index, epoch=epoch)] = -1
        calls = {-1: ((0,), [ONE53], 0.0)}
        for group in np.unique(groups[groups >= 0]).tolist():
            calls[group] = (((group,), [ONE53], self.p) if per_example_language
                            else (every_language, self.language_cumulative, self.p))
        return self._switch_groups(ids, offsets, example_index, groups, calls, epoch, length or 0,
                                   provenance)

    def example_languages(self, pair_index: Sequence[int] | np.ndarray, *,
                          epoch: int | None = None) -> np.ndarray:
        """int64 ``(batch,)`` index into :attr:`languages` of the language each example switches into
        with ``language_per="example"``, drawn from (seed, epoch, ``pair_index[i]``) and the
        language weights."""
        epoch = self.epoch if epoch is None else check_integer("epoch", epoch, 0, 2**64)
        indices = integer_array("pair_index", pair_index)
        return np.array([example_language(self.seed, epoch, int(i), self.language_cumulative)
                         for i in indices], dtype=np.int64)

    def switched_examples(self, pair_index: Sequence[int] | np.ndarray, *,
                          epoch: int | None = None) -> np.ndarray:
        """bool ``(batch,)``: whether each example is code-switched at all (probability
        :attr:`example_p`, drawn from (seed, epoch, ``pair_index[i]``)); the others stay English."""
        epoch = self.epoch if epoch is None else check_integer("epoch", epoch, 0, 2**64)
        indices = integer_array("pair_index", pair_index)
        return np.array([example_switches(self.seed, epoch, int(i), self.example_p) for i in indices],
                        dtype=bool)

    def _switch_groups(self, ids: np.ndarray, offsets: np.ndarray, example_index: np.ndarray,
                       groups: np.ndarray, calls: Mapping[int, tuple[tuple[int, ...], list[int], float]],
                       epoch: int, length: int, provenance: bool) -> dict[str, np.ndarray]:
        """Switch the rows of each group of ``groups`` (int64 ``(batch,)``) in one engine call with
        ``calls[group]`` = (lexicon indices, cumulative language thresholds, p), and put the rows
        back in their order (``language`` provenance as indices of :attr:`languages`)."""
        lengths = np.zeros(example_index.shape[0], dtype=np.int64)
        parts = []
        for group in np.unique(groups).tolist():
            rows = np.flatnonzero(groups == group)
            starts, sub_lengths = offsets[rows], offsets[rows + 1] - offsets[rows]
            sub_offsets = np.concatenate([[0], np.cumsum(sub_lengths)]).astype(np.int64)
            # the rows' tokens in one gather: token t of the group sits at starts[row] + (t - its start)
            sub_ids = ids[np.repeat(starts - sub_offsets[:-1], sub_lengths) + np.arange(sub_offsets[-1])]
            languages, cumulative, p = calls[group]
            out = self._engine(sub_ids, sub_offsets, example_index[rows], languages, cumulative, p, epoch,
                               length, provenance)
            if provenance:  # the engine numbers the languages of its call
                out["language"] = np.where(out["language"] >= 0, np.asarray(languages)[
                    np.maximum(out["language"], 0)], -1).astype(np.int8)
            lengths[rows] = np.diff(out["offsets"])
            parts.append((rows, out))
        result = {"offsets": np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)}
        for key in parts[0][1]:
            if key == "offsets":
                continue
            merged = np.empty(int(result["offsets"][-1]), dtype=parts[0][1][key].dtype)
            for rows, out in parts:
                sub_lengths = np.diff(out["offsets"])
                shift = np.repeat(result["offsets"][rows] - out["offsets"][:-1], sub_lengths)
                merged[shift + np.arange(out[key].shape[0])] = out[key]
            result[key] = merged
        return result

    def _engine(self, ids: np.ndarray, offsets: np.ndarray, example_index: np.ndarray,
                languages: tuple[int, ...], cumulative: list[int], p: float, epoch: int, length: int,
                provenance: bool) -> dict[str, np.ndarray]:
        """One call of the backend on a validated CSR batch with the lexicons ``languages`` (indices of
        :attr:`lexicons`), their cumulative language thresholds and switch rate ``p``."""
        if self.backend == "native":
            return native_module().switch_batch(
                ids, offsets, example_index, self.vocab.token_info, self.vocab.fingerprint64,
                [self.lexicons[k].native for k in languages], p, self.seed, epoch, cumulative,
                length, self.num_threads, provenance,
                stopwords=None if self.stopword_set is None else self.stopword_set.native,
                keep_case=self.keep_case, protect_names=self.protect_names,
            )
        from xcs.switching import numba_engine as codeswitch_numba

        check_token_ids(ids, offsets, self.vocab.vocab_size)
        if languages not in self._packed:
            self._packed[languages] = codeswitch_numba.PackedLexicons.pack(
                [self.lexicons[k] for k in languages], self.stopword_set)
        return codeswitch_numba.switch_batch(
            ids, offsets, example_index, self.vocab.token_info, self._packed[languages], p=p,
            seed=self.seed, epoch=epoch, language_cumulative=cumulative, max_length=length,
            provenance=provenance, keep_case=self.keep_case, protect_names=self.protect_names,
        )

    # ------------------------------------------------------------------ public call
    def __call__(
        self,
        batch: Sequence[Sequence[int]] | np.ndarray | Any,
        attention_mask: np.ndarray | Any | None = None,
        *,
        example_indices: Sequence[int] | np.ndarray | None = None,
        offset: int = 0,
        epoch: int | None = None,
        max_length: int | None = None,
        return_provenance: bool = False,
        pair_indices: Sequence[int] | np.ndarray | None = None,
    ) -> list[list[int]] | dict[str, Any]:
        """Code-switch a batch.

        ``batch`` is either a list of token-ID lists (returns a list of lists, or with
        ``return_provenance`` a dict of lists ``input_ids``, ``word_index``, ``language``,
        ``switched``), or a padded 2-D array ``(batch, seq)`` (numpy or torch) with
        ``attention_mask`` of the same shape (returns a dict of padded numpy arrays
        ``input_ids`` int64, ``attention_mask`` int64, and the provenance arrays padded with
        -1, -1, 0). Example ``i`` draws as example ``example_indices[i]`` (default
        ``offset + i``), so splitting a dataset into batches does not change the result;
        ``pair_indices`` as in :meth:`switch_flat`.
        """
        padded = attention_mask is not None or is_2d_array(batch)
        if padded:
            ids, offsets = flatten_padded(batch, attention_mask)
        else:
            ids, offsets = flatten_lists(batch)
        n = offsets.shape[0] - 1
        if example_indices is None:
            start = check_integer("offset", offset, 0, 2**63 - n)
            example_index = np.arange(start, start + n, dtype=np.int64)
        else:
            example_index = integer_array("example_indices", example_indices)
            if example_index.shape != (n,):
                raise ValueError(f"example_indices has shape {example_index.shape}, expected ({n},)")
        result = self.switch_flat(ids, offsets, example_index, epoch=epoch, max_length=max_length,
                                  return_provenance=return_provenance, pair_indices=pair_indices)
        keys = ["ids"] + (["word_index", "language", "switched"] if return_provenance else [])
        if padded:
            fill = {"ids": self.pad_token_id, "word_index": -1, "language": -1, "switched": 0}
            out = {("input_ids" if k == "ids" else k): pad_flat(result[k], result["offsets"], fill[k])
                   for k in keys}
            out["input_ids"] = out["input_ids"].astype(np.int64)
            lengths = np.diff(result["offsets"])
            out["attention_mask"] = (np.arange(out["input_ids"].shape[1]) < lengths[:, None]).astype(np.int64)
            return out
        bounds = result["offsets"].tolist()
        lists = {}
        for k in keys:
            flat = result[k].tolist()
            lists["input_ids" if k == "ids" else k] = [flat[a:b] for a, b in itertools.pairwise(bounds)]
        return lists if return_provenance else lists["input_ids"]

    # ------------------------------------------------------------------ text in, text out
    def switch_texts(self, texts: Sequence[str], example_indices: Sequence[int] | np.ndarray | None = None, *,
                     epoch: int | None = None) -> list[str]:
        """Code-switch texts: tokenize (no special tokens), switch the token ids, decode.

        Deterministic like :meth:`__call__` (text ``i`` draws as example ``example_indices[i]``,
        default ``i``, at ``epoch``, default :attr:`epoch`), so it serves a ``datasets`` transform::

            dataset.map(lambda batch, idx: {"anchor": cs.switch_texts(batch["anchor"], idx)},
                        batched=True, with_indices=True)

        Decoding does not re-tokenize exactly: train on token ids (the collators) where that matters;
        this is for ``datasets`` pipelines and for reading what the switching does.
        """
        texts = check_texts(texts, "texts")
        indices = (np.arange(len(texts), dtype=np.int64) if example_indices is None
                   else integer_array("example_indices", example_indices))
        if indices.shape != (len(texts),):
            raise ValueError(f"example_indices has shape {indices.shape}, expected ({len(texts)},)")
        ids = self.tokenizer(texts, add_special_tokens=False)["input_ids"]
        rows = [i for i, row in enumerate(ids) if row]  # the engine takes no empty sequence; "" stays ""
        out = [""] * len(texts)
        if rows:
            switched = self([ids[i] for i in rows], example_indices=indices[rows], epoch=epoch)
            decoded = self.tokenizer.batch_decode(switched, clean_up_tokenization_spaces=False)
            for i, text in zip(rows, decoded, strict=True):
                out[i] = text
        return out
