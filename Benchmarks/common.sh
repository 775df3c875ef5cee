# Shared by the benchmark scripts: nginx at its best, and reading wrk's output.
# Source it: . "$(dirname "$0")/common.sh"

# Writes an nginx.conf into folder $1 serving folder $4 as host $3 on 127.0.0.1:$2:
# access log off, sendfile, open_file_cache (no open/stat per request, like the garden).
write_nginx_conf() {
  local work=$1 port=$2 name=$3 root=$4
  cat >"$work/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
  include /etc/nginx/mime.types;
  access_log off;
  sendfile on;
  keepalive_requests 1000000;
  open_file_cache max=1000;
  client_body_temp_path $work;
  proxy_temp_path $work;
  fastcgi_temp_path $work;
  uwsgi_temp_path $work;
  scgi_temp_path $work;
  server {
    listen 127.0.0.1:$port;
    server_name $name;
    root $root;
  }
}
CONF
}

# Writes the garden's Config/ of the proxy benchmarks into folder $1: the shipped sites,
# one listener on 127.0.0.1:$2, one class (visitor) let out through the way out to
# 127.0.0.1, and a policy blocking the 1,000 hosts of $3 (a file, one host a line), as
# Squid's ACL does. Any further arguments are added to garden.yaml as lines.
write_blocklist_config() {
  local config=$1 port=$2 blocked=$3
  shift 3
  mkdir -p "$config/lists"
  cp Config/sites.yaml "$config/"
  cp "$blocked" "$config/lists/blocked.txt"
  {
    echo "listeners: [127.0.0.1:$port]"
    echo "portal: kwangmyong.kp"
    echo "upstream: {mode: direct, allow: [127.0.0.1/32], classes: [visitor]}"
    for line in "$@"; do echo "$line"; done
  } >"$config/garden.yaml"
  cat >"$config/policy.yaml" <<YAML
classes: {visitor: Everyone.}
default_class: visitor
rules:
  - id: blocklist
    reason: 1,000 blocked hosts.
    hosts: ["@blocked"]
    action: block
default: allow
YAML
}

# Writes garden.yaml $1 for the benchmarks run under QEMU: an official's listener on
# 127.0.0.1:18480 and a citizen's on 18481, the desk off, and a way out to 127.0.0.1 for
# officials (nginx on 18489 serves the page fetched).
write_counted_garden_yaml() {
  cat >"$1" <<YAML
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
}

# Waits until something answers HTTP on 127.0.0.1:$1 (a server under QEMU starts
# slowly); if it never does, stops with $2 (its name) and the log $3.
wait_for_port() {
  for _ in $(seq 1 600); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return; sleep 0.1; done
  echo "stop: $2 did not start" >&2; cat "$3" >&2; exit 1
}

# Writes $1/squid.conf: Squid as a forward proxy on 127.0.0.1:$2 with the blocklist
# $1/blocked.txt as a dstdomain ACL (names resolved by $1/hosts), no cache, no access log,
# every allowed request sent to the origin on 127.0.0.1:$3; with $4, that many workers.
write_squid_conf() {
  local work=$1 port=$2 origin=$3 workers=${4:-}
  {
    [ -n "$workers" ] && echo "workers $workers"
    cat <<CONF
http_port 127.0.0.1:$port
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
cache_peer 127.0.0.1 parent $origin 0 no-query originserver name=nginx
never_direct allow all
cache_peer_access nginx allow all
shutdown_lifetime 1 seconds
client_persistent_connections on
server_persistent_connections on
CONF
  } >"$work/squid.conf"
}

# wrk's p99 in milliseconds, whatever unit it printed; its requests per second.
percentile_ms() {  # percentile (50, 75, 90, 99) of wrk --latency's output on stdin, in ms
  awk -v p="$1%" '$1 == p { v = $2; u = v; gsub(/[0-9.]/, "", u); gsub(/[a-z]/, "", v);
  if (u == "us") v /= 1000; else if (u == "s") v *= 1000; print v }'; }
