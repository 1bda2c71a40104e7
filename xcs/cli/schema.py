"""Command-line flags derived from the option schemas (``TrainConfig``, ``EvalOptions``): one flag
per field, named after it (``batch_size`` -> ``--batch-size``), typed from its annotation (a
``Literal`` gives choices; a bool that defaults to False gives ``--NAME``, one that defaults to True
``--no-NAME``), its default and help read from the schema. A flag left out is ``None`` (or False),
so the schema's own default applies and each default exists once. Each value is checked against its
field's annotation as the command line is read (an error names the flag); what involves several
fields is checked by the schema itself when the command builds it."""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Literal, get_args, get_origin, get_type_hints


@dataclass(frozen=True)
class SchemaFlag:
    """The flag of one schema field."""

    field: str
    flag: str  # "--batch-size", "--no-shared-towers"
    kind: type | None  # the argparse type (None: a switch)
    choices: tuple[Any, ...] | None
    default: Any  # the schema's default (shown in the help)
    list_of: type | None = None  # a comma-separated list of this type


def _base(annotation: Any) -> tuple[Any, bool]:
    """The annotation without ``Annotated`` metadata and ``None``; and whether ``None`` was allowed."""
    optional = False
    while True:
        origin = get_origin(annotation)
        if origin is typing.Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in get_args(annotation) if a is not type(None)]
            optional = optional or len(args) < len(get_args(annotation))
            if len(args) != 1:  # a union of real types: a string option, read by the schema
                return str, optional
            annotation = args[0]
        else:
            return annotation, optional


def schema_flags(schema: type, *, exclude: Collection[str] = ()) -> list[SchemaFlag]:
    """The flags of every field of the dataclass ``schema`` but ``exclude``, in field order."""
    hints = get_type_hints(schema, include_extras=True)
    flags = []
    for f in dataclasses.fields(schema):
        if f.name in exclude:
            continue
        default = (f.default if f.default is not dataclasses.MISSING
                   else f.default_factory() if f.default_factory is not dataclasses.MISSING else None)
        base, _ = _base(hints[f.name])
        name = f.name.replace("_", "-")
        if base is bool:
            flags.append(SchemaFlag(f.name, f"--no-{name}" if default else f"--{name}", None, None, default))
        elif get_origin(base) is Literal:
            flags.append(SchemaFlag(f.name, f"--{name}", str, get_args(base), default))
        elif get_origin(base) is list:
            item, _ = _base(get_args(base)[0])
            flags.append(SchemaFlag(f.name, f"--{name}", str, None, default,
                                    list_of=item if item in (int, float, str) else str))
        else:
            flags.append(SchemaFlag(f.name, f"--{name}", base if base in (int, float, str) else str, None,
                                    default))
    return flags


def _parse_list(item: type, text: str) -> list[Any]:
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        raise argparse.ArgumentTypeError(f"must be a comma-separated list, got none in {text!r}")
    values = []
    for part in parts:
        try:
            values.append(item(part))
        except ValueError:
            what = {int: "an integer", float: "a number"}.get(item, item.__name__)
            raise argparse.ArgumentTypeError(f"{part!r} is not {what}") from None
    return values


def _checked_type(schema: type, flag: SchemaFlag) -> Any:
    """The flag's argparse ``type``: the text parsed (a number, a comma-separated list), then checked
    against the field's annotation (its ranges and patterns), so that a bad value is refused when
    the command line is read, naming the flag."""
    def check(text: str) -> Any:
        from pydantic import TypeAdapter, ValidationError

        if flag.list_of is not None:
            value = _parse_list(flag.list_of, text)
        else:
            try:
                value = flag.kind(text)
            except ValueError:
                what = {int: "an integer", float: "a number"}.get(flag.kind, flag.kind.__name__)
                raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        try:
            return TypeAdapter(get_type_hints(schema, include_extras=True)[flag.field]).validate_python(value)
        except ValidationError as exc:
            errors = exc.errors()
            if flag.list_of is None:  # a union's errors, one per member: the first (the flag's own type)
                errors = errors[:1]
            problems = [f"item {error['loc'][0] + 1} ({error['input']!r}): {error['msg']}"
                        if error["loc"] and isinstance(error["loc"][0], int)
                        else f"{error['msg']} (got {text!r})" for error in errors]
            raise argparse.ArgumentTypeError("; ".join(problems)) from None
    check.__name__ = flag.field  # argparse names the type in some messages
    return check


def add_schema_flags(parser: argparse.ArgumentParser | argparse._ArgumentGroup, schema: type, section: str, *,
                     exclude: Collection[str] = ()) -> list[SchemaFlag]:
    """Add the flags of ``schema``'s fields (``section`` names it in the help, e.g. ``[train]``)."""
    flags = schema_flags(schema, exclude=exclude)
    for flag in flags:
        help_text = f"{section} {flag.field} (default: {flag.default!r})"
        dest = flag.field
        if flag.kind is None:
            parser.add_argument(flag.flag, dest=dest, action="store_true", help=help_text)
        elif flag.list_of is not None:
            parser.add_argument(flag.flag, dest=dest, type=_checked_type(schema, flag), default=None,
                                help=help_text + "; comma-separated")
        elif flag.choices is not None:
            parser.add_argument(flag.flag, dest=dest, choices=flag.choices, default=None, help=help_text)
        else:
            parser.add_argument(flag.flag, dest=dest, type=_checked_type(schema, flag), default=None,
                                help=help_text)
    return flags


def given_fields(args: argparse.Namespace, schema: type, *, exclude: Collection[str] = ()) -> dict[str, Any]:
    """The fields whose flags were given: ``{field: value}`` (a ``--no-NAME`` switch gives False)."""
    out: dict[str, Any] = {}
    for flag in schema_flags(schema, exclude=exclude):
        value = getattr(args, flag.field)
        if flag.kind is None:
            if value:
                out[flag.field] = not flag.default
        elif value is not None:
            out[flag.field] = value
    return out
