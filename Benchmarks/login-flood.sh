#!/usr/bin/env bash
# Sixty wrong teacher logins at once, each from an address of its own, while a student
# browses every 20 ms (a simulated site, and a page of the real web fetched through the
# way out): the student's p99 during the flood is the result (target: under 50 ms).
#
#   Benchmarks/login-flood.sh [logins] [seconds]     # default 60 15
#
# Needs python3 and curl. Run from the repository root.
set -euo pipefail

logins=${1:-60}
seconds=${2:-15}
cd "$(dirname "$0")/.."
. Benchmarks/common.sh
build_release_garden
make_work_folder

# The real web: a loopback server, let through the SSRF guard.
mkdir -p "$work/web"
printf '<html><body><p>The weather today.</p></body></html>' >"$work/web/index.html"
(cd "$work/web" && exec python3 -m http.server 18391 --bind 127.0.0.1) >/dev/null 2>&1 & pids+=($!)

# The shipped garden, officials on one listener (they may leave), and the desk with the
# shipped cost of scrypt (ln=16: about a tenth of a second per check).
hash=$(echo "teacher-password" | "$bin" hash-password)
cp -r Config "$work/Config"
cat >"$work/Config/garden.yaml" <<YAML
listeners:
  - address: 127.0.0.1:18390
    persona: official
portal: kwangmyong.kp
teacher:
  listen: 127.0.0.1:18392
  password: "$hash"
upstream: {mode: direct, allow: [127.0.0.1/32], classes: [official]}
YAML
"$bin" --config "$work/Config" --sites Sites --log-level error >"$work/garden.log" 2>&1 & pids+=($!)
for _ in $(seq 1 100); do curl -s -o /dev/null http://127.0.0.1:18392/healthz && break; sleep 0.1; done

python3 Benchmarks/login_flood.py 18390 18392 18391 "$logins" "$seconds"
