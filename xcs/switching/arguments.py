"""The checks of :class:`~xcs.switching.switcher.CodeSwitcher`'s arguments (and of the texts its
text API and the collators take): each option is checked once, in the constructor or a setter, with
a TypeError / ValueError naming it, so that the native and Numba backends never see an edge input."""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from xcs.lexicons.lexicon import Lexicon
from xcs.switching.compiled_lexicon import CompiledLexicon


def check_texts(texts: Sequence[Any], what: str) -> list[str]:
    """``texts`` as a list of strings; anything else (None, numbers, one bare string) is a TypeError
    naming ``what`` and the row."""
    if isinstance(texts, str):
        raise TypeError(f"{what} must be a list of strings, got one string")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"{what}: row {i} must be a string, got {type(text).__name__} {text!r}")
    return list(texts)


def check_language_weights(lexicons: Mapping[str, Any], mode: str, target_language: str | None,
                      language_weights: Mapping[str, float] | None) -> dict[str, float]:
    """Language code -> weight of the languages a switcher draws from (bilingual: the target alone)."""
    known = sorted(lexicons)
    if target_language is not None and not isinstance(target_language, str):
        raise TypeError(f"target_language must be a language code (a string) or None, got "
                        f"{type(target_language).__name__} {target_language!r}")
    if mode == "bilingual":
        if language_weights is not None:
            raise ValueError("language_weights is for mode='multilingual'")
        if target_language is None:
            if len(lexicons) != 1:
                raise ValueError(f"bilingual mode needs target_language (one of {known})")
            target_language = known[0]
        if target_language not in lexicons:
            raise ValueError(f"target_language: unknown language code {target_language!r}; lexicons have "
                             f"{known}")
        return {target_language: 1.0}
    if target_language is not None:
        raise ValueError("target_language is for mode='bilingual'; use language_weights")
    if language_weights is not None and not isinstance(language_weights, Mapping):
        raise TypeError(f"language_weights must be a mapping of language code -> weight, got "
                        f"{type(language_weights).__name__}")
    weights = dict(language_weights) if language_weights is not None else dict.fromkeys(known, 1.0)
    for code, weight in weights.items():
        if not isinstance(code, str):
            raise TypeError(f"language_weights: every key must be a language code (a string), got "
                            f"{type(code).__name__} {code!r}")
        if isinstance(weight, (bool, np.bool_)) or not isinstance(weight, numbers.Real):
            raise TypeError(f"language_weights[{code!r}] must be a number, got {type(weight).__name__} "
                            f"{weight!r}")
    unknown = sorted(set(weights) - set(lexicons))
    if unknown:
        raise ValueError(f"unknown language code(s) {unknown} in language_weights; lexicons have {known}")
    return weights


def check_coverage(lang: str, lexicon: Lexicon | CompiledLexicon, compiled: CompiledLexicon) -> None:
    """Refuse a lexicon that can switch nothing (a "code-switched" run with it would be zero-shot);
    warn when most of a lexicon's source words did not compile."""
    if compiled.num_keys == 0:
        raise ValueError(f"lexicons[{lang!r}] ({compiled.src_lang}->{compiled.tgt_lang}) has no entry this "
                         "tokenizer can match: it would switch nothing (is the file empty or of another "
                         "format?)")
    # every source word that tokenizes gives at least one key (more with case variants)
    if isinstance(lexicon, Lexicon) and compiled.num_keys < len(lexicon) / 2:
        warnings.warn(f"lexicons[{lang!r}]: {compiled.num_keys} keys for its {len(lexicon)} source words: "
                      "most of them cannot be matched with this tokenizer", stacklevel=3)


def check_probability(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {type(value).__name__} {value!r}")
    if not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"{name} must be a probability in [0, 1], got {value!r}")
    return float(value)


def check_integer(name: str, value: Any, low: int, high: int) -> int:
    """``value`` of the option ``name`` as an int in ``[low, high)``: no float (``2.5`` or ``1.9``
    would be truncated), no bool."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__} {value!r}")
    if not low <= int(value) < high:
        raise ValueError(f"{name} must be in [{low}, {high}), got {value}")
    return int(value)


def check_length(name: str, value: Any) -> int | None:
    """A length option: None (no limit) or an integer >= 1."""
    return None if value is None else check_integer(name, value, 1, 2**31)


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    """``value`` of the option ``name``: one of the strings ``choices`` (compared as a string only:
    an array or a list is no choice)."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def check_flag(name: str, value: Any) -> bool:
    """``value`` of the option ``name`` as a bool; a TypeError naming it unless it is True or False."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {type(value).__name__} {value!r}")
    return bool(value)
