#!/usr/bin/env bash
# The garden against itself: the release build of an earlier commit (BEFORE) and of the
# checked-out one, on the shipped Config/ and Sites/, loaded by wrk in one interleaved run
# so that both share the machine's conditions. For changes that must not cost speed (a
# refactoring): the ratios after/before should be within the noise (about 0.97x-1.03x).
#
#   Benchmarks/garden-ab.sh BEFORE [rounds] [seconds-per-run] [connections]
#   ROWS="site denied" Benchmarks/garden-ab.sh BEFORE 7 5     # some rows only
#
# Rows (a citizen, and an official for the real upstream; wrk -t1):
#   site      GET /index.html, Host: achim.news.kp (a simulated site, origin form)
#   proxy     GET http://achim.news.kp/index.html (the same page through the proxy)
#   denied    GET http://worldnews.example/ (the censor's 451 page)
#   upstream  GET http://127.0.0.1:18389/index.html through the way out, from nginx
#
# Needs nginx and wrk. Run from the repository root with a clean working tree: BEFORE is
# checked out to build it (the incremental release build takes minutes), then the branch
# you were on comes back.
set -euo pipefail

before=${1:?usage: Benchmarks/garden-ab.sh BEFORE [rounds] [seconds] [connections]}
rounds=${2:-3}
seconds=${3:-10}
connections=${4:-64}
cd "$(dirname "$0")/.."
. Benchmarks/common.sh
for tool in nginx wrk; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: apt-get install -y nginx wrk" >&2; exit 1; }
done
[ -z "$(git status --porcelain --untracked-files=no)" ] || { echo "stop: the working tree has changes; commit them first" >&2; exit 1; }

make_work_folder
here=$(git rev-parse --abbrev-ref HEAD)
[ "$here" = HEAD ] && here=$(git rev-parse HEAD)
after_commit=$(git rev-parse --short HEAD)
before_commit=$(git rev-parse --short "$before")
# Builds are kept in .build/garden-ab/, by the code they were built from (Sources/ and
# Package.swift), so that a second run of the same pair builds nothing.
code_key() { git rev-parse "$1:Sources" "$1:Package.swift" | sha1sum | cut -c1-12; }
cache=.build/garden-ab
mkdir -p "$cache"
before_bin=$cache/$(code_key "$before")
after_bin=$cache/$(code_key HEAD)
if [ ! -x "$before_bin" ]; then
  echo "building $before_commit (before) in release mode"
  git checkout -q --detach "$before"
  trap 'git checkout -q "$here"; remove_work_folder' EXIT
  build_release_garden
  cp "$bin" "$before_bin"
  git checkout -q "$here"
  trap remove_work_folder EXIT
fi
if [ ! -x "$after_bin" ]; then
  echo "building $after_commit (after) in release mode"
  build_release_garden
  cp "$bin" "$after_bin"
fi
cp "$before_bin" "$work/garden-before"
cp "$after_bin" "$work/garden-after"

# nginx serves the page the way out fetches.
mkdir -p "$work/web"
cp Sites/achim.news.kp/index.html "$work/web/index.html"
write_nginx_conf "$work" 18389 127.0.0.1 "$work/web"
nginx -c "$work/nginx.conf" -p "$work"
pids+=("$(cat "$work/nginx.pid" 2>/dev/null || true)")

# One garden per build: a citizen's listener and an official's (who may leave).
start_garden() {  # name port
  local config="$work/config-$1"
  cp -r Config "$config"
  cat >"$config/garden.yaml" <<YAML
listeners:
  - address: 127.0.0.1:$2
    persona: citizen
  - address: 127.0.0.1:$(($2 + 1))
    persona: official
portal: kwangmyong.kp
teacher: off   # one desk port for two gardens would not do (and the desk is not measured)
upstream:
  mode: direct
  allow: [127.0.0.1/32]
  classes: [official]
YAML
  "$work/garden-$1" --config "$config" --sites Sites >"$work/garden-$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$2/" && return; sleep 0.1; done
  echo "stop: the $1 garden did not start" >&2; cat "$work/garden-$1.log" >&2; exit 1
}
start_garden before 18381
start_garden after 18383
sleep 1
for _ in $(seq 1 50); do curl -s -o /dev/null http://127.0.0.1:18389/index.html && break; sleep 0.1; done

script() {  # file target
  printf 'wrk.method = "GET"\nwrk.path = "%s"\nwrk.headers["Host"] = "%s"\n' "$2" "$(echo "$2" | awk -F/ '{ print $3 }')" >"$work/$1.lua"
}
script proxy http://achim.news.kp/index.html
script denied http://worldnews.example/
script upstream http://127.0.0.1:18389/index.html

load() {  # row build seconds
  local port
  port=$([ "$2" = before ] && echo 18381 || echo 18383)
  case $1 in
    site) wrk -t1 -c"$connections" -d"$3" --latency -H "Host: achim.news.kp" "http://127.0.0.1:$port/index.html" ;;
    proxy) wrk -t1 -c"$connections" -d"$3" --latency -s "$work/proxy.lua" "http://127.0.0.1:$port" ;;
    denied) wrk -t1 -c"$connections" -d"$3" --latency -s "$work/denied.lua" "http://127.0.0.1:$port" ;;
    upstream) wrk -t1 -c"$connections" -d"$3" --latency -s "$work/upstream.lua" "http://127.0.0.1:$((port + 1))" ;;
  esac
}
read -r -a rows <<<"${ROWS:-site proxy denied upstream}"
for row in "${rows[@]}"; do for build in before after; do load "$row" "$build" 2s >/dev/null; done; done
echo "wrk -t1 -c$connections -d${seconds}s, $rounds interleaved rounds on $(nproc) cores"
declare -A r p
for round in $(seq 1 "$rounds"); do
  for row in "${rows[@]}"; do
    # Alternate which build goes first, so neither always meets a warmer machine.
    order=(before after); [ $((round % 2)) -eq 0 ] && order=(after before)
    for build in "${order[@]}"; do
      load "$row" "$build" "${seconds}s" >"$work/out"
      case $row in denied) check_statuses "$row-$build" "$work/out" denied ;; *) check_statuses "$row-$build" "$work/out" ;; esac
      rate=$(rps <"$work/out"); tail=$(p99_ms <"$work/out")
      r[$row-$build]+="$rate "; p[$row-$build]+="$tail "
      printf "round %d  %-8s %-6s %10.0f req/s  p99 %7.2f ms\n" "$round" "$row" "$build" "$rate" "$tail"
    done
  done
done
echo
for row in "${rows[@]}"; do
  b=$(median "${r[$row-before]}"); a=$(median "${r[$row-after]}")
  awk -v n="$row" -v b="$b" -v a="$a" -v bc="$before_commit" -v ac="$after_commit" \
    'BEGIN { printf "median   %-8s before (%s) %10.0f req/s   after (%s) %10.0f req/s   after/before %.3fx\n", n, bc, b, ac, a, a / b }'
done
