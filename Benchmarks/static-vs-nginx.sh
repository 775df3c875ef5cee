#!/usr/bin/env bash
# Serves the same 5 KB page from the garden (release build) and from nginx, and loads
# both with wrk in one interleaved run, so the two share the machine's conditions.
#
#   Benchmarks/static-vs-nginx.sh [rounds] [seconds-per-run] [connections]
#
# Needs: nginx and wrk (apt-get install -y nginx wrk). Run from the repository root.
# Prints each run's req/s, p99 latency and the server's CPU time per request, then the
# medians and the garden/nginx ratio. A third row, `nio-floor` (Benchmarks/NIOFloor),
# answers every request with the garden's own answer, byte for byte, from a SwiftNIO
# server that does nothing else: the ceiling of any server on SwiftNIO on this machine.
set -euo pipefail

rounds=${1:-3}
seconds=${2:-10}
connections=${3:-64}
site=achim.news.kp
page=/index.html
garden_port=18080
nginx_port=18081
floor_port=18082

cd "$(dirname "$0")/.."
. Benchmarks/common.sh
for tool in nginx wrk; do
  command -v "$tool" >/dev/null || { echo "$tool is missing: apt-get install -y nginx wrk" >&2; exit 1; }
done

swift build -c release --product walled-garden >/dev/null
swift build -c release --product nio-floor >/dev/null
bin=$(swift build -c release --show-bin-path)/walled-garden
floor_bin=$(swift build -c release --show-bin-path)/nio-floor
work=$(mktemp -d)
cleanup() {
  [ -n "${garden_pid:-}" ] && kill "$garden_pid" 2>/dev/null || true
  [ -n "${floor_pid:-}" ] && kill "$floor_pid" 2>/dev/null || true
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  sleep 0.5
  rm -rf "$work"
}
trap cleanup EXIT

cat >"$work/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx.pid;
error_log $work/error.log;
events { worker_connections 4096; }
http {
  include /etc/nginx/mime.types;
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  open_file_cache max=1000;  # nginx at its best: no open/stat per request, like the garden
  client_body_temp_path $work;
  proxy_temp_path $work;
  fastcgi_temp_path $work;
  uwsgi_temp_path $work;
  scgi_temp_path $work;
  server {
    listen 127.0.0.1:$nginx_port;
    server_name $site;
    root $PWD/Sites/$site;
    add_header X-Content-Type-Options nosniff;
    add_header Referrer-Policy no-referrer;
    add_header Content-Security-Policy "default-src 'self'";
  }
}
CONF
nginx -c "$work/nginx.conf"
# The shipped Config/, with one listener for officials: the policy decides every request
# (officials are watched, then allowed), and the page is served as the site has it —
# citizens' pages are rewritten, which Benchmarks/rewrite-vs-e2guardian.sh measures.
cp -r Config "$work/Config"
cat >"$work/Config/garden.yaml" <<YAML
listeners:
  - address: 127.0.0.1:$garden_port
    persona: official
portal: kwangmyong.kp
YAML
"$bin" --config "$work/Config" --sites Sites --log-level error >/dev/null &
garden_pid=$!
sleep 1

size_garden=$(curl -s -H "Host: $site" "http://127.0.0.1:$garden_port$page" | wc -c)
size_nginx=$(curl -s -H "Host: $site" "http://127.0.0.1:$nginx_port$page" | wc -c)
echo "page: http://$site$page — garden sends $size_garden bytes, nginx $size_nginx bytes (bodies)"
same_sizes "garden=$size_garden" "nginx=$size_nginx"
# The floor answers with the garden's whole answer to this request, head and body.
curl -s -i -H "Host: $site" "http://127.0.0.1:$garden_port$page" >"$work/answer"
"$floor_bin" "$floor_port" "$work/answer" &
floor_pid=$!
sleep 0.5
size_floor=$(curl -s -H "Host: $site" "http://127.0.0.1:$floor_port$page" | wc -c)
same_sizes "garden=$size_garden" "nio-floor=$size_floor"
nginx_pids=$(pgrep -f "nginx: worker process" -P "$(cat "$work/nginx.pid")" | tr '\n' ' ')
echo "wrk -t1 -c$connections -d${seconds}s, $rounds interleaved rounds on $(nproc) cores"

