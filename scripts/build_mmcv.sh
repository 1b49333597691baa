#!/usr/bin/env bash
# Builds the mmcv-full 1.7.2 wheel with its compiled ops against the torch installed
# in a given interpreter, and prints the wheel's path (and nothing else) on stdout.
#
#   scripts/build_mmcv.sh VENV_PYTHON
#
# mmcv's setup.py hard-codes -std=c++14/-std=c++17, but torch >= 2.10's headers stop
# with "C++20 or later compatible compiler is required to use ATen": the standard is
# raised to the one the installed torch needs. CUDA kernels are built when nvcc is
# present and torch sees a GPU (FORCE_CUDA=1), CPU kernels otherwise.
# Output: $MMCV_WHEEL_DIR (default .cache/wheels). Log: .cache/logs/build-mmcv.log.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
vpy=${1:?usage: build_mmcv.sh VENV_PYTHON}
out=${MMCV_WHEEL_DIR:-$here/.cache/wheels}
work="$here/.cache/build-mmcv"
log="$here/.cache/logs/build-mmcv.log"
mkdir -p "$out" "$work" "$(dirname "$log")"
: >"$log"

note() { printf '[build-mmcv] %s\n' "$*" >&2; }
fail() { printf '[build-mmcv] ERROR: %s; full log: %s\n' "$*" "$log" >&2; exit 1; }

for tool in gcc g++; do
    command -v "$tool" >/dev/null || fail "no C/C++ compiler ('$tool' not on PATH); install build-essential"
done
"$vpy" -c 'import sysconfig, os, sys; h = sysconfig.get_paths()["include"]; sys.exit(0 if os.path.exists(os.path.join(h, "Python.h")) else 1)' \
    || fail "Python headers (Python.h) missing; install python3-dev"

# Build-only tools go to a side directory on PYTHONPATH, never into the venv.
tools="$work/buildtools"
if [ ! -f "$tools/.ok" ]; then
    note "installing build tools (requirements/build-mmcv.txt)"
    "$vpy" -m pip --disable-pip-version-check -q install --target "$tools" \
        -r "$here/requirements/build-mmcv.txt" >>"$log" 2>&1 || fail "installing build tools failed"
    touch "$tools/.ok"
fi

sdist_dir="$work/sdist"
if [ ! -d "$sdist_dir/mmcv-full-1.7.2" ]; then
    note "downloading the mmcv-full 1.7.2 sdist"
    mkdir -p "$sdist_dir"
    PYTHONPATH="$tools" "$vpy" -m pip --disable-pip-version-check download --no-deps \
        --no-binary :all: --no-build-isolation mmcv-full==1.7.2 -d "$sdist_dir" >>"$log" 2>&1 \
        || fail "downloading the sdist failed"
    tar xzf "$sdist_dir"/mmcv-full-1.7.2.tar.gz -C "$sdist_dir" || fail "unpacking the sdist failed"
fi
src="$sdist_dir/mmcv-full-1.7.2"

std=$("$vpy" - <<'PY'
import os, torch.utils.cpp_extension as ce
hdr = os.path.join(ce.include_paths()[0], 'ATen', 'ATen.h')
text = open(hdr).read() if os.path.exists(hdr) else ''
print('c++20' if 'C++20 or later' in text else 'c++17')
PY
)
note "compiling with -std=$std"
sed -i -E "s/-std=c\+\+1[47]/-std=$std/g" "$src/setup.py"

export MMCV_WITH_OPS=1
export MAX_JOBS=${MAX_JOBS:-$(nproc)}
if command -v nvcc >/dev/null && "$vpy" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)'; then
    export FORCE_CUDA=1
    note "nvcc and a GPU found: building the CUDA kernels too"
fi

start=$(date +%s)
( cd "$src" && PYTHONPATH="$tools" "$vpy" -m pip --disable-pip-version-check wheel --no-deps \
    --no-build-isolation -w "$out" . ) >>"$log" 2>&1 &
pid=$!
while kill -0 "$pid" 2>/dev/null; do
    sleep 30
    objs=$(find "$src/build" -name '*.o' 2>/dev/null | wc -l)
    note "$(( $(date +%s) - start ))s elapsed, $objs object files compiled"
done
wait "$pid" || fail "compiling mmcv-full failed"
note "built in $(( $(date +%s) - start ))s"
ls "$out"/mmcv_full-1.7.2-*.whl | head -n1
