"""Readers for the upstream data formats xcs evaluates and trains on.

- :mod:`xcs.data.xquadr`: XQuAD-R / MLQA-R (LAReQA format) question -> answer-sentence retrieval.
- :mod:`xcs.data.tatoeba`: Tatoeba (LASER v1) parallel sentences for the 41 XTREME-R languages.
- :mod:`xcs.data.squad`: SQuAD v1.1 as (question, answer sentence) training pairs.
- :mod:`xcs.data.mewslix`: Mewsli-X (google-research jsonl) entity-linking retrieval.
- :mod:`xcs.data.pairs_file`: a user's own training pairs (JSON Lines, TSV, CSV, a saved ``datasets``
  directory) for ``xcs train --train-file``.

Every reader takes a local path; the canonical download addresses are listed in each module's
``URLS`` and fetched only by :func:`xcs.data.download.fetch` when a network exists.
"""

from xcs.data.mewslix import MewsliXEntity, MewsliXMention, load_mewslix_entities, load_mewslix_mentions
from xcs.data.pairs_file import PAIRS_FILE_FORMATS, detect_format, load_pairs_file
from xcs.data.squad import XQUAD_QUESTION_IDS, SquadPair, load_squad_pairs
from xcs.data.tatoeba import TATOEBA_XTREME_R_LANGUAGES, TatoebaPair, load_tatoeba, load_tatoeba_all
from xcs.data.xquadr import XQuADRSet, load_xquadr, load_xquadr_dir

__all__ = [
    "PAIRS_FILE_FORMATS",
    "TATOEBA_XTREME_R_LANGUAGES",
    "XQUAD_QUESTION_IDS",
    "MewsliXEntity",
    "MewsliXMention",
    "SquadPair",
    "TatoebaPair",
    "XQuADRSet",
    "detect_format",
    "load_mewslix_entities",
    "load_mewslix_mentions",
    "load_pairs_file",
    "load_squad_pairs",
    "load_tatoeba",
    "load_tatoeba_all",
    "load_xquadr",
    "load_xquadr_dir",
]