# run PORT PID... → "req/s p99-ms cpu-us-per-request" (the CPU of the processes named)
run() {
  local port=$1 before after
  shift
  before=$(cpu_ticks "$@")
  wrk -t1 -c"$connections" -d"${seconds}s" --latency -H "Host: $site" "http://127.0.0.1:$port$page" >"$work/out"
  after=$(cpu_ticks "$@")
  check_statuses "port $port" "$work/out"
  check_bytes_per_response "port $port" "$work/out" "$size_garden"
  echo "$(rps <"$work/out") $(p99_ms <"$work/out") $(per_request_us $((after - before)) "$(completed <"$work/out")")"
}

# Warm both up.
wrk -t1 -c"$connections" -d2s -H "Host: $site" "http://127.0.0.1:$garden_port$page" >/dev/null
wrk -t1 -c"$connections" -d2s -H "Host: $site" "http://127.0.0.1:$nginx_port$page" >/dev/null
wrk -t1 -c"$connections" -d2s -H "Host: $site" "http://127.0.0.1:$floor_port$page" >/dev/null

garden_rps=(); garden_p99=(); garden_cpu=(); nginx_rps=(); nginx_p99=(); nginx_cpu=(); floor_rps=(); floor_p99=(); floor_cpu=()
for round in $(seq 1 "$rounds"); do
  read -r r p c <<<"$(run $garden_port $garden_pid)"; garden_rps+=("$r"); garden_p99+=("$p"); garden_cpu+=("$c")
  printf "round %d  garden    %10.0f req/s  p99 %7.2f ms  CPU %5.1f us/request\n" "$round" "$r" "$p" "$c"
  # shellcheck disable=SC2086 # one pid per worker
  read -r r p c <<<"$(run $nginx_port $nginx_pids)"; nginx_rps+=("$r"); nginx_p99+=("$p"); nginx_cpu+=("$c")
  printf "round %d  nginx     %10.0f req/s  p99 %7.2f ms  CPU %5.1f us/request\n" "$round" "$r" "$p" "$c"
  read -r r p c <<<"$(run $floor_port $floor_pid)"; floor_rps+=("$r"); floor_p99+=("$p"); floor_cpu+=("$c")
  printf "round %d  nio-floor %10.0f req/s  p99 %7.2f ms  CPU %5.1f us/request\n" "$round" "$r" "$p" "$c"
done

g_r=$(median "${garden_rps[*]}"); n_r=$(median "${nginx_rps[*]}"); f_r=$(median "${floor_rps[*]}")
g_p=$(median "${garden_p99[*]}"); n_p=$(median "${nginx_p99[*]}"); f_p=$(median "${floor_p99[*]}")
g_c=$(median "${garden_cpu[*]}"); n_c=$(median "${nginx_cpu[*]}"); f_c=$(median "${floor_cpu[*]}")
echo
printf "median   garden    %10.0f req/s  p99 %7.2f ms  CPU %5.1f us/request\n" "$g_r" "$g_p" "$g_c"
printf "median   nginx     %10.0f req/s  p99 %7.2f ms  CPU %5.1f us/request\n" "$n_r" "$n_p" "$n_c"
printf "median   nio-floor %10.0f req/s  p99 %7.2f ms  CPU %5.1f us/request\n" "$f_r" "$f_p" "$f_c"
awk -v g="$g_r" -v n="$n_r" -v gp="$g_p" -v np="$n_p" 'BEGIN {
  printf "ratio    garden/nginx req/s %.2fx (target >= 1.00x, issue 16); p99 %.2fx of nginx (target <= 1.00x)\n", g / n, gp / np }'
awk -v f="$f_r" -v n="$n_r" -v g="$g_r" 'BEGIN {
  printf "floor    nio-floor/nginx req/s %.2fx (SwiftNIO answering a canned answer); garden/nio-floor %.2fx\n", f / n, g / f }'
