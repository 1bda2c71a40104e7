"""The training data's options (``[data]``, ``xcs train``'s data flags) and the token lengths every
batching path defaults to (:class:`~xcs.switching.collator.CodeSwitchCollator`, the experiment,
``xcs train``): each default is written here once."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field
from pydantic.dataclasses import dataclass as pydantic_dataclass

from xcs.schema import STRICT

# output lengths in tokens, prefix and special tokens included
MAX_QUERY_LENGTH = 64
MAX_DOCUMENT_LENGTH = 128


@pydantic_dataclass(config=STRICT)
class DataOptions:
    """``[data]`` (and ``xcs train``'s data flags): the training pairs and the token lengths."""

    max_pairs: Annotated[int, Field(ge=1)] | None = None  # a seeded random subset
    max_query_length: Annotated[int, Field(ge=4)] = MAX_QUERY_LENGTH
    max_document_length: Annotated[int, Field(ge=4)] = MAX_DOCUMENT_LENGTH
    hold_out_xquad: bool = True  # drop SQuAD's XQuAD paragraphs (XQuAD-R is built from them)
