#!/usr/bin/env bash
# Where the time goes: the CPU time and the system calls one request costs the garden and
# nginx, serving the same 5 KB page as static-vs-nginx.sh (the garden's policy deciding
# every request, as an official). perf stat counts the servers' own CPU time (user and
# kernel, every thread) while wrk loads them; strace -c counts their system calls on a
# shorter run (strace slows a server several times over: its req/s is not a result).
#
#   Benchmarks/cost-per-request.sh [seconds] [connections]     # e.g. 8 64
#
# Needs: nginx, wrk, perf (linux-perf) and strace. Run from the repository root.
# For where the garden's own time goes inside, `perf record -g -p PID` while wrk runs.
set -euo pipefail

seconds=${1:-8}
connections=${2:-64}
site=achim.news.kp
page=/index.html
garden_port=18080
nginx_port=18081

cd "$(dirname "$0")/.."
. Benchmarks/common.sh
for tool in nginx wrk perf strace; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: apt-get install -y nginx wrk linux-perf strace" >&2; exit 1; }
done
build_release_garden
work=$(mktemp -d)
cleanup() {
  [ -n "${garden_pid:-}" ] && kill "$garden_pid" 2>/dev/null || true
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  sleep 0.5
  rm -rf "$work"
}
trap cleanup EXIT

write_nginx_conf "$work" "$nginx_port" "$site" "$PWD/Sites/$site"
nginx -c "$work/nginx.conf"
cp -r Config "$work/Config"
printf 'listeners:\n  - address: 127.0.0.1:%s\n    persona: official\nportal: kwangmyong.kp\n' "$garden_port" >"$work/Config/garden.yaml"
"$bin" --config "$work/Config" --sites Sites --desk off --log-level error >/dev/null &
garden_pid=$!
sleep 1
nginx_pids=$(pgrep -P "$(cat "$work/nginx.pid")" | paste -sd, -)

url() { echo "http://127.0.0.1:$1$page"; }
wrk -t1 -c"$connections" -d2s -H "Host: $site" "$(url $garden_port)" >/dev/null
wrk -t1 -c"$connections" -d2s -H "Host: $site" "$(url $nginx_port)" >/dev/null

# CPU time (perf's task-clock: user and kernel, every thread) and context switches over
# the server's processes while wrk loads it, per request. (Hardware counters, cycles and
# instructions, are not available in this machine's VM; callgrind below counts
# nor can valgrind 3.19 run the Swift 6 binary: callgrind's instruction counts, which the
# issue suggested, crash it.)
measure() {  # name port pids
  perf stat -x, -e task-clock,context-switches -p "$3" -o "$work/perf" &
  local perf=$!
  sleep 0.2
  wrk -t1 -c"$connections" -d"${seconds}s" -H "Host: $site" "$(url "$2")" >"$work/wrk"
  kill -INT "$perf"; wait "$perf" || true
  check_statuses "$1" "$work/wrk"
  local requests; requests=$(completed <"$work/wrk")
  awk -F, -v n="$requests" -v name="$1" -v rps="$(rps <"$work/wrk")" '
    $3 ~ /^task-clock/ { ms = $1 } $3 ~ /^context-switches/ { cs = $1 }
    END { printf "%-7s %9.0f req/s  CPU %5.2f us/request  context switches %.3f/request\n", name, rps, ms * 1000 / n, cs / n }' "$work/perf"
}

# strace -c over the server's processes on a short run: system calls per request.
syscalls() {  # name port pids
  local args=(); IFS=, read -ra each <<<"$3"; for p in "${each[@]}"; do args+=(-p "$p"); done
  strace -f -c -o "$work/strace" "${args[@]}" &
  local tracer=$!
  sleep 0.5
  wrk -t1 -c"$connections" -d3s -H "Host: $site" "$(url "$2")" >"$work/wrk"
  kill -INT "$tracer"; wait "$tracer" || true
  local requests; requests=$(completed <"$work/wrk")
  awk -v n="$requests" -v name="$1" '
    $NF == "total" { total = $(NF - 2) }
    $1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" { calls[$NF] = $4 }
    END { printf "%-7s system calls/request: %.2f  (", name, total / n
          for (c in calls) if (calls[c] / n >= 0.01) printf "%s %.2f ", c, calls[c] / n; print ")" }' "$work/strace"
}

echo "page: http://$site$page, wrk -t1 -c$connections -d${seconds}s, $(nproc) cores"
measure garden "$garden_port" "$garden_pid"
measure nginx "$nginx_port" "$nginx_pids"
syscalls garden "$garden_port" "$garden_pid"
syscalls nginx "$nginx_port" "$nginx_pids"

