#!/usr/bin/env bash
# Where the garden's instructions go, per request: the functions that execute the most of
# them, and the reference counting (swift_retain, swift_release, and the bridge-object
# forms that Strings and Arrays use), allocations
# (swift_allocObject, malloc) and run-time exclusivity checks (swift_beginAccess) per
# request with their callers. Issue 16 asked for allocations and retain/release traffic
# per request; this VM has no hardware counters, so the garden runs under QEMU with the
# plugin Benchmarks/insn-profile.c (see instructions-per-request.sh for the method).
#
#   Benchmarks/where-instructions-go.sh [row] [requests] [top]   # e.g. site 3000 25
#
# Rows as in instructions-per-request.sh: site, proxy, denied (the shipped Config/), and
# upstream (proxy-vs-squid.sh's blocklist set-up, fetching from nginx).
# Needs: qemu-user, gcc, python3, curl, nginx (for upstream).
set -euo pipefail
row=${1:-site}
requests=${2:-3000}
top=${3:-25}
cd "$(dirname "$0")/.."
. Benchmarks/common.sh
for tool in qemu-x86_64 gcc python3 curl; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: apt-get install -y qemu-user gcc python3 curl" >&2; exit 1; }
done
make_work_folder
gcc -O2 -Wall -shared -fPIC -fvisibility=hidden -o "$work/insn-profile.so" Benchmarks/insn-profile.c -lpthread
build_release_garden

config=$work/config
cp -r Config "$config"
write_counted_garden_yaml "$config/garden.yaml"
case $row in
  site) port=18480 target=/index.html host=achim.news.kp ;;
  proxy) port=18480 target=http://achim.news.kp/index.html host=achim.news.kp ;;
  denied) port=18481 target=http://worldnews.example/ host=worldnews.example ;;
  upstream)
    port=18482 target=http://127.0.0.1:18489/index.html host=127.0.0.1:18489
    mkdir -p "$work/web"
    cp Sites/achim.news.kp/index.html "$work/web/index.html"
    write_nginx_conf "$work" 18489 127.0.0.1 "$work/web"
    nginx -c "$work/nginx.conf" -p "$work"
    pids+=("$(cat "$work/nginx.pid")")
    for i in $(seq 1 1000); do echo "blocked-$i.example"; done >"$work/blocked.txt"
    config=$work/config-blocklist
    write_blocklist_config "$config" 18482 "$work/blocked.txt" "teacher: off"
    ;;
  *) echo "usage: $0 [site|proxy|denied|upstream] [requests] [top]" >&2; exit 2 ;;
esac
printf 'GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: where-instructions-go\r\nAccept: */*\r\n\r\n' "$target" "$host" >"$work/request"

# A first start finds where QEMU loads the libraries (the same each run), for the plugin
# to know the functions it counts calls of.
functions=(swift_retain swift_release swift_bridgeObjectRetain swift_bridgeObjectRelease swift_allocObject malloc swift_beginAccess)
qemu-x86_64 "$bin" --config "$config" --sites Sites --log-level error >"$work/first.log" 2>&1 &
first=$!
pids+=("$first")
wait_for_port "$port" "the garden (under qemu)" "$work/first.log"
cp "/proc/$first/maps" "$work/maps"
kill "$first"; wait "$first" 2>/dev/null || true
calls=$(cd Benchmarks && python3 where_instructions_go.py addresses "$work/maps" "${functions[@]}")

qemu-x86_64 -plugin "$work/insn-profile.so,out=$work/profile,$calls" "$bin" --config "$config" --sites Sites \
  --log-level error >"$work/garden.log" 2>&1 &
pids+=($!)
wait_for_port "$port" "the garden (under qemu, profiled)" "$work/garden.log"
echo "row $row: GET $target (Host: $host)"
(cd Benchmarks && python3 where_instructions_go.py profile "$port" "$work/profile" "$work/maps" "$work/request" \
  "$(IFS=,; echo "${functions[*]}")" "$requests" "$top")
