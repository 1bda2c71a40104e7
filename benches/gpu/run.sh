#!/usr/bin/env bash
# One call on a lent GPU machine (or here, on the CPU, to prove it): build, record the environment,
# run the CUDA tests, the GPU loss benchmark (bf16, then fp32) and, if time remains,
# configs/quick.toml on CUDA with the full evaluation. Each phase has its own time limit, capped by
# what is left of the whole budget, so one failure or time-out does not stop the rest; a summary
# table is printed last. At most 8 files are written to the output folder.
#
#   bash benches/gpu/run.sh [OUT_DIR]      # OUT_DIR: default $OUT (the device tool), else results/gpu/local
#
# Environment: XCS_GPU_BUDGET_S (whole run, default 540 s), XCS_GPU_CARRY (the folder made by
# `python benches/gpu/carry.py build`, default .gpu; optional: without it the quick phase is skipped
# unless the packages, data and model are already there), XCS_GPU_SKIP (phases to skip, e.g. "quick"),
# XCS_GPU_FULL_EVAL (1, the default: the quick config without its evaluation subsampling; 0 keeps
# the committed config as it is, which is what the CPU proof runs: the full evaluation takes an hour there),
# XCS_GPU_QUICK_LIMIT_S (the quick phase's limit, default 600 s), XCS_GPU_QUICK_CONFIG (default
# configs/quick.toml; the CPU proof gives a shortened copy).
# The repository is used read-only: the build and every scratch file go under $XCS_GPU_WORK
# (default a fresh mktemp -d).
set -uo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
OUT_DIR=$(mkdir -p "${1:-${OUT:-$REPO/results/gpu/local}}" && cd "${1:-${OUT:-$REPO/results/gpu/local}}" && pwd)
BUDGET_S=${XCS_GPU_BUDGET_S:-540}
CARRY=${XCS_GPU_CARRY:-$REPO/.gpu}
SKIP=${XCS_GPU_SKIP:-}
WORK=${XCS_GPU_WORK:-$(mktemp -d /tmp/xcs-gpu.XXXXXX)}
PY=${PYTHON:-python3}
LOG=$OUT_DIR/run.log
PHASES=$WORK/phases.tsv
STARTED=$(date +%s)
: >"$LOG"
: >"$PHASES"
export PYTHONUNBUFFERED=1
unset TRITON_INTERPRET  # the kernels must compile for the GPU; run_tests checks what ran

left() { echo $((BUDGET_S - ($(date +%s) - STARTED))); }

# phase NAME LIMIT_S COMMAND...: run under `timeout`, log to run.log, record rc and seconds
phase() {
    local name=$1 limit=$2 rest
    shift 2
    rest=$(left)
    if [[ " $SKIP " == *" $name "* ]]; then
        printf '%s\tskipped\t0\t(XCS_GPU_SKIP)\n' "$name" >>"$PHASES"; return 0
    fi
    if ((rest < 15)); then
        printf '%s\tskipped\t0\t(budget spent)\n' "$name" >>"$PHASES"; return 0
    fi
    ((limit > rest)) && limit=$rest
    echo "=== $name: limit ${limit}s, $(date -u +%H:%M:%S) ===" >>"$LOG"
    local t0=$(date +%s) rc
    timeout --kill-after=15 "$limit" "$@" >>"$LOG" 2>&1
    rc=$?
    local note=""
    ((rc == 124 || rc == 137)) && note="(timed out at ${limit}s)"
    printf '%s\t%s\t%s\t%s\n' "$name" "$rc" "$(($(date +%s) - t0))" "$note" >>"$PHASES"
    echo "=== $name: rc $rc after $(($(date +%s) - t0))s ===" >>"$LOG"
    return 0
}

