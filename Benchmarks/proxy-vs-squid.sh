#!/usr/bin/env bash
# The garden as a censoring HTTP proxy against the stack a user would otherwise assemble:
# Squid (forward proxy, an ACL with a 1,000-host blocklist, no cache) in front of nginx
# serving the same page. Allowed and denied requests, one interleaved run of wrk rounds:
#
#   nginx          the page straight from nginx (the reference)
#   squid          GET http://worldnews.example/index.html through Squid → nginx
#   garden         the same through the garden (its simulated site, from memory)
#   garden-upstream  the page through the garden fetched from nginx (`upstream: direct`,
#                  the lean client on NIO): what Squid does, proxying to a real server
#   squid-denied   a host on the blocklist: Squid's 403
#   garden-denied  the same host: the garden's 403 block page
#
#   Benchmarks/proxy-vs-squid.sh [rounds] [seconds] [connections]
#
# Needs nginx, squid, wrk (apt-get install -y nginx squid wrk). Run from the repository root.
set -euo pipefail

rounds=${1:-3}
seconds=${2:-8}
connections=${3:-64}
site=worldnews.example
page=/index.html
blocked=blocked-500.example

cd "$(dirname "$0")/.."
. Benchmarks/common.sh
for tool in nginx squid wrk; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: apt-get install -y nginx squid wrk" >&2; exit 1; }
done
swift build -c release --product walled-garden >/dev/null
bin=$(swift build -c release --show-bin-path)/walled-garden
work=$(mktemp -d)
chmod 1777 "$work"   # Squid writes its log and pid as the proxy user
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  [ -f "$work/squid.pid" ] && kill "$(cat "$work/squid.pid")" 2>/dev/null || true
  sleep 1
  rm -rf "$work"
}
trap cleanup EXIT

# The blocklist: 1,000 hosts, for Squid's ACL and the garden's rule alike.
for i in $(seq 1 1000); do echo "blocked-$i.example"; done >"$work/blocked.txt"

write_nginx_conf "$work" 18299 "$site" "$PWD/Sites/$site"
nginx -c "$work/nginx.conf"

# Squid as a forward proxy: the blocklist as a dstdomain ACL, no cache, no access log,
# every allowed request sent to nginx (a hosts_file keeps it from waiting on DNS).
{
  echo "127.0.0.1 $site"
  sed 's/^/127.0.0.1 /' "$work/blocked.txt"
} >"$work/hosts"
mkdir -p "$work/squid-cache"
chown -R proxy:proxy "$work/squid-cache" 2>/dev/null || true
# As many Squid workers as the garden has event loops (one per core): like for like.
write_squid_conf "$work" 18298 18299 "$(nproc)"
# Daemon mode (-N would disable SMP and run a single worker); stopped through its pid file.
squid -f "$work/squid.conf" >"$work/squid.out" 2>&1

# The garden: the shipped sites, one listener, a policy with the same blocklist.
write_blocklist_config "$work/Config" 18297 "$work/blocked.txt"
"$bin" --config "$work/Config" --sites Sites --log-level error >/dev/null & pids+=($!)
sleep 3

check() {  # expected-status curl-arguments...
  local got
  got=$(curl -s -o /dev/null -w '%{http_code}' "${@:2}")
  [ "$got" = "$1" ] || { echo "setup: curl ${*:2} gave $got, expected $1" >&2; cat "$work/squid-cache.log" >&2 || true; exit 1; }
}
check 200 -H "Host: $site" "http://127.0.0.1:18299$page"
check 200 -x http://127.0.0.1:18298 "http://$site$page"
check 200 -x http://127.0.0.1:18297 "http://$site$page"
check 200 -x http://127.0.0.1:18297 "http://127.0.0.1:18299$page"
check 403 -x http://127.0.0.1:18298 "http://$blocked/"
check 403 -x http://127.0.0.1:18297 "http://$blocked/"
# The allowed rows must send the same page, byte for byte in length.
body() { curl -s "$@" | wc -c; }
page_size=$(body -H "Host: $site" "http://127.0.0.1:18299$page")
same_sizes "nginx=$page_size" \
  "squid=$(body -x http://127.0.0.1:18298 "http://$site$page")" \
  "garden=$(body -x http://127.0.0.1:18297 "http://$site$page")" \
  "garden-upstream=$(body -x http://127.0.0.1:18297 "http://127.0.0.1:18299$page")"
echo "denied: Squid's error page $(body -x http://127.0.0.1:18298 "http://$blocked/") bytes, the garden's block page $(body -x http://127.0.0.1:18297 "http://$blocked/") bytes"

