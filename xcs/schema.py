"""The validation vocabulary every option schema shares (``TrainConfig``, ``SwitchingRecipe``,
``Method``, the experiment's tables and the command line's checks): strict pydantic dataclasses,
one-line error messages and the value types more than one schema uses. Torch-free."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, ValidationError
from pydantic_core import ArgsKwargs

# Strict (no coercion: "false" is not False, 40.5 is not 40) and closed (unknown keys are errors).
STRICT = ConfigDict(strict=True, extra="forbid")

# ISO 639-1 (or -3) codes as the data files name them: "de", "zh", "ast"
LanguageCode = Annotated[str, Field(pattern=r"^[a-z]{2,3}$")]
# a probability or mixing weight in [0, 1] (NaN and infinity refused): a switch rate, a WiSE-FT
# alpha, and ``xcs model interpolate --alpha`` (xcs.cli.arguments.probability) all use this type
Probability = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]


def validation_message(exc: ValidationError) -> str:
    """One line per error of a pydantic validation: ``key: what is wrong (got VALUE)``."""
    lines = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"])
        message = ("unknown key" if error["type"] == "unexpected_keyword_argument"
                   else error["msg"].removeprefix("Value error, "))
        got = error.get("input")
        shown = "" if not where or isinstance(got, (dict, ArgsKwargs)) else f" (got {got!r})"
        lines.append(f"{where}: {message}{shown}" if where else message)
    return "; ".join(lines)
