#!/usr/bin/env bash
# Issue 22's learning-curve sweep, in the order in which each finished part is a complete answer:
# the 40-step headline (3 seeds), one epoch (seed 0), the points between (seed 0), one epoch's
# seeds 1-2, then the headline's seeds 3-4. Every step resumes: finished runs are skipped, an
# interrupted one restarts from its last checkpoint. Run it from a worktree at a fixed commit, with
# an xcs installed from that worktree (not an editable install of a checkout that keeps changing):
#   XCS=/path/to/venv/bin/xcs XCS_DATA_DIR=/path/to/data bash configs/curve/run.sh RESULTS_ROOT
set -euo pipefail
root=${1:?usage: run.sh RESULTS_ROOT}
xcs=${XCS:-xcs}
step() {  # step CONFIG SEEDS
    local name=$1 seeds=$2
    echo "[curve] $(date -u +%FT%TZ) $name seeds $seeds" >&2
    "$xcs" experiment --config "configs/curve/$name.toml" --results-dir "$root/$name" --seeds "$seeds" \
        --no-progress
}
step steps040 0,1,2
step steps587 0
step steps080 0
step steps160 0
step steps320 0
step steps587 1,2
step steps040 3,4
echo "[curve] $(date -u +%FT%TZ) done" >&2
