#!/usr/bin/env bash
# The rewriter's speed, and the garden against E2Guardian filtering the same page.
#
#   Benchmarks/rewrite-vs-e2guardian.sh [rounds] [seconds] [connections]
#
# Needs: nginx, wrk, e2guardian (apt-get install -y nginx wrk e2guardian). Run from the
# repository root, as root (E2Guardian keeps its pid in /run). It
#  1. runs rewrite-benchmark (first-render MB/s on a 60 KB page, one core), then
#     libxml2-floor.c (libxml2 alone, in C, on the same page: the floor under it);
#  2. serves that page (the friend.com.kp feed repeated to 60 KB) five ways and loads
#     each with wrk in interleaved rounds:
#       garden, citizen    rewritten (link wall + word substitution), from the cache
#       garden, official   the same page unrewritten (the 0.8x comparison)
#       garden-reading     the garden fetching the page from nginx for an official and
#                          reading it for the shipped policy's content keywords: what
#                          E2Guardian does, so the like-for-like row
#       e2guardian         E2Guardian 5 proxying to nginx, phrase-filtering the page
#                          with its default lists (the page passes)
#       nginx              the page straight from nginx, for scale
set -euo pipefail

rounds=${1:-3}
seconds=${2:-8}
connections=${3:-32}
cd "$(dirname "$0")/.."
. Benchmarks/common.sh
for tool in nginx wrk e2guardian; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: apt-get install -y nginx wrk e2guardian" >&2; exit 1; }
done

swift build -c release --product walled-garden >/dev/null
swift build -c release --product rewrite-benchmark >/dev/null
bin=$(swift build -c release --show-bin-path)
work=$(mktemp -d)
# E2Guardian 5.3 fails ("Error in reading filter group files") when its config folder's
# path has capital letters in it (as mktemp's names do): a name of our own.
e2g=/tmp/e2g-bench-$$
rm -rf "$e2g"
mkdir -p "$e2g"
cleanup() {
  [ -n "${garden_pid:-}" ] && kill "$garden_pid" 2>/dev/null || true
  pkill -f "$e2g/" 2>/dev/null || true   # E2Guardian forks away from its first pid
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  sleep 0.5
  rm -f /run/e2guardian.pid
  rm -rf "$work" "$e2g"
}
trap cleanup EXIT

echo "== first render (rewrite-benchmark)"
"$bin/rewrite-benchmark"

# The 60 KB page, for everyone.
python3 - "$work" <<'PY'
import sys
work = sys.argv[1]
home = open("Sites/friend.com.kp/index.html", encoding="utf-8").read()
a = home.index("<main"); b = home.index("</main>") + len("</main>")
page = home[:a]
while len(page.encode()) < 60000:
    page += home[a:b] + "\n"
page += home[b:]
open(f"{work}/big.html", "w", encoding="utf-8").write(page)
PY
echo "== the floor: libxml2 alone, in C, on the same page (libxml2-floor.c)"
cc -O2 $(pkg-config --cflags libxml-2.0) Benchmarks/libxml2-floor.c $(pkg-config --libs libxml-2.0) -o "$work/libxml2-floor"
"$work/libxml2-floor" "$work/big.html"
cp -r Config Sites "$work/"
cp "$work/big.html" "$work/Sites/friend.com.kp/big.html"
sed -i 's/127.0.0.1:8080/127.0.0.1:18090/; s/127.0.0.1:8081/127.0.0.1:18091/; s/127.0.0.1:8082/127.0.0.1:18092/' "$work/Config/garden.yaml"
# Officials may leave for the real web (here: nginx): the garden then reads every page it
# fetches for the policy's content keywords, as E2Guardian reads every page it passes.
cat >>"$work/Config/garden.yaml" <<YAML
upstream:
  mode: direct
  allow: [127.0.0.1/32]
  classes: [official]
YAML
mkdir -p "$work/www"
cp "$work/big.html" "$work/www/big.html"
chmod 755 "$work" "$work/www" && chmod 644 "$work/www/big.html"   # nginx's workers drop root

cat >"$work/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  server { listen 127.0.0.1:18081; root $work/www; location / { default_type text/html; } }
}
CONF
nginx -c "$work/nginx.conf"

cp -r /etc/e2guardian/. "$e2g/"
grep -rl "/etc/e2guardian" "$e2g" | xargs sed -i "s|/etc/e2guardian|$e2g|g"
sed -i 's/^filterports = .*/filterports = 18088/; s/^nodaemon = .*/nodaemon = on/; s/^loglevel = .*/loglevel = 0/; s/^httpworkers = .*/httpworkers = 200/; s/^filterip =.*/filterip = 127.0.0.1/' "$e2g/e2guardian.conf"
rm -f /run/e2guardian.pid
e2guardian -c "$e2g/e2guardian.conf" >"$work/e2g.log" 2>&1 &

