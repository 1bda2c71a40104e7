"""Readers for the upstream data formats xcs evaluates and trains on.

- :mod:`xcs.data.xquadr`: XQuAD-R / MLQA-R (LAReQA format) question -> answer-sentence retrieval.
- :mod:`xcs.data.tatoeba`: Tatoeba (LASER v1) parallel sentences for the 41 XTREME-R languages.
- :mod:`xcs.data.squad`: SQuAD v1.1 as (question, answer sentence) training pairs.
- :mod:`xcs.data.mewslix`: Mewsli-X (google-research jsonl) entity-linking retrieval.
- :mod:`xcs.data.options`: ``DataOptions`` (``[data]``) and the default token lengths.
- :mod:`xcs.data.pairs_file`: a user's own training pairs (JSON Lines, TSV, CSV, a saved ``datasets``
  directory) for ``xcs train --train-file``.

Every reader takes a local path; the canonical download addresses are listed in each module's
``URLS`` and fetched only by :func:`xcs.data.download.fetch` when a network exists.
"""

from __future__ import annotations

from xcs.lazy import attach

# public name -> the module that defines it (imported on first use: importing the package stays cheap)
_EXPORTS = {
    "MewsliXEntity": "xcs.data.mewslix",
    "MewsliXMention": "xcs.data.mewslix",
    "load_mewslix_entities": "xcs.data.mewslix",
    "load_mewslix_mentions": "xcs.data.mewslix",
    "DataOptions": "xcs.data.options",
    "TrainPair": "xcs.data.pairs",
    "PAIRS_FILE_FORMATS": "xcs.data.pairs_file",
    "detect_format": "xcs.data.pairs_file",
    "load_pairs_file": "xcs.data.pairs_file",
    "SquadPair": "xcs.data.squad",
    "XQUAD_QUESTION_IDS": "xcs.data.squad",
    "load_squad_pairs": "xcs.data.squad",
    "TATOEBA_XTREME_R_LANGUAGES": "xcs.data.tatoeba",
    "TatoebaPair": "xcs.data.tatoeba",
    "load_tatoeba": "xcs.data.tatoeba",
    "load_tatoeba_all": "xcs.data.tatoeba",
    "XQuADRSet": "xcs.data.xquadr",
    "load_xquadr": "xcs.data.xquadr",
    "load_xquadr_dir": "xcs.data.xquadr",
    "mlir_paragraph_languages": "xcs.data.xquadr",
    "split_question_ids": "xcs.data.xquadr",
    "split_sets": "xcs.data.xquadr",
    "subsample_sets": "xcs.data.xquadr",
}

__getattr__, __dir__, __all__ = attach(__name__, _EXPORTS)
