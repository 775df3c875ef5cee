#!/usr/bin/env bash
# Fuzzes one of the garden's parsers with libFuzzer for N seconds (default 600).
#
#   Scripts/fuzz.sh request-head 600     # request-head | request-target | client-hello | config | html | upstream-answer
#
# Builds Fuzz/garden-fuzz with -sanitize=fuzzer,address in .build-fuzz/ (once), starts
# from the committed seeds in Fuzz/corpus/<target>/ (new inputs go to a scratch copy, so
# the committed corpus only grows by hand), and prints libFuzzer's final statistics. A
# crash is written to Fuzz/crashes/<target>/; copy it into Fuzz/corpus/<target>/ once
# fixed, and FuzzRegressionTests replays it in every `swift test`.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: Scripts/fuzz.sh <request-head|request-target|client-hello|config|html|upstream-answer> [seconds]}
seconds=${2:-600}
[ -d "Fuzz/corpus/$target" ] || { echo "fuzz: no target '$target' (Fuzz/corpus/ has: $(ls Fuzz/corpus | tr '\n' ' '))" >&2; exit 2; }

swift build --scratch-path .build-fuzz --product garden-fuzz \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xswiftc -parse-as-library >&2
bin=.build-fuzz/debug/garden-fuzz

work=$(mktemp -d)
# The log is kept beside the scratch corpus, not in it: libFuzzer takes every file of the
# corpus folder for an input, its own log too.
log=$(mktemp)
trap 'rm -rf "$work" "$log"' EXIT
cp "Fuzz/corpus/$target/"* "$work/"
mkdir -p "Fuzz/crashes/$target"
# -rss_limit_mb: the config target builds a whole policy; 2 GiB is far above what it needs.
status=0
GARDEN_FUZZ_TARGET=$target "$bin" "$work" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536 \
  -artifact_prefix="Fuzz/crashes/$target/" -print_final_stats=1 >"$log" 2>&1 || status=$?
grep -E "^(stat::|==[0-9]+==|SUMMARY|artifact_prefix|Test unit written|INFO: Seed|.*Precondition failed|.*Fatal error)" "$log" || true
crashes=$(find "Fuzz/crashes/$target" -type f | wc -l)
echo "fuzz: $target for ${seconds}s: exit $status, $crashes crash files in Fuzz/crashes/$target/"
[ "$status" -eq 0 ] && [ "$crashes" -eq 0 ]