(cd "$work" && exec "$bin/walled-garden" --log-level error >"$work/garden.log" 2>&1) &
garden_pid=$!
for _ in $(seq 1 50); do curl -s -o /dev/null http://127.0.0.1:18090/ && break; sleep 0.2; done
for _ in $(seq 1 50); do curl -s -o /dev/null -x http://127.0.0.1:18088 http://127.0.0.1:18081/big.html && break; sleep 0.2; done
sleep 1

citizen=$(curl -s -x http://127.0.0.1:18090 http://friend.com.kp/big.html | wc -c)
official=$(curl -s -x http://127.0.0.1:18091 http://friend.com.kp/big.html | wc -c)
through=$(curl -s -x http://127.0.0.1:18088 http://127.0.0.1:18081/big.html | wc -c)
reading=$(curl -s -x http://127.0.0.1:18091 http://127.0.0.1:18081/big.html | wc -c)
[ "$reading" = "$through" ] || { echo "the garden's fetch of the page through its censor gave $reading bytes, E2Guardian's $through" >&2; exit 1; }
curl -s -x http://127.0.0.1:18090 http://friend.com.kp/big.html | grep -q 'data-garden-href' || { echo "the citizen's page is not rewritten" >&2; exit 1; }
if [ "$through" != "$official" ]; then
  echo "E2Guardian did not pass the page through:" >&2
  curl -s -i -x http://127.0.0.1:18088 http://127.0.0.1:18081/big.html | head -20 >&2
  exit 1
fi
echo "== serving the 60 KB page: garden citizen $citizen bytes (rewritten), official $official, garden-reading $reading, e2guardian $through, wrk -t1 -c$connections -d${seconds}s"

# Loads `target` (a proxy, or nginx itself) with requests for `path` (an absolute URL to a
# proxy), each answer checked: 2xx, and as many bytes per response as the page (`bytes`)
# plus a head, so that a row is the page it names. (wrk reads its script once per thread:
# it is a file, not a pipe, which a second read would find empty, silently sending
# "GET /" instead.)
run() {  # name path target bytes
  local script="$work/$1.lua" out="$work/$1.out" host
  host=$(echo "$2" | awk -F/ '$1 == "http:" { print $3 }')
  host=${host:-${3#http://}}
  printf 'wrk.path = "%s"\nwrk.headers["Host"] = "%s"\n' "$2" "$host" >"$script"
  wrk -t1 -c"$connections" -d"${seconds}s" -s "$script" "$3" >"$out"
  check_statuses "$1" "$out"
  check_bytes_per_response "$1" "$out" "$4"
  awk -v name="$1" '/Requests\/sec/ {printf "%s %d\n", name, $2}' "$out"
}
results=$(mktemp)
for round in $(seq 1 "$rounds"); do
  # Proxy requests: the absolute URL as the request target, sent to the proxy's port.
  run citizen "http://friend.com.kp/big.html" "http://127.0.0.1:18090" "$citizen" | tee -a "$results"
  run official "http://friend.com.kp/big.html" "http://127.0.0.1:18091" "$official" | tee -a "$results"
  run garden-reading "http://127.0.0.1:18081/big.html" "http://127.0.0.1:18091" "$reading" | tee -a "$results"
  run e2guardian "http://127.0.0.1:18081/big.html" "http://127.0.0.1:18088" "$through" | tee -a "$results"
  run nginx "/big.html" "http://127.0.0.1:18081" "$official" | tee -a "$results"
done
row() { median "$(awk -v name="$1" '$1 == name { print $2 }' "$results")"; }   # common.sh's median of a row's rates
c=$(row citizen); o=$(row official); r=$(row garden-reading); e=$(row e2guardian); n=$(row nginx)
echo "median req/s: citizen (rewritten, cached) $c, official (unrewritten) $o, garden-reading (fetched and read) $r, e2guardian $e, nginx $n"
awk -v r="$r" -v e="$e" 'BEGIN {printf "garden reading each page / e2guardian (both fetch from nginx and read every page) %.2fx\n", r/e}'
awk -v c="$c" -v o="$o" -v e="$e" 'BEGIN {printf "rewritten/unrewritten %.2fx (target >= 0.80x); garden rewritten / e2guardian %.1fx\n", c/o, c/e}'
rm -f "$results"
