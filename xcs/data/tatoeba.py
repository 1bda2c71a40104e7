"""Tatoeba test sets as LASER v1 ships them (``tatoeba.XXX-eng.XXX`` / ``tatoeba.XXX-eng.eng``).

Line i of one file translates line i of the other. XTREME-R evaluates 41 of the 112 languages
(google-research/xtreme ``third_party/evaluate_retrieval.py``: XTREME's 36 plus az, lt, pl, uk, ro).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

URL = "https://raw.githubusercontent.com/facebookresearch/LASER/main/data/tatoeba/v1/tatoeba.{code}-eng.{side}"

# ISO 639-3 file code -> ISO 639-1 code, in XTREME-R's order.
TATOEBA_XTREME_R_LANGUAGES: dict[str, str] = {
    "ara": "ar", "heb": "he", "vie": "vi", "ind": "id", "jav": "jv", "tgl": "tl", "eus": "eu",
    "mal": "ml", "tam": "ta", "tel": "te", "afr": "af", "nld": "nl", "deu": "de", "ell": "el",
    "ben": "bn", "hin": "hi", "mar": "mr", "urd": "ur", "fra": "fr", "ita": "it", "por": "pt",
    "spa": "es", "bul": "bg", "rus": "ru", "jpn": "ja", "kat": "ka", "kor": "ko", "tha": "th",
    "swh": "sw", "cmn": "zh", "kaz": "kk", "tur": "tr", "est": "et", "fin": "fi", "hun": "hu",
    "pes": "fa", "aze": "az", "lit": "lt", "pol": "pl", "ukr": "uk", "ron": "ro",
}
_BY_ISO1 = {iso1: iso3 for iso3, iso1 in TATOEBA_XTREME_R_LANGUAGES.items()}


@dataclass
class TatoebaPair:
    """Parallel sentences: ``source[i]`` (in ``language``) translates ``english[i]``."""

    language: str  # ISO 639-1 where XTREME-R names it, else the file's ISO 639-3 code
    code: str  # the file's ISO 639-3 code
    source: list[str]
    english: list[str]


def _read_lines(path: Path) -> list[str]:
    if not path.exists():
        raise FileNotFoundError(f"Tatoeba file not found: {path}")
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n").rstrip("\r") for line in f]


def tatoeba_files(directory: str | os.PathLike[str], language: str) -> tuple[Path, Path]:
    """The two files of one language pair (``language``'s side, then English)."""
    code = _BY_ISO1.get(language, language)
    return (Path(directory) / f"tatoeba.{code}-eng.{code}", Path(directory) / f"tatoeba.{code}-eng.eng")


def load_tatoeba(directory: str | os.PathLike[str], language: str) -> TatoebaPair:
    """Read one language pair; ``language`` is an ISO 639-1 (XTREME-R) or a file's 639-3 code."""
    code = _BY_ISO1.get(language, language)
    directory = Path(directory)
    source_file, english_file = tatoeba_files(directory, language)
    source = _read_lines(source_file)
    english = _read_lines(english_file)
    if len(source) != len(english):
        raise ValueError(
            f"{directory}/tatoeba.{code}-eng.*: {len(source)} {code} lines but {len(english)} eng lines"
        )
    return TatoebaPair(TATOEBA_XTREME_R_LANGUAGES.get(code, code), code, source, english)


def load_tatoeba_all(
    directory: str | os.PathLike[str], languages: list[str] | tuple[str, ...] | None = None
) -> dict[str, TatoebaPair]:
    """Read the XTREME-R languages (or the given ones), keyed by their ISO 639-1 code."""
    names = list(languages) if languages is not None else list(TATOEBA_XTREME_R_LANGUAGES.values())
    pairs = [load_tatoeba(directory, lang) for lang in names]
    return {pair.language: pair for pair in pairs}
