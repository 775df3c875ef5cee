#!/usr/bin/env bash
# Instructions per request, the garden against nginx (and against an earlier build of
# itself): counted, not timed, so the figure does not move with the machine's load.
#
#   Benchmarks/instructions-per-request.sh [BEFORE] [requests] [rounds]   # e.g. cacdc71 2000 3
#
# This VM has no hardware counters and valgrind 3.19 cannot run the Swift 6 binary, so
# each server runs under QEMU's user-mode emulator with a plugin that counts the
# instructions it executes (Benchmarks/insn-counter.c): user space only, every thread
# (the audit writer's too), as callgrind would count. instructions_per_request.py sends
# the requests one after another on one kept-alive connection, checks every answer's
# status and size, and takes off the count of an idle spell as long as the run.
#
# Rows (the garden's shipped Config/ and Sites/, the desk off):
#   site      GET /index.html, Host: achim.news.kp, as an official (unrewritten: the
#             page nginx serves, byte for byte; the policy decides, the audit records)
#   proxy     GET http://achim.news.kp/index.html, the same page through the proxy
#   denied    GET http://worldnews.example/ as a citizen (the censor's 451 page)
#   upstream-read  GET http://127.0.0.1:18489/index.html as an official, fetched through
#             the way out from nginx, the shipped policy's censor reading the page for its
#             content keywords (nginx runs natively: only the garden is counted)
#   upstream  the same fetch on proxy-vs-squid.sh's set-up: one class, a 1,000-host
#             blocklist, no content rules (the garden with that Config/)
#   nio-floor the site row's answer, canned, from Benchmarks/NIOFloor (SwiftNIO and
#             nothing else: the floor of any server on it)
#   nginx     the site row's page from nginx (one worker, no master process, access log
#             off, sendfile, open_file_cache)
#   squid     the upstream row's fetch through Squid (proxy-vs-squid.sh's squid.conf,
#             one process: -N), when Squid is installed
# With BEFORE (a commit), its release build from Benchmarks/garden-ab.sh's cache
# (.build/garden-ab/; run garden-ab.sh BEFORE once to build it) is counted too, on its
# own commit's Config/.
#
# Needs: qemu-user, gcc, nginx, python3, curl (apt-get install -y qemu-user gcc nginx).
set -euo pipefail
before=${1:-}
requests=${2:-2000}
rounds=${3:-3}
cd "$(dirname "$0")/.."
. Benchmarks/common.sh
for tool in qemu-x86_64 gcc nginx python3 curl; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: apt-get install -y qemu-user gcc nginx python3 curl" >&2; exit 1; }
done
make_work_folder
gcc -O2 -Wall -shared -fPIC -fvisibility=hidden -o "$work/insn-counter.so" Benchmarks/insn-counter.c -lpthread
build_release_garden
cp "$bin" "$work/garden-after"
swift build -c release --product nio-floor >/dev/null
cp "$(swift build -c release --show-bin-path)/nio-floor" "$work/nio-floor"
cp -r Config "$work/config-after"
if [ -n "$before" ]; then
  key=$(git rev-parse "$before:Sources" "$before:Package.swift" | sha1sum | cut -c1-12)
  [ -x ".build/garden-ab/$key" ] || { echo "stop: no build of $before in .build/garden-ab/: run Benchmarks/garden-ab.sh $before once" >&2; exit 1; }
  cp ".build/garden-ab/$key" "$work/garden-before"
  mkdir -p "$work/config-before"
  git archive "$before" Config | tar -x -C "$work/config-before" --strip-components=1
fi

# The page nginx serves: to the way out (natively), and in the nginx row (counted).
mkdir -p "$work/web"
cp Sites/achim.news.kp/index.html "$work/web/index.html"
page_bytes=$(wc -c <"$work/web/index.html")
write_nginx_conf "$work" 18489 127.0.0.1 "$work/web"
nginx -c "$work/nginx.conf" -p "$work"
pids+=("$(cat "$work/nginx.pid")")
mkdir -p "$work/counted-nginx"
sed -e 's/^worker_processes auto;/worker_processes 1;\nmaster_process off;\ndaemon off;/' \
  -e "s|pid $work/nginx.pid;|pid $work/counted-nginx/nginx.pid;|" -e 's/listen 127.0.0.1:18489;/listen 127.0.0.1:18488;/' \
  -e "s|root $work/web;|root $PWD/Sites/achim.news.kp;|" -e 's/server_name 127.0.0.1;/server_name achim.news.kp;/' \
  "$work/nginx.conf" >"$work/counted-nginx/nginx.conf"

# request FILE TARGET HOST: one request's bytes
request() { printf 'GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: instructions-per-request\r\nAccept: */*\r\n\r\n' "$2" "$3" >"$work/$1.request"; }
request site /index.html achim.news.kp
request proxy http://achim.news.kp/index.html achim.news.kp
request denied http://worldnews.example/ worldnews.example
request upstream http://127.0.0.1:18489/index.html 127.0.0.1:18489

