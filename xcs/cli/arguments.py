"""Argument types of the command line: values are checked (and never coerced) where argparse reads
them, so a bad one is reported with its flag (``argument --max-pairs: must be an integer >= 1``)."""

from __future__ import annotations

import argparse
import math


def _integer(text: str, least: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer >= {least}, got {text!r}") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"must be an integer >= {least}, got {text!r}")
    return value


def positive_int(text: str) -> int:
    """An integer >= 1 (a count or a length: 0 is an error, never "all")."""
    return _integer(text, 1)


def non_negative_int(text: str) -> int:
    """An integer >= 0."""
    return _integer(text, 0)


def probability(text: str) -> float:
    """A finite number in [0, 1]: validated by the config's own type
    (:data:`xcs.schema.Probability`), so the command line and a config accept the same
    values (``xcs model interpolate --alpha`` and a method's ``alpha``)."""
    from pydantic import TypeAdapter, ValidationError

    from xcs.schema import Probability

    try:
        return TypeAdapter(Probability).validate_python(float(text))
    except (ValueError, ValidationError):
        raise argparse.ArgumentTypeError(f"must be a finite number in [0, 1], got {text!r}") from None


def number_list(text: str) -> list[float]:
    """Comma-separated finite numbers (``"1,2.5"``); empty text is the empty list."""
    values = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            value = float(part)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{part!r} is not a number") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{part!r} is not a finite number")
        values.append(value)
    return values


def non_negative_int_list(text: str) -> list[int]:
    """Comma-separated integers >= 0 (``"0,1,2"``); at least one (an empty list never means "all")."""
    values = [_integer(part.strip(), 0) for part in text.split(",") if part.strip()]
    if not values:
        raise argparse.ArgumentTypeError(f"must be comma-separated integers >= 0, got none in {text!r}")
    return values


def name_list(text: str) -> list[str]:
    """Comma-separated names (languages, columns, methods), blanks dropped; at least one (``","`` or
    ``""`` is refused: an empty list would silently mean "none" or "all")."""
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"must be a comma-separated list of names, got none in {text!r}")
    return names
