"""The batches every training method feeds ``xcs.training.loop.train``: the public
:class:`~xcs.switching.collator.CodeSwitchCollator`, with each side's switcher built from the method
(languages, weights, p and its schedule)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from xcs.experiment.methods import Method
from xcs.switching.collator import CodeSwitchCollator
from xcs.switching.compiled_lexicon import CompiledLexicon
from xcs.switching.switcher import CodeSwitcher
from xcs.training.collated import CollatorBatchBuilder


def method_switchers(tokenizer: Any, method: Method, lexicons: Mapping[str, Any] | None,
                     seed: int) -> dict[str, CodeSwitcher]:
    """The switcher of each side the method code-switches (``"query"`` / ``"document"``), each
    lexicon compiled once and shared by both sides."""
    switchers = {}
    compiled: dict[str, CompiledLexicon] = {}
    for side in ("query", "document"):
        langs = method.side_languages(side)
        if not langs:
            continue
        missing = [lang for lang in langs if lexicons is None or lang not in lexicons]
        if missing:
            raise ValueError(f"method {method.name!r}: no lexicon given for {missing}")
        for lang in langs:
            if lang not in compiled:
                lex = lexicons[lang]
                compiled[lang] = (lex if isinstance(lex, CompiledLexicon)
                                  else CompiledLexicon.compile(lex, tokenizer))
        mode = "bilingual" if len(langs) == 1 else "multilingual"
        kwargs: dict[str, Any] = {}
        if mode == "multilingual":
            kwargs["language_per"] = method.language_per
            if method.weights:
                kwargs["language_weights"] = dict(zip(langs, method.weights, strict=True))
        switchers[side] = CodeSwitcher(tokenizer, {lang: compiled[lang] for lang in langs}, p=method.p,
                                       mode=mode, seed=seed, example_p=method.example_p,
                                       keep_case=method.keep_case,
                                       skip_stopwords=method.skip_stopwords,
                                       protect_names=method.protect_names, **kwargs)
    return switchers


def method_batch_builder(
    tokenizer: Any,
    method: Method,
    *,
    lexicons: Mapping[str, Any] | None = None,
    seed: int = 0,
    total_steps: int = 1,
    query_prefix: str = "query: ",
    passage_prefix: str = "passage: ",
    max_query_length: int = 64,
    max_document_length: int = 128,
    align: bool = False,
) -> CollatorBatchBuilder:
    """The training loop's batch builder for ``method``: a :class:`CodeSwitchCollator` with the
    method's switchers (zero-shot: none), E5 prefixes added after switching, the unswitched originals
    when ``align``, and ``p`` following the method's schedule over ``total_steps``. Each side's
    switcher draws from ``(seed, epoch, example index)`` with a side-specific index offset, so
    queries and documents of one example are switched independently."""
    switchers = method_switchers(tokenizer, method, lexicons, seed)
    collator = CodeSwitchCollator(
        tokenizer, switchers.get("query"), switchers.get("document"), query_max_length=max_query_length,
        document_max_length=max_document_length, query_prefix=query_prefix, passage_prefix=passage_prefix,
        return_originals=align)
    scheduled = method.p_start is not None and method.p_start != method.p
    return CollatorBatchBuilder(collator,
                                (lambda step: method.p_at(step, total_steps)) if scheduled else None)
