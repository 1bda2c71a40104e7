"""Type-level word embeddings from the multilingual encoder, and lexicons induced from them.

No pretrained cross-lingual word vectors exist offline, but the multilingual encoder already maps
words of all its languages into one space. A word's type-level vector is obtained by encoding the
word alone (no ``query:``/``passage:`` prefix) and averaging the hidden states of its subword
tokens at one layer, leaving out ``<s>`` and ``</s>``. Vocabularies are the most frequent words
of each language (``wordfreq``; for a language it lacks, the tokenizer's own pieces) written in that
language's script; translations are then induced with CSLS (:mod:`xcs.lexicons.csls`). Word
vectors are cached under ``xcs.io.paths.cache_dir()``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from xcs.io.atomic import atomic_path
from xcs.io.paths import cache_dir
from xcs.lexicons.filters import frequent_words, has_word_frequencies, is_in_script, scripts_for
from xcs.lexicons.lexicon import Lexicon

# Layer used when none is given (hidden_states index: 0 = embeddings, 12 = last block of mE5-small).
# Chosen on en-de P@1 against MUSE, see docs/lexicons.md.
DEFAULT_LAYER = 7


def vocabulary(lang: str, size: int, tokenizer: Any = None) -> list[str]:
    """The ``size`` most frequent words of ``lang`` written in its script, most frequent first.

    The words come from ``wordfreq`` (numbers, punctuation and foreign-script words skipped). For a
    language ``wordfreq`` does not cover (Thai), they come from ``tokenizer``'s own vocabulary
    (:func:`tokenizer_words`), which may hold fewer than ``size``; without a tokenizer that is a
    ``ValueError`` naming the language.
    """
    if not has_word_frequencies(lang):
        if tokenizer is None:
            raise ValueError(f"wordfreq has no word list for language {lang!r}; pass the encoder's "
                             f"tokenizer to take the words from its vocabulary")
        return tokenizer_words(tokenizer, lang, size)
    scripts = scripts_for(lang)
    pool = frequent_words(lang, int(size * 1.5) + 100)
    words = [w for w in pool if is_in_script(w, scripts)]
    if len(words) < size:  # rare: a list with many foreign words; widen the pool once
        pool = frequent_words(lang, size * 4)
        words = [w for w in pool if is_in_script(w, scripts)]
    return words[:size]


def tokenizer_words(tokenizer: Any, lang: str, size: int, *, min_letters: int = 2) -> list[str]:
    """Up to ``size`` pieces of a fast HF ``tokenizer``'s vocabulary that are words of ``lang``.

    A piece qualifies when, without its word-start marker (``▁`` or ``Ġ``) or continuation marker
    (``##``), it is written in the language's script and has at least ``min_letters`` characters
    (single letters of an alphabet are seldom words). A unigram model (SentencePiece, as in
    XLM-R and mE5) ranks its pieces by their log-probability, so the most probable come first;
    other models keep their id order. The same text can be a piece twice (with and without the
    marker): it is listed once. For mE5's tokenizer this yields about 3,900 Thai words.
    """
    import json

    model = json.loads(tokenizer.backend_tokenizer.to_str())["model"]
    vocab = model["vocab"]
    if model["type"] == "Unigram":  # [[piece, log-probability], ...]
        pieces = [piece for piece, _ in sorted(vocab, key=lambda entry: -entry[1])]
    else:  # {piece: id}
        pieces = sorted(vocab, key=vocab.get)
    scripts = scripts_for(lang)
    words: list[str] = []
    seen: set[str] = set()
    for piece in pieces:
        word = piece.removeprefix("##").lstrip("\u2581\u0120")
        if len(word) >= min_letters and word not in seen and is_in_script(word, scripts):
            seen.add(word)
            words.append(word)
            if len(words) == size:
                break
    if not words:
        raise ValueError(f"the tokenizer's vocabulary has no word written in the script of {lang!r}")
    return words


def encode_words(
    encoder: Any,
    words: Sequence[str],
    *,
    layers: Sequence[int | None] = (DEFAULT_LAYER,),
    batch_size: int = 256,
    progress: bool = False,
) -> dict[int | None, np.ndarray]:
    """Type-level vectors of ``words`` at each of ``layers``: ``{layer: float32 (n, d)}``, unit rows.

    ``encoder`` is an :class:`xcs.Encoder` (anything with a HF ``.tokenizer`` and ``.model``).
    Layer ``None`` is the last; ``0`` the embedding output. Each word is encoded alone with its
    special tokens, and only the states of the word's own subword tokens are averaged.
    """
    import torch

    if not words:
        raise ValueError("encode_words needs at least one word")
    tokenizer, model = encoder.tokenizer, encoder.model
    encoded = tokenizer(list(words), add_special_tokens=True, return_special_tokens_mask=True,
                        truncation=True, max_length=64)
    ids, special = encoded["input_ids"], encoded["special_tokens_mask"]
    for word, mask in zip(words, special, strict=True):
        if all(mask):
            raise ValueError(f"word {word!r} has no subword tokens")
    order = np.argsort([len(row) for row in ids], kind="stable")
    out = {layer: np.empty((len(words), model.config.hidden_size), dtype=np.float32) for layer in layers}
    device = next(model.parameters()).device
    starts = range(0, len(words), batch_size)
    if progress:
        from tqdm import tqdm

        starts = tqdm(starts, desc="encoding words", unit="batch")
    pad_id = tokenizer.pad_token_id
    with torch.inference_mode():
        for start in starts:
            rows = order[start:start + batch_size]
            length = max(len(ids[i]) for i in rows)
            input_ids = torch.full((len(rows), length), pad_id, dtype=torch.long)
            attention = torch.zeros((len(rows), length), dtype=torch.long)
            word_mask = torch.zeros((len(rows), length))  # 1 on the word's own subword tokens
            for r, i in enumerate(rows):
                input_ids[r, :len(ids[i])] = torch.as_tensor(ids[i])
                attention[r, :len(ids[i])] = 1
                word_mask[r, :len(ids[i])] = 1 - torch.as_tensor(special[i], dtype=torch.float32)
            hidden = model(input_ids=input_ids.to(device), attention_mask=attention.to(device),
                           output_hidden_states=True, return_dict=True).hidden_states
            weights = (word_mask / word_mask.sum(dim=1, keepdim=True)).unsqueeze(-1).to(device)
            for layer in layers:
                states = hidden[-1 if layer is None else layer].float()  # (b, L, d)
                pooled = torch.nn.functional.normalize((states * weights).sum(dim=1), dim=1)
                out[layer][rows] = pooled.cpu().numpy()
    return out


def cached_word_vectors(
    encoder: Any,
    lang: str,
    words: Sequence[str],
    *,
    layer: int | None = DEFAULT_LAYER,
    progress: bool = False,
    directory: str | os.PathLike[str] | None = None,
) -> np.ndarray:
    """:func:`encode_words` for one layer, cached on disk by model, layer and word list."""
    model_key = str(getattr(encoder, "description", None) or getattr(encoder, "path", ""))
    key = hashlib.sha1("\n".join([model_key, str(layer), *words]).encode("utf-8")).hexdigest()[:16]
    folder = Path(directory) if directory is not None else cache_dir() / "word_vectors"
    path = folder / f"{lang}-{len(words)}-layer{layer}-{key}.npy"
    if path.is_file():
        try:  # never unpickles: a cache file holding an object array (or a corrupt one) is recomputed
            vectors = np.load(path, allow_pickle=False)
        except (OSError, ValueError, EOFError):
            vectors = None
        if vectors is not None and vectors.shape[0] == len(words):
            return vectors
    vectors = encode_words(encoder, words, layers=(layer,), progress=progress)[layer]
    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        np.save(tmp, vectors)
    return vectors


def induce_encoder_lexicon(
    src_lang: str,
    tgt_lang: str,
    *,
    vocab_size: int = 20000,
    tgt_vocab_size: int | None = None,
    encoder: Any = None,
    model: str = "default",
    layer: int | None = DEFAULT_LAYER,
    method: str = "csls",
    k: int = 1,
    csls_k: int = 10,
    mutual: bool = False,
    exclude_identical: bool = False,
    seed: Lexicon | None = None,
    refine_iterations: int = 0,
    progress: bool = False,
) -> Lexicon:
    """Induce ``src_lang -> tgt_lang`` from the encoder's type-level word vectors.

    The ``vocab_size`` most frequent source words are translated into the ``tgt_vocab_size``
    (default: same) most frequent target words. ``exclude_identical`` skips a candidate spelled
    like its source (the encoder puts a word next to itself, and an untranslated word is no
    switch), returning the best different word instead. With a ``seed`` dictionary the source
    vectors are first rotated onto the target ones by orthogonal Procrustes on the seed pairs
    found in both vocabularies (optionally refined, see :func:`xcs.lexicons.procrustes.align`).
    """
    from xcs.lexicons.csls import induce_lexicon

    if encoder is None:
        from xcs.models.encoder import Encoder

        encoder = Encoder(model)
    src_words = vocabulary(src_lang, vocab_size, encoder.tokenizer)
    tgt_words = vocabulary(tgt_lang, tgt_vocab_size or vocab_size, encoder.tokenizer)
    src_vecs = cached_word_vectors(encoder, src_lang, src_words, layer=layer, progress=progress)
    tgt_vecs = cached_word_vectors(encoder, tgt_lang, tgt_words, layer=layer, progress=progress)
    if seed is not None:
        from xcs.lexicons.procrustes import align
        from xcs.lexicons.vectors import WordVectors

        alignment = align(WordVectors(src_words, src_vecs), WordVectors(tgt_words, tgt_vecs), seed,
                          refine_iterations=refine_iterations, progress=progress)
        src_vecs = src_vecs @ alignment.W
    extra = 1 if exclude_identical and not mutual else 0
    lex = induce_lexicon(src_words, src_vecs, tgt_words, tgt_vecs, src_lang, tgt_lang,
                         k=k + extra, method=method, csls_k=csls_k, mutual=mutual, progress=progress)
    if exclude_identical:
        lex.entries = {s: [t for t in ts if t != s][:k] for s, ts in lex.entries.items()}
        lex.entries = {s: ts for s, ts in lex.entries.items() if ts}
    return lex