# --- set-up: carried wheels, data and model; the native engine built into an overlay package -------
# The overlay (like `make asan`'s) is xcs/ symlinked with kernels/ as xcs/kernels and the freshly
# built extension beside it: no pip install into the machine's Python, no build isolation.
OVERLAY=$WORK/overlay
setup() {
    set -e
    if [[ -d "$CARRY" ]]; then
        "$PY" "$REPO/benches/gpu/carry.py" unpack "$CARRY" "$WORK/carried" >"$WORK/carried.env"
        cat "$WORK/carried.env"
    fi
    mkdir -p "$OVERLAY/xcs"
    for f in "$REPO"/xcs/*; do
        case $f in *_native*|*__pycache__) ;; *) ln -sfn "$f" "$OVERLAY/xcs/" ;; esac
    done
    ln -sfn "$REPO/kernels" "$OVERLAY/xcs/kernels"
    cmake -S "$REPO" -B "$WORK/build" -DCMAKE_BUILD_TYPE=Release -DPython_EXECUTABLE="$(command -v "$PY")" \
        -Dpybind11_DIR="$("$PY" -m pybind11 --cmakedir)" >/dev/null
    cmake --build "$WORK/build" -j "$(nproc)"
    cp "$WORK"/build/_native*.so "$OVERLAY/xcs/"
}
export REPO OUT_DIR WORK OVERLAY CARRY PY
export -f setup
phase setup 240 bash -c setup
[[ -f "$WORK/carried.env" ]] && source "$WORK/carried.env"
export PYTHONPATH="$OVERLAY${PYTHONPATH:+:$PYTHONPATH}"
# every Python command runs with the overlay as its working directory (first on sys.path)
PYO=(env -C "$OVERLAY" "$PY")

phase environment 60 "${PYO[@]}" "$REPO/benches/gpu/report.py" environment --out "$OUT_DIR/environment.json"

# --- the CUDA tests and the ahead-of-time sm_90 compile test (-v: a time-out still leaves every
# finished test's verdict in run.log; the JUnit XML is written only at the end) ----------------------
phase tests 240 "${PYO[@]}" -m pytest -v --tb=short -rs -p no:cacheprovider --rootdir="$REPO" -c "$REPO/pyproject.toml" \
    --junitxml="$OUT_DIR/tests.xml" "$REPO/tests/loss/test_loss_cuda.py" \
    "$REPO/tests/loss/test_loss_kernels_compile.py"

# --- the GPU benchmark: bf16 over every size, then fp32 up to 64k ---------------------------------
if "${PYO[@]}" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>>"$LOG"; then
    phase bench_bf16 300 "${PYO[@]}" -m xcs.cli bench loss --device cuda --dtypes bf16 --dims 768 384 \
        --repeats 5 --budget-s 2 --out "$OUT_DIR/loss_cuda_bf16.json"
    phase bench_fp32 120 "${PYO[@]}" -m xcs.cli bench loss --device cuda --dtypes fp32 --dims 768 384 \
        --sizes 8192 32768 65536 --repeats 5 --budget-s 2 --out "$OUT_DIR/loss_cuda_fp32.json"
else
    printf 'bench_bf16\tskipped\t0\t(no CUDA)\nbench_fp32\tskipped\t0\t(no CUDA)\n' >>"$PHASES"
fi

# --- configs/quick.toml with the full evaluation (no subsampling) ----------------------------------
quick() {
    set -e
    if [[ "${XCS_GPU_FULL_EVAL:-1}" == 1 ]]; then
        sed '/^subsample *=/d' "$QUICK_CONFIG" >"$WORK/quick-full.toml"
    else
        cp "$QUICK_CONFIG" "$WORK/quick-full.toml"
    fi
    env -C "$OVERLAY" "$PY" -m xcs.cli experiment --config "$WORK/quick-full.toml" --results-dir "$WORK/quick" \
        --work-dir "$WORK/quick-work"
    cp "$WORK/quick/summary.json" "$OUT_DIR/quick_summary.json"
    cp "$WORK/quick/table.md" "$OUT_DIR/quick_table.md"
}
QUICK_CONFIG=${XCS_GPU_QUICK_CONFIG:-$REPO/configs/quick.toml}
export QUICK_CONFIG
export -f quick
phase quick "${XCS_GPU_QUICK_LIMIT_S:-600}" bash -c quick

# --- the summary: printed last (the device tool returns the end of the output) ---------------------
"${PYO[@]}" "$REPO/benches/gpu/report.py" summary --phases "$PHASES" --out-dir "$OUT_DIR" | tee "$OUT_DIR/summary.md"
