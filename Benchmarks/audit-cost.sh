#!/usr/bin/env bash
# What the surveillance log and the teacher's live feed cost the data plane: the nginx
# benchmark of static-vs-nginx.sh (the 5 KB page, as an official), served by
#
#   before        a build of the garden from before the audit log existed (optional:
#                 pass its binary as BASELINE=path/to/walled-garden)
#   no-log        this build, no `log:` (events still feed the desk's statistics and metrics)
#   log           this build, `log:` to a JSON Lines file (rotated at 16 MiB, 5 kept)
#   log+viewers   as `log`, with the teacher's desk and 100 live-feed viewers connected
#   nginx         for scale
#
# in one interleaved run of wrk rounds.
#
#   [BASELINE=... BASELINE_CONFIG=...] Benchmarks/audit-cost.sh [rounds] [seconds] [connections] [viewers]
#
# Needs nginx, wrk and curl. Run from the repository root. To make a baseline build:
#   git worktree add /tmp/before <commit> && (cd /tmp/before && swift build -c release)
#   BASELINE=/tmp/before/.build/release/walled-garden BASELINE_CONFIG=/tmp/before/Config Benchmarks/audit-cost.sh
set -euo pipefail

rounds=${1:-3}
seconds=${2:-8}
connections=${3:-64}
viewers=${4:-100}
site=achim.news.kp
page=/index.html

cd "$(dirname "$0")/.."
. Benchmarks/common.sh
for tool in nginx wrk curl; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: apt-get install -y nginx wrk curl" >&2; exit 1; }
done
swift build -c release --product walled-garden >/dev/null
bin=$(swift build -c release --show-bin-path)/walled-garden
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  sleep 0.5
  rm -rf "$work"
}
trap cleanup EXIT

write_nginx_conf "$work" 18199 "$site" "$PWD/Sites/$site"
nginx -c "$work/nginx.conf"

# One Config folder per variant: the shipped policy, one official listener.
password=bench
hash=$(echo "$password" | "$bin" hash-password --cost 10)
variant() {  # name port log? desk? [config-folder]
  local folder="$work/$1"
  cp -r "${5:-Config}" "$folder"
  rm -f "$folder/switches.yaml"
  {
    echo "listeners:"
    echo "  - address: 127.0.0.1:$2"
    echo "    persona: official"
    echo "portal: kwangmyong.kp"
    if [ "$3" = yes ]; then
      echo "log:"
      echo "  path: $work/$1-audit.jsonl"
    fi
    if [ "$4" = yes ]; then
      echo "teacher:"
      echo "  listen: 127.0.0.1:18190"
      echo "  password: \"$hash\""
    fi
  } >"$folder/garden.yaml"
}
declare -A port=([before]=18101 [no-log]=18102 [log]=18103 [log+viewers]=18104 [nginx]=18199)
names=(no-log log log+viewers nginx)
variant no-log 18102 no no
variant log 18103 yes no
variant log+viewers 18104 yes yes
"$bin" --config "$work/no-log" --sites Sites --log-level error >/dev/null & pids+=($!)
"$bin" --config "$work/log" --sites Sites --log-level error >/dev/null & pids+=($!)
"$bin" --config "$work/log+viewers" --sites Sites --log-level error >/dev/null & pids+=($!)
if [ -n "${BASELINE:-}" ]; then
  # The baseline reads the Config/ of its own commit (BASELINE_CONFIG), which may lack
  # keys added since.
  variant before 18101 no no "${BASELINE_CONFIG:-Config}"
  "$BASELINE" --config "$work/before" --sites Sites --log-level error >/dev/null & pids+=($!)
  names=(before "${names[@]}")
fi
sleep 1.5

# The teacher logs in, and $viewers browsers open the live feed.
jar="$work/cookies"
token=$(curl -s -c "$jar" http://127.0.0.1:18190/login | grep -o 'name="csrf" value="[^"]*"' | sed 's/.*value="//; s/"$//')
curl -s -b "$jar" -c "$jar" -o /dev/null -d "csrf=$token&password=$password" http://127.0.0.1:18190/login
session=$(awk '$6 == "garden_teacher" { print $7 }' "$jar")
[ -n "$session" ] || { echo "could not log in to the desk" >&2; exit 1; }
for _ in $(seq 1 "$viewers"); do
  curl -s -N -H "Cookie: garden_teacher=$session" http://127.0.0.1:18190/feed/events >>"$work/feed.txt" & pids+=($!)
done
sleep 1
curl -s -H "Host: $site" -o /dev/null http://127.0.0.1:18104$page
sleep 0.5
grep -q '"url":"http://achim.news.kp/index.html"' "$work/feed.txt" || { echo "the viewers do not receive the feed" >&2; exit 1; }

echo "page http://$site$page as an official; wrk -t1 -c$connections -d${seconds}s; $rounds interleaved rounds; $viewers feed viewers on log+viewers"
for name in "${names[@]}"; do
  wrk -t1 -c"$connections" -d2s -H "Host: $site" "http://127.0.0.1:${port[$name]}$page" >/dev/null
done
declare -A results
for round in $(seq 1 "$rounds"); do
  for name in "${names[@]}"; do
    wrk -t1 -c"$connections" -d"${seconds}s" --latency -H "Host: $site" "http://127.0.0.1:${port[$name]}$page" >"$work/out"
    r=$(rps <"$work/out"); p=$(p99_ms <"$work/out")
    results[$name]+="$r "
    printf "round %d  %-12s %10.0f req/s  p99 %7.2f ms\n" "$round" "$name" "$r" "$p"
  done
done
echo
reference=${results[no-log]}
[ -n "${BASELINE:-}" ] && reference=${results[before]}
ref=$(median "$reference")
refname=no-log
[ -n "${BASELINE:-}" ] && refname=before
for name in "${names[@]}"; do
  m=$(median "${results[$name]}")
  awk -v n="$name" -v m="$m" -v r="$ref" 'BEGIN { printf "median   %-12s %10.0f req/s  %.2fx of %s\n", n, m, m / r, "'"$refname"'" }'
done
lines=$(cat "$work"/log-audit.jsonl* | wc -l)
echo "the log variant wrote $lines lines (with its rotated files); each viewer received $(grep -c '^event: skipped' "$work/feed.txt" || true) 'skipped' notes in all"
