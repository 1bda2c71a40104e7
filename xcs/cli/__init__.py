"""The ``xcs`` command line.

Each subcommand lives in the module that owns its concept; that module exposes
``add_parser(subparsers)`` which registers a parser whose ``func`` default runs the command.
Modules keep heavy imports (torch, transformers) inside their command functions so that
``xcs --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# Module paths of the subcommands, in the order `xcs --help` lists them.
COMMAND_MODULES: list[str] = [
    "xcs.cli.bench",
    "xcs.cli.train",
    "xcs.cli.experiment",
    "xcs.cli.curve",
    "xcs.cli.lexicon",
    "xcs.cli.model",
    "xcs.cli.evaluate",
    "xcs.cli.compare",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="xcs",
        description="Zero-shot cross-lingual retrieval by contrastive training on code-switched data.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_path in COMMAND_MODULES:
        importlib.import_module(module_path).add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    from xcs.io.paths import removing_unused_outputs

    try:
        with removing_unused_outputs():  # a refused or failed command leaves no empty output behind
            return int(args.func(args) or 0)
    except (OSError, ValueError) as exc:  # bad input: a message naming the file or the option, no traceback
        print(f"xcs {args.command}: error: {error_message(exc)}", file=sys.stderr)
        return 1


def error_message(exc: BaseException) -> str:
    """What went wrong, for people: a pydantic validation as ``key: problem (got value)``, an OS error
    with its path (``Permission denied: PATH``), anything else as its message."""
    if type(exc).__name__ == "ValidationError":  # pydantic's, without importing pydantic for --help
        from xcs.schema import validation_message

        return validation_message(exc)
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"{exc.strerror or exc}: {exc.filename}"
    return str(exc)


if __name__ == "__main__":
    sys.exit(main())