# wrk sends the request line it is given: an absolute URL makes it a proxy request.
cat >"$work/allowed.lua" <<LUA
wrk.method = "GET"
wrk.path = "http://$site$page"
wrk.headers["Host"] = "$site"
LUA
cat >"$work/upstream.lua" <<LUA
wrk.method = "GET"
wrk.path = "http://127.0.0.1:18299$page"
wrk.headers["Host"] = "127.0.0.1:18299"
LUA
cat >"$work/denied.lua" <<LUA
wrk.method = "GET"
wrk.path = "http://$blocked/"
wrk.headers["Host"] = "$blocked"
LUA

load() {  # name
  case $1 in
    nginx) wrk -t1 -c"$connections" -d"$2" --latency -H "Host: $site" "http://127.0.0.1:18299$page" ;;
    squid) wrk -t1 -c"$connections" -d"$2" --latency -s "$work/allowed.lua" http://127.0.0.1:18298 ;;
    garden) wrk -t1 -c"$connections" -d"$2" --latency -s "$work/allowed.lua" http://127.0.0.1:18297 ;;
    garden-upstream) wrk -t1 -c"$connections" -d"$2" --latency -s "$work/upstream.lua" http://127.0.0.1:18297 ;;
    squid-denied) wrk -t1 -c"$connections" -d"$2" --latency -s "$work/denied.lua" http://127.0.0.1:18298 ;;
    garden-denied) wrk -t1 -c"$connections" -d"$2" --latency -s "$work/denied.lua" http://127.0.0.1:18297 ;;
  esac
}
# The processes whose CPU time a row costs: the server answering it (nginx also serves
# the fetching rows, and wrk is on the same cores: the whole machine's busy time per
# request is counted too, the budget every row shares).
server_pids() {  # name
  case $1 in
    nginx) echo "$(cat "$work/nginx.pid") $(pgrep -P "$(cat "$work/nginx.pid")" | xargs)" ;;
    squid*) pgrep -f "squid.*$work/squid.conf" | xargs ;;
    garden*) echo "${pids[0]}" ;;
  esac
}
names=(nginx squid garden garden-upstream squid-denied garden-denied)
for name in "${names[@]}"; do load "$name" 2s >/dev/null; done
echo "wrk -t1 -c$connections -d${seconds}s, $rounds interleaved rounds on $(nproc) cores"
echo "(CPU: the row's server, user + system, every thread; machine: all cores' busy time; per request)"
declare -A r p c mc h
for round in $(seq 1 "$rounds"); do
  for name in "${names[@]}"; do
    read -ra server <<<"$(server_pids "$name")"
    before=$(cpu_ticks "${server[@]}"); machine_before=$(machine_ticks)
    load "$name" "${seconds}s" >"$work/out"
    after=$(cpu_ticks "${server[@]}"); machine_after=$(machine_ticks)
    case $name in
      *denied) check_statuses "$name" "$work/out" denied ;;
      *) check_statuses "$name" "$work/out"; check_bytes_per_response "$name" "$work/out" "$page_size" ;;
    esac
    rate=$(rps <"$work/out"); tail=$(p99_ms <"$work/out"); half=$(percentile_ms 50 <"$work/out"); n=$(completed <"$work/out")
    cpu=$(per_request_us $((after - before)) "$n"); machine=$(per_request_us $((machine_after - machine_before)) "$n")
    r[$name]+="$rate "; p[$name]+="$tail "; c[$name]+="$cpu "; mc[$name]+="$machine "; h[$name]+="$half "
    printf "round %d  %-16s %10.0f req/s  p99 %7.2f ms  CPU %6.1f us  machine %6.1f us  p50 %5.2f ms\n" "$round" "$name" "$rate" "$tail" "$cpu" "$machine" "$half"
  done
done
echo
nginx_rate=$(median "${r[nginx]}")
for name in "${names[@]}"; do
  m=$(median "${r[$name]}"); t=$(median "${p[$name]}"); cu=$(median "${c[$name]}"); mu=$(median "${mc[$name]}"); hm=$(median "${h[$name]}")
  awk -v n="$name" -v m="$m" -v t="$t" -v ref="$nginx_rate" -v cu="$cu" -v mu="$mu" -v hm="$hm" \
    'BEGIN { printf "median   %-16s %10.0f req/s  p99 %7.2f ms  %.2fx of nginx  CPU %6.1f us  machine %6.1f us  p50 %5.2f ms\n", n, m, t, m / ref, cu, mu, hm }'
done
g=$(median "${r[garden]}"); s=$(median "${r[squid]}")
awk -v g="$g" -v s="$s" 'BEGIN { printf "garden / squid (allowed): %.1fx\n", g / s }'
gu=$(median "${r[garden-upstream]}")
awk -v g="$gu" -v s="$s" 'BEGIN { printf "garden-upstream / squid:  %.1fx\n", g / s }'
gd=$(median "${r[garden-denied]}"); sd=$(median "${r[squid-denied]}")
awk -v g="$gd" -v s="$sd" 'BEGIN { printf "garden / squid (denied):  %.1fx\n", g / s }'