p99_ms() { percentile_ms 99; }
rps() { awk '/Requests\/sec/ { print $2 }'; }

# The median of the numbers in $1 (space-separated).
median() { printf "%s\n" $1 | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }

# The requests wrk counted as not 2xx/3xx in its output (0 when it printed none).
non2xx() { awk '/Non-2xx or 3xx responses/ { n = $NF } END { print n + 0 }'; }
# The requests wrk completed.
completed() { awk '/requests in/ { print $1 }'; }

# Stops the run unless every response in wrk's output $2 was 2xx/3xx ($1 names the row),
# or, with $3 = denied, unless every one was a refusal (4xx): a row of errors is no result.
check_statuses() {
  local name=$1 out=$2 kind=${3:-allowed} bad total
  bad=$(non2xx <"$out"); total=$(completed <"$out")
  if [ "$kind" = denied ]; then
    [ "$bad" -eq "$total" ] || { echo "stop: $name answered $((total - bad)) of $total requests with 2xx, expected refusals" >&2; exit 1; }
  else
    [ "$bad" -eq 0 ] || { echo "stop: $name answered $bad of $total requests with an error status" >&2; exit 1; }
  fi
  if grep -q "Socket errors" "$out"; then echo "stop: $name: $(grep 'Socket errors' "$out")" >&2; exit 1; fi
}

# Stops the run unless every body in the list "name=bytes ..." has the same size: the
# servers compared must send the same page.
same_sizes() {
  local first="" entry
  for entry in "$@"; do
    if [ -z "$first" ]; then first=${entry#*=}; continue; fi
    [ "${entry#*=}" = "$first" ] || { echo "stop: the bodies differ in size ($*): not the same page" >&2; exit 1; }
  done
}

# Builds the garden in release mode; sets $bin to it.
build_release_garden() {
  swift build -c release --product walled-garden >/dev/null
  bin=$(swift build -c release --show-bin-path)/walled-garden
}

# A scratch folder $work, and the background processes listed in $pids: stopped and
# removed when the script exits, however it exits.
make_work_folder() {
  work=$(mktemp -d)
  pids=()
  trap remove_work_folder EXIT
}
remove_work_folder() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}

# CPU time (user + system, every thread) the processes $@ have used, in clock ticks.
cpu_ticks() {
  local pid total=0 task
  for pid in "$@"; do
    for task in /proc/"$pid"/task/*/stat; do
      [ -r "$task" ] || continue
      total=$((total + $(awk '{ sub(/.*\) /, ""); print $12 + $13 }' "$task" 2>/dev/null || echo 0)))
    done
  done
  echo "$total"
}
# CPU time the whole machine has spent busy (user, nice, system, irq, softirq), in ticks.
machine_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }
# Microseconds of CPU per request: ticks $1 over requests $2.
per_request_us() { awk -v t="$1" -v n="$2" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", n ? t * 1e6 / hz / n : 0 }'; }

# Stops the run unless wrk's output $2 read about $3 bytes per response (the page's body
# and a head of at most 2 KB): a row must be the page it names, not an error or a redirect.
check_bytes_per_response() {
  local name=$1 out=$2 body=$3 per
  per=$(awk '/requests in/ { n = $1; v = $NF; sub(/read$/, "", v); v = $(NF - 1); u = v; gsub(/[0-9.]/, "", u); gsub(/[A-Za-z]/, "", v)
      m = (u == "KB") ? 1024 : (u == "MB") ? 1048576 : (u == "GB") ? 1073741824 : 1; printf "%.0f", v * m / n }' "$out")
  if [ "$per" -lt "$body" ] || [ "$per" -gt $((body + 2048)) ]; then
    echo "stop: $name read $per bytes per response; its page is $body bytes" >&2; exit 1
  fi
}
