#!/usr/bin/env bash
# Creates (or completes) the project's virtual environment with the pinned stack.
#
#   scripts/install.sh [VENV_DIR]          (default: .venv)
#
# Steps: venv -> torch/torchvision -> mmcv-full 1.7.2 with compiled ops (a cached
# wheel when one is found, else a build from the sdist) -> mmseg/mmcls (--no-deps)
# -> runtime requirements -> this project (editable) -> a smoke import.
# A stamp file is written only when every step passed, so a half-built venv never
# looks complete; the stamp carries a hash of the requirement files, so editing
# them re-runs the install.
#
# Wheel lookup order for mmcv-full: $MMCV_WHEEL_DIR, ../shared/wheels, .cache/wheels.
# A wheel built from source is written to $MMCV_WHEEL_DIR (default .cache/wheels).
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
venv=${1:-.venv}
py=${PYTHON:-python3}
log_dir="$here/.cache/logs"
mkdir -p "$log_dir"

say() { printf '[install] %s\n' "$*"; }
die() { printf '[install] ERROR: %s\n' "$*" >&2; exit 1; }

req_hash=$(cat requirements/*.txt setup.py scripts/install.sh scripts/build_mmcv.sh | sha256sum | cut -c1-16)
stamp="$venv/.installed-$req_hash"
if [ -f "$stamp" ]; then
    exit 0
fi

command -v "$py" >/dev/null || die "no '$py' on PATH: Python 3.11 is required"
pyver=$("$py" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
[ "$pyver" = "3.11" ] || say "warning: Python $pyver found; the stack is verified on 3.11"

rm -f "$venv"/.installed-*
if [ ! -x "$venv/bin/python" ]; then
    say "creating $venv"
    "$py" -m venv "$venv" || die "could not create the virtual environment $venv"
fi
vpy="$here/$venv/bin/python"
pip=("$vpy" -m pip --disable-pip-version-check -q)

run_logged() {  # name, command...: runs quietly, on failure one line + log path
    local name=$1; shift
    local log="$log_dir/$name.log"
    if ! "$@" >"$log" 2>&1; then
        die "$name failed; full log: $log"
    fi
}

say "torch / torchvision (requirements/torch.txt)"
run_logged pip-torch "${pip[@]}" install -r requirements/torch.txt

if ! "$vpy" -c 'import mmcv._ext' >/dev/null 2>&1; then
    wheel=""
    for d in "${MMCV_WHEEL_DIR:-}" "$here/../shared/wheels" "$here/.cache/wheels"; do
        [ -n "$d" ] && [ -d "$d" ] || continue
        cand=$(ls "$d"/mmcv_full-1.7.2-cp${pyver/./}-*.whl 2>/dev/null | head -n1 || true)
        if [ -n "$cand" ]; then wheel=$cand; break; fi
    done
    if [ -z "$wheel" ]; then
        say "no cached mmcv-full 1.7.2 wheel found: building it from the sdist (about 17 min on 2 cores)"
        wheel=$(bash scripts/build_mmcv.sh "$vpy") || die "mmcv-full build failed; full log: $log_dir/build-mmcv.log"
    fi
    say "mmcv-full from $wheel"
    run_logged pip-mmcv "${pip[@]}" install --no-deps --force-reinstall "$wheel"
fi

say "runtime requirements (requirements/runtime.txt)"
run_logged pip-runtime "${pip[@]}" install -r requirements/runtime.txt
say "mmsegmentation / mmcls without dependency resolution"
run_logged pip-openmmlab "${pip[@]}" install --no-deps -r requirements/openmmlab.txt
say "this project (editable)"
run_logged pip-project "${pip[@]}" install --no-deps --no-build-isolation -e .

say "checking the install"
run_logged smoke "$vpy" -c '
import mmcv, mmcv._ext, mmcv.ops, mmseg, mmcls, torch
import mmseg_ext, online_src
assert mmcv.__version__ == "1.7.2", mmcv.__version__
assert mmseg.__version__ == "0.30.0", mmseg.__version__
print("torch", torch.__version__, "mmcv", mmcv.__version__, "mmseg", mmseg.__version__)
'
touch "$stamp"
say "done: $venv ($(cat "$log_dir/smoke.log" | tail -n1))"
