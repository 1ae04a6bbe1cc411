#!/usr/bin/env bash
# The breaking-change diff on specs the size of the largest public APIs, next to optic
# (npm @useoptic/optic) on the same files in the same run: wall time and peak memory.
#
#   governance/benches/large_spec.sh [OPERATIONS[:flat]…]     default: 10 600:flat 600
#
# Each case: a base document and a revision with six changes (four breaking), written by
# large_spec.py (`:flat`: without reference chains and recursion, which optic cannot take
# at this size). docintel-governance runs 3 times (the best is reported); optic once,
# called off after OPTIC_TIMEOUT seconds (default 600).
set -euo pipefail
cd "$(dirname "$0")/../.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10 600:flat 600)
target="${CARGO_TARGET_DIR:-$PWD/target}"
work="$target/bench/large-spec"
mkdir -p "$work"

cargo build --release -q -p docintel-governance
ours="$target/release/docintel-governance"

optic_dir="$target/bench/optic"
if [ ! -x "$optic_dir/node_modules/.bin/optic" ]; then
    mkdir -p "$optic_dir"
    cp governance/benches/optic/package.json "$optic_dir/"
    npm install --prefix "$optic_dir" --no-audit --no-fund --loglevel=error
fi
optic="$optic_dir/node_modules/.bin/optic"
export OPTIC_TELEMETRY_LEVEL=off

# measure LABEL COMMAND…: "seconds peak-KB exit-code" of one run.
measure() {
    local out="$work/time.txt"
    /usr/bin/time -f "%e %M" -o "$out" "$@" >"$work/stdout.txt" 2>"$work/stderr.txt" && code=0 || code=$?
    echo "$(cat "$out" | tail -1) $code"
}

printf '%-12s %-6s %-36s %-36s %s\n' operations MB docintel-governance optic ratio
for case in "${sizes[@]}"; do
    ops=${case%:flat}
    flat=()
    [ "$case" = "$ops" ] || flat=(--flat)
    dir="$work/${case/:/-}"
    mkdir -p "$dir"
    python3 governance/benches/large_spec.py "$dir" --operations "$ops" "${flat[@]}" >/dev/null
    mb=$(python3 -c "import os; print(f'{os.path.getsize(\"$dir/base.json\")/1e6:.1f}')")
    best=""
    for _ in 1 2 3; do
        read -r s kb code < <(measure "$ours" diff "$dir/base.json" "$dir/rev.json" --format json)
        [ "$code" = 1 ] || { echo "docintel-governance exited $code" >&2; cat "$work/stderr.txt" >&2; exit 1; }
        if [ -z "$best" ] || python3 -c "import sys; sys.exit(0 if $s < $best else 1)"; then
            best=$s; best_kb=$kb
        fi
    done
    breaking=$(python3 -c "import json; print(sum(f['severity']=='breaking' for f in json.load(open('$work/stdout.txt'))['sections'][0]['findings']))")
    read -r os okb ocode < <(measure timeout "${OPTIC_TIMEOUT:-600}" "$optic" diff "$dir/base.json" "$dir/rev.json" --check --json)
    if [ "$ocode" = 124 ]; then
        optic_cell="no answer in ${OPTIC_TIMEOUT:-600} s, ${okb} KB"
        ratio=">$(python3 -c "print(round(${OPTIC_TIMEOUT:-600}/$best))")×"
    else
        optic_cell="$os s, $okb KB (exit $ocode)"
        ratio="$(python3 -c "print(round($os/$best))")×"
    fi
    printf '%-12s %-6s %-36s %-36s %s\n' "$case" "$mb" "$best s, $best_kb KB ($breaking breaking)" "$optic_cell" "$ratio"
done
