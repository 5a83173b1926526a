#!/usr/bin/env bash
# Peer comparison, both sides measured in one run: py-rattler-build rendering the 393
# (feedstock, variant) pairs of the 47 v1 feedstocks of the corpus, in process, against
# cascade's full cold graph build of the same 47 feedstocks (crawl, hash, render every
# variant with identical renders skipped, edges, SQLite commit), release build.
#
# Usage: benches/peer/compare.sh [FEEDSTOCKS_DIR] [RUNS]   (needs: pip install py-rattler-build pyyaml)
set -euo pipefail
cd "$(dirname "$0")/../.."
feedstocks="${1:-../shared/data/feedstocks}"
runs="${2:-5}"
if [ ! -d "$feedstocks" ]; then
    echo "skipping: $feedstocks is absent" >&2
    exit 0
fi
feedstocks="$(cd "$feedstocks" && pwd)"
cargo build --release --quiet
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir "$work/v1"
for dir in "$feedstocks"/*-feedstock; do
    if [ -f "$dir/recipe/recipe.yaml" ]; then
        ln -s "$dir" "$work/v1/"
    fi
done
echo "v1 feedstocks: $(ls "$work/v1" | wc -l)"

times=()
for run in $(seq "$runs"); do
    rm -f "$work/db.sqlite"*
    start=$(date +%s.%N)
    ./target/release/cascade graph build --feedstocks "$work/v1" --db "$work/db.sqlite" --json >"$work/summary.json"
    end=$(date +%s.%N)
    times+=("$(echo "$end - $start" | bc -l)")
done
cascade_median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}')
echo "cascade graph build (cold, $runs runs): ${times[*]}"
grep -E '"(nodes|renders|skipped_identical|parse_errors)"' "$work/summary.json" | tr -d ' ,'

peer_output=$(python3 benches/peer/rattler_build_render.py "$feedstocks" --passes "$runs")
echo "$peer_output"
peer_median=$(echo "$peer_output" | sed -n 's/^median of .* passes: \([0-9.]*\) s$/\1/p')

printf 'cascade median: %.3f s\npy-rattler-build median: %.3f s\nratio: %.1fx\n' \
    "$cascade_median" "$peer_median" "$(echo "$peer_median / $cascade_median" | bc -l)"
