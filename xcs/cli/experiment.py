"""``xcs experiment``: train and evaluate methods x seeds from a TOML config."""

from __future__ import annotations

import argparse
from pathlib import Path

from xcs.cli.arguments import name_list, non_negative_int_list


def _experiment_command(args: argparse.Namespace) -> int:
    from xcs.experiment.config import load_config
    from xcs.experiment.runner import run_experiment
    from xcs.io.paths import cache_dir, data_dir, output_directory

    data = data_dir(args.data_dir)
    config = load_config(args.config, data)  # every key, lexicon and data file checked before any work
    config.check_selection(args.seeds, args.only)  # some of the config's seeds and methods, before any run
    # an experiment resumes its own directories; another command's, the data or the model cache: never
    # (the config may be the results' own config.toml, rewritten with the text just read)
    inputs = [("--data-dir", data)]
    results = output_directory(args.results_dir or Path("results") / config.name, "--results-dir",
                               command="xcs experiment", overwrite=args.overwrite, inputs=inputs,
                               legacy=("config.toml", "summary.json", "runs/*/seed*"))
    work = output_directory(args.work_dir or cache_dir() / "experiments" / config.name, "--work-dir",
                            command="xcs experiment", overwrite=args.overwrite, inputs=inputs,
                            legacy=("*/seed*",))
    summary = run_experiment(config, results_dir=results, work_dir=work, data_dir=data,
                             progress=not args.no_progress, config_text=Path(args.config).read_text(),
                             seeds=args.seeds, methods=args.only)
    print((results / "table.md").read_text())
    print(f"wall time: {summary['wall_s_this_invocation']:.0f} s; results in {results}")
    return 0


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("experiment", help="train and evaluate methods x seeds from a TOML config")
    parser.add_argument("--config", required=True, help="experiment TOML (e.g. configs/quick.toml)")
    parser.add_argument("--results-dir", default=None, help="default: results/NAME")
    parser.add_argument("--work-dir", default=None,
                        help="models, checkpoints (default: CACHE/experiments/NAME)")
    parser.add_argument("--data-dir", default=None, help="default: $XCS_DATA_DIR or ../shared/data")
    parser.add_argument("--only", default=None, type=name_list,
                        help="comma-separated method names to run (others skipped)")
    parser.add_argument("--seeds", default=None, type=non_negative_int_list,
                        help="comma-separated seeds to run now (of the config's; the summary covers every "
                        "finished seed)")
    parser.add_argument("--overwrite", action="store_true",
                        help="write into a non-empty --results-dir / --work-dir that xcs experiment did not "
                        "create")
    parser.add_argument("--no-progress", action="store_true")
    parser.set_defaults(func=_experiment_command)
