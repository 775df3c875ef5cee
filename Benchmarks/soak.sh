#!/usr/bin/env bash
# A lesson's worst ten minutes, on loopback: wrk with 512 connections (the class), a policy
# reload every 5 s and a broken edit every 30 s (the teacher), 200 slowloris connections,
# one pipelined flooder that never reads and one client holding 1,000 idle connections
# (the students who try), and one well-behaved student browsing every 50 ms, whose
# failures and p99 are the result. RSS at start and end says whether memory stays flat.
#
#   Benchmarks/soak.sh [seconds]      # default 600
#
# Needs wrk and python3 (apt-get install -y wrk python3). Run from the repository root.
# Each client comes from a loopback address of its own (127.0.0.1 wrk, .2 the student,
# .3 the hog, .4 slowloris, .5 the flooder), as a classroom's devices would.
set -euo pipefail

seconds=${1:-600}
port=18380
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
. Benchmarks/common.sh
build_release_garden
make_work_folder

# The shipped garden, one listener; wrk's 512 connections share one address, so the
# per-address limit is raised to hold them (the hog, on its own address, still meets it).
cp -r Config "$work/Config"
cat >"$work/Config/garden.yaml" <<YAML
listeners: [127.0.0.1:$port]
portal: kwangmyong.kp
limits:
  max_connections: 1024
  max_connections_per_client: 600
log:
  path: $work/audit.jsonl
YAML
cp "$work/Config/policy.yaml" "$work/policy.good"

"$bin" --config "$work/Config" --sites Sites --log-level info >"$work/garden.log" 2>&1 & garden=$!
pids+=($garden)
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$garden/status"; }
# Warm up (the first requests fill caches), then take the starting RSS.
wrk -t1 -c64 -d3s -H 'Host: friend.com.kp' "http://127.0.0.1:$port/" >/dev/null
rss_start=$(rss)

# The teacher: a reload every 5 s, a broken edit every 30 s (kept 2 s, then mended).
(
  end=$((SECONDS + seconds)); n=0
  while [ $SECONDS -lt $end ]; do
    sleep 5; n=$((n + 1))
    if [ $((n % 6)) -eq 0 ]; then
      sed 's/action: unavailable/action: unavailabel/' "$work/policy.good" >"$work/Config/policy.yaml"
      sleep 2
    fi
    { cat "$work/policy.good"; echo "# edit $n"; } >"$work/Config/policy.yaml"
  done
) & pids+=($!)

# RSS every 30 s: the first sample under the full load (after 60 s) against the end says
# whether memory stays flat; the warm-up's figure holds none of the attack's connections.
( while sleep 30; do echo "$SECONDS $(rss)"; done ) >"$work/rss.txt" 2>/dev/null & pids+=($!)

clients=Benchmarks/soak_clients.py
clients_pids=()
python3 $clients slowloris $port "$seconds" 127.0.0.4 200 >"$work/slowloris.json" & clients_pids+=($!)
python3 $clients flooder $port "$seconds" 127.0.0.5 >"$work/flooder.json" & clients_pids+=($!)
python3 $clients hog $port "$seconds" 127.0.0.3 1000 >"$work/hog.json" & clients_pids+=($!)
python3 $clients normal $port "$seconds" 127.0.0.2 >"$work/normal.json" & clients_pids+=($!)
pids+=("${clients_pids[@]}")
wrk -t1 -c512 -d"${seconds}s" --latency -H 'Host: friend.com.kp' "http://127.0.0.1:$port/" >"$work/wrk.txt"
wait "${clients_pids[@]}"
sleep 1
rss_end=$(rss)
kill -0 "$garden" || { echo "soak: the garden died" >&2; cat "$work/garden.log" >&2; exit 1; }

requests=$(awk '/requests in/ { print $1 }' "$work/wrk.txt")
non2xx=$(awk '/Non-2xx/ { print $NF }' "$work/wrk.txt"); non2xx=${non2xx:-0}
errors=$(awk '/Socket errors/ { print }' "$work/wrk.txt"); errors=${errors:-"Socket errors: none"}
reloads=$(grep -c "policy reloaded" "$work/garden.log" || true)
refused=$(grep -c "still serving the last good policy" "$work/garden.log" || true)
echo "soak: ${seconds}s"
echo "  wrk (512 connections): $requests requests, $(rps <"$work/wrk.txt") req/s, p99 $(p99_ms <"$work/wrk.txt") ms, non-2xx $non2xx; $errors"
echo "  the student (every 50 ms): $(cat "$work/normal.json")"
echo "  slowloris: $(cat "$work/slowloris.json")"
echo "  flooder: $(cat "$work/flooder.json")"
echo "  hog: $(cat "$work/hog.json")"
echo "  reloads: $reloads applied, $refused broken edits refused (last good kept)"
echo "  RSS: after the warm-up $((rss_start / 1024)) MiB, at the end $((rss_end / 1024)) MiB"
loaded=$(awk 'NR == 2 { print $2 }' "$work/rss.txt")
if [ -n "$loaded" ]; then
  echo "  RSS under the full load: at 60 s $((loaded / 1024)) MiB, at the end $((rss_end / 1024)) MiB ($(awk -v a="$loaded" -v b="$rss_end" 'BEGIN { printf "%+.1f%%", (b - a) * 100 / a }')); every 30 s (KiB): $(awk '{ printf "%s ", $2 }' "$work/rss.txt")"
fi