# The blocklist set-up of proxy-vs-squid.sh, for the garden's and Squid's upstream rows.
for i in $(seq 1 1000); do echo "blocked-$i.example"; done >"$work/blocked.txt"
mkdir -p "$work/config-blocklist/lists"
cp Config/sites.yaml "$work/config-blocklist/"
cp "$work/blocked.txt" "$work/config-blocklist/lists/blocked.txt"
cat >"$work/config-blocklist/garden.yaml" <<YAML
listeners: [127.0.0.1:18482]
portal: kwangmyong.kp
teacher: off
upstream: {mode: direct, allow: [127.0.0.1/32], classes: [visitor]}
YAML
cat >"$work/config-blocklist/policy.yaml" <<YAML
classes: {visitor: Everyone.}
default_class: visitor
rules:
  - id: blocklist
    reason: 1,000 blocked hosts.
    hosts: ["@blocked"]
    action: block
default: allow
YAML

# wait_for PORT NAME LOG: until the server under qemu answers (it starts slowly there)
wait_for() {
  for _ in $(seq 1 600); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return; sleep 0.1; done
  echo "stop: $2 did not start under qemu" >&2; cat "$3" >&2; exit 1
}
# count NAME PORT REQUEST-FILE: "instructions-per-request" for one row, checking the
# answer against the same request answered once with curl-like reading first.
count() {
  local name=$1 port=$2 request=$3 status bytes
  read -r status bytes < <(python3 - "$port" "$request" <<'PY'
import socket, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
c.sendall(open(sys.argv[2], "rb").read())
data = b""
while b"\r\n\r\n" not in data:
    data += c.recv(65536)
head, _, body = data.partition(b"\r\n\r\n")
lines = head.split(b"\r\n")
length = next(int(l.split(b":", 1)[1]) for l in lines[1:] if l.lower().startswith(b"content-length:"))
print(int(lines[0].split(b" ")[1]), length)
PY
)
  python3 Benchmarks/instructions_per_request.py "$port" "$work/count" "$request" "$status" "$bytes" "$requests" "$rounds" \
    >"$work/$name.out" || { cat "$work/$name.out" >&2; exit 1; }
  echo "$(awk '/^median/ { print $2 }' "$work/$name.out") $status $bytes"
}

declare -A result
garden_rows() {  # build
  local build=$1 config="$work/config-$1"
  cat >"$config/garden.yaml" <<YAML
listeners:
  - address: 127.0.0.1:18480
    persona: official
  - address: 127.0.0.1:18481
    persona: citizen
portal: kwangmyong.kp
teacher: off
upstream:
  mode: direct
  allow: [127.0.0.1/32]
  classes: [official]
YAML
  rm -f "$work/count"
  qemu-x86_64 -plugin "$work/insn-counter.so,out=$work/count" "$work/garden-$build" --config "$config" --sites Sites \
    --log-level error >"$work/garden-$build.log" 2>&1 &
  local qemu=$!
  wait_for 18480 "the $build garden" "$work/garden-$build.log"
  for row in site proxy denied upstream-read; do
    local port=18480
    [ "$row" = denied ] && port=18481
    result[$build-$row]=$(count "$build-$row" $port "$work/${row%-read}.request")
    echo "$build $row: ${result[$build-$row]}" >&2
  done
  # The site row's whole answer (head and body), for nio-floor to send.
  [ "$build" = after ] && python3 - "$work/site.request" "$work/answer" <<'PY'
import socket, sys
c = socket.create_connection(("127.0.0.1", 18480))
c.sendall(open(sys.argv[1], "rb").read())
data = b""
while b"\r\n\r\n" not in data:
    data += c.recv(65536)
head = data.split(b"\r\n\r\n", 1)[0]
length = next(int(l.split(b":", 1)[1]) for l in head.split(b"\r\n")[1:] if l.lower().startswith(b"content-length:"))
while len(data) < len(head) + 4 + length:
    data += c.recv(65536)
open(sys.argv[2], "wb").write(data[:len(head) + 4 + length])
PY
  kill "$qemu"; wait "$qemu" 2>/dev/null || true
  # The upstream row on the blocklist set-up.
  rm -f "$work/count"
  qemu-x86_64 -plugin "$work/insn-counter.so,out=$work/count" "$work/garden-$build" --config "$work/config-blocklist" \
    --sites Sites --log-level error >"$work/garden-$build-blocklist.log" 2>&1 &
  qemu=$!
  wait_for 18482 "the $build garden (blocklist)" "$work/garden-$build-blocklist.log"
  result[$build-upstream]=$(count "$build-upstream" 18482 "$work/upstream.request")
  echo "$build upstream: ${result[$build-upstream]}" >&2
  kill "$qemu"; wait "$qemu" 2>/dev/null || true
}
builds=(after)
[ -n "$before" ] && builds=(before after)
for build in "${builds[@]}"; do garden_rows "$build"; done

