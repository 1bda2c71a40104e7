"""xcs checkpoints as sentence-transformers models, and loaded ``SentenceTransformer``\\ s as Encoder parts.

Writing: :func:`write_sentence_transformers_files` adds to a Hugging Face checkpoint directory the
files with which ``SentenceTransformer(path)`` rebuilds the encoder that the directory's Encoder
settings (:mod:`xcs.models.settings`) describe::

    modules.json                       Transformer (the root) -> Pooling -> Normalize (if normalised)
    sentence_bert_config.json          max_seq_length = max_length; model_args {"add_pooling_layer": false}
    1_Pooling/config.json              mean or first-token (cls) pooling; prompt tokens included
    2_Normalize/                       only when the vectors are L2-normalised
    config_sentence_transformers.json  prompts {"query": query_prefix, "document": passage_prefix},
                                       similarity "cosine" (normalised) or "dot" (not normalised)

so ``encode_query`` / ``encode_document`` give ``Encoder.encode(kind="query")`` /
``kind="passage"``. The files use the classic layout (module types ``sentence_transformers.models.*``,
``model_args``, ``pooling_mode_*`` flags) that earlier releases wrote and the hub's
multilingual-e5-small ships; sentence-transformers 6.2 maps those names without a warning (only
6.2 is tested here). The similarity is chosen so that the model's similarity is the inner product
xcs ranks by.

xcs checkpoints store no pooler. ``model_args`` tells sentence-transformers to build the model
without one (for model classes that take ``add_pooling_layer``), so nothing is newly initialised
and a save made by sentence-transformers stores no pooler either. sentence-transformers does not
write ``model_args`` back when it saves, so a directory it re-saved loads with an unused, randomly
initialised pooler (and transformers' "newly initialized" report) unless it is loaded with
``model_kwargs={"add_pooling_layer": False}``; ``Encoder(path)`` never builds one.

Settings an ST module stack cannot express are refused (:func:`sentence_transformers_incompatibility`):
a hidden layer other than the last (the Transformer module outputs the last one), and any pooling
but ``"mean"`` / ``"cls"``.

Reading: :func:`sentence_transformer_parts` takes a loaded ``SentenceTransformer`` apart into the
Hugging Face model, tokenizer and Encoder settings that reproduce it, refusing module stacks an
Encoder cannot (anything but Transformer -> mean / cls Pooling [-> Normalize]).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer
    from transformers import PretrainedConfig, PreTrainedModel, PreTrainedTokenizerBase

# The Encoder's pooling -> the classic Pooling config's mode flags (all other flags false).
_POOLING_FLAG = {"mean": "pooling_mode_mean_tokens", "cls": "pooling_mode_cls_token"}
_ALL_POOLING_FLAGS = (
    "pooling_mode_cls_token", "pooling_mode_mean_tokens", "pooling_mode_max_tokens",
    "pooling_mode_mean_sqrt_len_tokens",
)
# The prompt names encode_document tries, in sentence-transformers' order.
_DOCUMENT_PROMPT_NAMES = ("document", "passage", "corpus")


class SentenceTransformerParts(NamedTuple):
    """What an Encoder needs from a ``SentenceTransformer``: its modules, shared, not copied."""

    model: PreTrainedModel
    tokenizer: PreTrainedTokenizerBase
    settings: dict[str, Any]
    name_or_path: str


def no_pooler_kwargs(config: PretrainedConfig) -> dict[str, bool]:
    """``from_pretrained`` keyword arguments that build ``config``'s model without a pooler.

    ``{"add_pooling_layer": False}`` for model classes that take it (BERT, XLM-R, ...), else ``{}``.
    xcs checkpoints store no pooler and never use one: pooling happens in the Encoder.
    """
    import inspect

    from transformers import MODEL_MAPPING

    try:
        model_class = MODEL_MAPPING[type(config)]
    except KeyError:
        return {}
    takes_flag = "add_pooling_layer" in inspect.signature(model_class.__init__).parameters
    return {"add_pooling_layer": False} if takes_flag else {}


def sentence_transformers_incompatibility(settings: Mapping[str, Any]) -> str | None:
    """Why no sentence-transformers module stack reproduces ``settings``, or ``None`` if one does."""
    if settings["pooling"] not in _POOLING_FLAG:
        return f"pooling {settings['pooling']!r} is not one of {sorted(_POOLING_FLAG)}"
    if settings["layer"] is not None:
        return (f"layer={settings['layer']}: the sentence-transformers Transformer module pools the last "
                f"hidden layer only")
    return None


def write_sentence_transformers_files(
    directory: str | os.PathLike[str], settings: Mapping[str, Any], config: PretrainedConfig
) -> None:
    """Write the sentence-transformers files for the HF checkpoint being assembled in ``directory``.

    ``settings`` are the Encoder settings the checkpoint is used with, ``config`` its model config.
    Call it inside the checkpoint's atomic write (the files are written in place). Raises
    ``ValueError`` when :func:`sentence_transformers_incompatibility` names a reason.
    """
    reason = sentence_transformers_incompatibility(settings)
    if reason is not None:
        raise ValueError(f"no sentence-transformers model reproduces these settings: {reason}")
    directory = Path(directory)
    modules = [("", "Transformer"), ("1_Pooling", "Pooling")]
    if settings["normalize"]:
        modules.append(("2_Normalize", "Normalize"))
    _write_json(directory / "modules.json", [
        {"idx": i, "name": str(i), "path": path, "type": f"sentence_transformers.models.{kind}"}
        for i, (path, kind) in enumerate(modules)
    ])
    _write_json(directory / "sentence_bert_config.json", {
        "max_seq_length": int(settings["max_length"]), "do_lower_case": False,
        "model_args": no_pooler_kwargs(config),
    })
    pooling = {"word_embedding_dimension": int(config.hidden_size)}
    pooling.update({flag: flag == _POOLING_FLAG[settings["pooling"]] for flag in _ALL_POOLING_FLAGS})
    pooling["include_prompt"] = True  # the Encoder averages over the prefix tokens too
    (directory / "1_Pooling").mkdir()
    _write_json(directory / "1_Pooling" / "config.json", pooling)
    if settings["normalize"]:
        (directory / "2_Normalize").mkdir()
    _write_json(directory / "config_sentence_transformers.json", {
        "model_type": "SentenceTransformer",
        "prompts": {"query": settings["query_prefix"], "document": settings["passage_prefix"]},
        "default_prompt_name": None,
        "similarity_fn_name": "cosine" if settings["normalize"] else "dot",
    })


def is_sentence_transformer(obj: object) -> bool:
    """Whether ``obj`` is a ``sentence_transformers.SentenceTransformer`` (without importing the library)."""
    library = sys.modules.get("sentence_transformers")
    return library is not None and isinstance(obj, library.SentenceTransformer)


def sentence_transformer_parts(model: SentenceTransformer) -> SentenceTransformerParts:
    """The HF model, tokenizer and Encoder settings that reproduce ``model``'s encoding.

    Pooling and normalisation come from the module stack, the prefixes from the prompts that
    ``encode_query`` / ``encode_document`` use, ``max_length`` from ``max_seq_length``. The
    vectors are L2-normalised when the stack normalises or the model's similarity is the cosine,
    so that their inner product is the model's similarity. Raises ``ValueError`` for a model an
    Encoder cannot reproduce.
    """
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    modules = list(model)
    names = " -> ".join(type(module).__name__ for module in modules) or "no modules"
    expected_types = (Transformer, Pooling, Normalize)[: len(modules)]
    if len(modules) not in (2, 3) or not all(map(isinstance, modules, expected_types)):
        raise ValueError(f"an Encoder reproduces Transformer -> Pooling [-> Normalize] only, not {names}")
    transformer, pooling = modules[0], modules[1]
    _check_transformer(transformer)
    if pooling.pooling_mode not in _POOLING_FLAG or not pooling.include_prompt:
        raise ValueError(
            f"an Encoder pools by 'mean' or 'cls' over all tokens, prompt included; this model's Pooling "
            f"has pooling_mode={pooling.pooling_mode!r}, include_prompt={pooling.include_prompt}"
        )
    similarity = model.similarity_fn_name
    if similarity not in ("cosine", "dot"):
        raise ValueError(f"xcs ranks by inner product; this model's similarity is {similarity!r}")
    prompts = model.prompts
    document_prompt = next((prompts[name] for name in _DOCUMENT_PROMPT_NAMES if name in prompts), "")
    settings = {
        "pooling": pooling.pooling_mode, "layer": None,
        "normalize": len(modules) == 3 or similarity == "cosine",
        "query_prefix": prompts.get("query", ""), "passage_prefix": document_prompt,
        "max_length": int(model.max_seq_length),
    }
    hf_model = transformer.auto_model
    return SentenceTransformerParts(hf_model, transformer.tokenizer, settings,
                                    str(getattr(hf_model.config, "_name_or_path", "") or ""))


def _check_transformer(transformer: Any) -> None:
    """Refuse a Transformer module whose token embeddings an Encoder would not compute the same way."""
    text = transformer.modality_config.get("text", {})
    problems = []
    if transformer.backend != "torch":
        problems.append(f"backend {transformer.backend!r} (an Encoder runs torch)")
    if text.get("method") != "forward" or text.get("method_output_name") != "last_hidden_state":
        problems.append(f"text output {text!r} (not forward's last_hidden_state)")
    if transformer.query_length is not None or transformer.document_length is not None:
        problems.append("per-task query_length / document_length")
    if transformer.tokenizer is None:
        problems.append("no tokenizer")
    if problems:
        raise ValueError(f"an Encoder cannot reproduce this Transformer module: {'; '.join(problems)}")


def _write_json(path: Path, obj: Any) -> None:
    """``obj`` as indented JSON (the caller's directory write is the atomic step)."""
    path.write_text(json.dumps(obj, indent=2, allow_nan=False) + "\n", encoding="utf-8")  # valid JSON only
