#!/usr/bin/env bash
# Instructions per request, the garden against nginx (and against an earlier build of
# itself): counted, not timed, so the figure does not move with the machine's load.
#
#   Benchmarks/instructions-per-request.sh [BEFORE] [requests] [rounds]   # e.g. cacdc71 2000 3
#
# This VM has no hardware counters and valgrind 3.19 cannot run the Swift 6 binary, so
# each server runs under QEMU's user-mode emulator with a plugin that counts the
# instructions it executes (Benchmarks/insn-profile.c): user space only, every thread
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
requests=${2:-3000}
rounds=${3:-3}
cd "$(dirname "$0")/.."
. Benchmarks/common.sh
for tool in qemu-x86_64 gcc nginx python3 curl; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: apt-get install -y qemu-user gcc nginx python3 curl" >&2; exit 1; }
done
make_work_folder
gcc -O2 -Wall -shared -fPIC -fvisibility=hidden -o "$work/insn-profile.so" Benchmarks/insn-profile.c -lpthread
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
write_blocklist_config "$work/config-blocklist" 18482 "$work/blocked.txt" "teacher: off"

# start_counted NAME PORT COMMAND...: runs COMMAND under qemu with the counter, until
# it answers on PORT (a server starts slowly there); stop_counted ends it.
start_counted() {
  local name=$1 port=$2
  shift 2
  rm -f "$work/count"
  qemu-x86_64 -plugin "$work/insn-profile.so,out=$work/count" "$@" >"$work/$name.log" 2>&1 &
  counted=$!
  pids+=("$counted")
  wait_for_port "$port" "$name (under qemu)" "$work/$name.log"
}
stop_counted() { kill "$counted"; wait "$counted" 2>/dev/null || true; }
# count ROW PORT REQUEST [REQUESTS [ANSWER-FILE]] → "instructions status body-bytes"
count() {
  python3 Benchmarks/instructions_per_request.py "$2" "$work/count" "$work/$3.request" "${4:-$requests}" "$rounds" ${5:+"$5"} \
    >"$work/$1.out" || { cat "$work/$1.out" >&2; exit 1; }
  awk '/^median/ { print $2, $4, $6 }' "$work/$1.out"
  echo "$1: $(awk '/^median/ { print $2 }' "$work/$1.out")" >&2
}

declare -A result
# The censor reading each fetched page costs some 40 times a plain fetch: fewer of them.
reading_requests=$(( requests / 10 > 50 ? requests / 10 : 50 ))
garden_rows() {  # build
  local build=$1 config="$work/config-$1"
  write_counted_garden_yaml "$config/garden.yaml"
  start_counted "garden-$build" 18480 "$work/garden-$build" --config "$config" --sites Sites --log-level error
  # The after build's answer to the site row, kept whole for nio-floor to send.
  result[$build-site]=$(count "$build-site" 18480 site "$requests" "$work/answer-$build")
  result[$build-proxy]=$(count "$build-proxy" 18480 proxy)
  result[$build-denied]=$(count "$build-denied" 18481 denied)
  result[$build-upstream-read]=$(count "$build-upstream-read" 18480 upstream "$reading_requests")
  stop_counted
  start_counted "garden-$build-blocklist" 18482 "$work/garden-$build" --config "$work/config-blocklist" --sites Sites --log-level error
  result[$build-upstream]=$(count "$build-upstream" 18482 upstream)
  stop_counted
}
builds=(after)
[ -n "$before" ] && builds=(before after)
for build in "${builds[@]}"; do garden_rows "$build"; done

start_counted nginx 18488 "$(command -v nginx)" -c "$work/counted-nginx/nginx.conf" -p "$work/counted-nginx"
result[nginx]=$(count nginx 18488 site)
stop_counted

start_counted nio-floor 18486 "$work/nio-floor" 18486 "$work/answer-after"
result[nio-floor]=$(count nio-floor 18486 site)
stop_counted

if command -v squid >/dev/null; then
  { echo "127.0.0.1 achim.news.kp"; sed 's/^/127.0.0.1 /' "$work/blocked.txt"; } >"$work/hosts"
  write_squid_conf "$work" 18487 18489
  start_counted squid 18487 "$(command -v squid)" -N -f "$work/squid.conf"
  result[squid]=$(count squid 18487 upstream)
  stop_counted
fi

echo "instructions per request, user space (qemu-x86_64 with insn-profile), $requests requests x $rounds rounds, median"
echo "page: $page_bytes bytes"
echo "(upstream-read: $reading_requests requests per round)"
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
read -r f s b <<<"${result[nio-floor]}"
printf "%-13s %14s %14s %8s  (%s body bytes: the site row's answer, canned)\n" nio-floor "$f" "" "$s" "$b"
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