rm -f "$work/count"
qemu-x86_64 -plugin "$work/insn-counter.so,out=$work/count" "$(command -v nginx)" -c "$work/counted-nginx/nginx.conf" \
  -p "$work/counted-nginx" >"$work/counted-nginx.log" 2>&1 &
nginx_qemu=$!
pids+=("$nginx_qemu")
wait_for 18488 nginx "$work/counted-nginx.log"
result[nginx]=$(count nginx 18488 "$work/site.request")
echo "nginx: ${result[nginx]}" >&2
kill "$nginx_qemu"; wait "$nginx_qemu" 2>/dev/null || true

rm -f "$work/count"
qemu-x86_64 -plugin "$work/insn-counter.so,out=$work/count" "$work/nio-floor" 18486 "$work/answer" >"$work/nio-floor.log" 2>&1 &
floor_qemu=$!
pids+=("$floor_qemu")
wait_for 18486 nio-floor "$work/nio-floor.log"
result[nio-floor]=$(count nio-floor 18486 "$work/site.request")
echo "nio-floor: ${result[nio-floor]}" >&2
kill "$floor_qemu"; wait "$floor_qemu" 2>/dev/null || true

if command -v squid >/dev/null; then
  { echo "127.0.0.1 achim.news.kp"; sed 's/^/127.0.0.1 /' "$work/blocked.txt"; } >"$work/hosts"
  cat >"$work/squid.conf" <<CONF
http_port 127.0.0.1:18487
pid_filename $work/squid.pid
cache_log $work/squid-cache.log
access_log none
cache deny all
cache_mem 0 MB
hosts_file $work/hosts
acl blocked dstdomain "$work/blocked.txt"
acl localnet src 127.0.0.0/8
http_access deny blocked
http_access allow localnet
http_access deny all
cache_peer 127.0.0.1 parent 18489 0 no-query originserver name=nginx
never_direct allow all
cache_peer_access nginx allow all
shutdown_lifetime 1 seconds
client_persistent_connections on
server_persistent_connections on
CONF
  rm -f "$work/count"
  qemu-x86_64 -plugin "$work/insn-counter.so,out=$work/count" "$(command -v squid)" -N -f "$work/squid.conf" \
    >"$work/squid.log" 2>&1 &
  squid_qemu=$!
  pids+=("$squid_qemu")
  wait_for 18487 Squid "$work/squid.log"
  result[squid]=$(count squid 18487 "$work/upstream.request")
  echo "squid: ${result[squid]}" >&2
  kill "$squid_qemu"; wait "$squid_qemu" 2>/dev/null || true
fi

echo "instructions per request, user space (qemu-x86_64 with insn-counter), $requests requests x $rounds rounds, median"
echo "page: $page_bytes bytes"
printf "%-13s %14s %14s %8s\n" row after "${before:+before}" status
for row in site proxy denied upstream-read upstream; do
  read -r a s b <<<"${result[after-$row]}"
  bb=""
  [ -n "$before" ] && read -r bb _ _ <<<"${result[before-$row]}"
  printf "%-13s %14s %14s %8s  (%s body bytes)\n" "$row" "$a" "$bb" "$s" "$b"
done
read -r n s b <<<"${result[nginx]}"
printf "%-13s %14s %14s %8s  (%s body bytes)\n" nginx "$n" "" "$s" "$b"
if [ -n "${result[squid]:-}" ]; then
  read -r q s b <<<"${result[squid]}"
  printf "%-13s %14s %14s %8s  (%s body bytes)\n" squid "$q" "" "$s" "$b"
fi
read -r f _ _ <<<"${result[nio-floor]}"
printf "%-13s %14s %14s %8s  (the site row's answer, canned)\n" nio-floor "$f" "" 200
# ratio LABEL A B: "LABEL A/B"
ratio() { awk -v a="$2" -v b="$3" -v l="$1" 'BEGIN { printf "%s %.2fx\n", l, a / b }'; }
read -r site _ _ <<<"${result[after-site]}"
read -r upstream _ _ <<<"${result[after-upstream]}"
ratio "site: garden / nginx" "$site" "$n"
ratio "site: nio-floor / nginx" "$f" "$n"
[ -n "${result[squid]:-}" ] && ratio "upstream: garden / Squid" "$upstream" "$q"
if [ -n "$before" ]; then
  read -r old_site _ _ <<<"${result[before-site]}"
  read -r old_upstream _ _ <<<"${result[before-upstream]}"
  ratio "site: after / before" "$site" "$old_site"
  ratio "upstream: after / before" "$upstream" "$old_upstream"
fi
