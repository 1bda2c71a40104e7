#!/usr/bin/env bash
# Issue 22's runs, in the order in which each finished part is a complete answer: the 40-step
# headline (3 seeds), mixed-language queries, the noise control (after building the encoder-induced
# lexicons), the held-out languages, then the learning curve (one epoch, 80 steps, one epoch's
# seeds 1-2, the points between) and the headline's seeds 3-4. Every step resumes: finished runs are
# skipped, an interrupted one restarts from its last checkpoint. Run it from a worktree at a fixed
# commit, with an xcs installed from that worktree (not an editable install of a checkout that keeps
# changing):
#   XCS=/path/to/venv/bin/xcs XCS_DATA_DIR=/path/to/data bash configs/issue22-queue.sh RESULTS_ROOT
set -euo pipefail
root=${1:?usage: issue22-queue.sh RESULTS_ROOT}
xcs=${XCS:-xcs}
log() { echo "[issue22] $(date -u +%FT%TZ) $*" >&2; }
experiment() {  # experiment CONFIG RESULTS SEEDS
    log "$1 seeds $3"
    "$xcs" experiment --config "configs/$1.toml" --results-dir "$root/$2" --seeds "$3" --no-progress
}
experiment curve/steps040 curve/steps040 0,1,2
experiment cs-queries cs-queries 0,1,2
lexicons=${XCS_ENCODER_LEXICONS:-$HOME/.cache/xcs/lexicons-encoder}
mkdir -p "$lexicons"
for lang in ar de el es hi ru th tr vi zh; do
    if [ ! -s "$lexicons/en-$lang.tsv" ]; then
        log "encoder lexicon en-$lang"
        "$xcs" lexicon build --source encoder --src-lang en --tgt-lang "$lang" --vocab-size 20000 --quiet \
            --out "$lexicons/en-$lang.tsv"
    fi
done
# the noise control's en, ml-cs and untouched rows are the curve's 40-step runs (same settings and
# evaluation): copied, not re-run (the runner checks the settings of every finished run it finds)
for method in en ml-cs off-the-shelf; do
    for run in "$root"/curve/steps040/runs/"$method"/seed*; do
        target="$root/noise/runs/$method/$(basename "$run")"
        if [ ! -e "$target" ]; then mkdir -p "$(dirname "$target")" && cp -r "$run" "$target"; fi
    done
done
experiment noise noise 0,1,2
experiment heldout heldout 0,1,2
experiment curve/steps587 curve/steps587 0
experiment curve/steps080 curve/steps080 0
# one epoch's seeds 1-2 before the points between: three seeds at the last point decide whether the
# gain grows (moved here on 2026-12-05, after 80 steps; the runs themselves are unchanged)
experiment curve/steps587 curve/steps587 1,2
experiment curve/steps160 curve/steps160 0
experiment curve/steps320 curve/steps320 0
experiment curve/steps040 curve/steps040 3,4
log done
