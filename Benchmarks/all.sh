#!/usr/bin/env bash
# Every comparison in one sitting, then one summary table of ratios (issue 16): the
# garden's own pages against nginx, the proxy against Squid (its own sites, denials, and
# the real upstream fetching from nginx), CPU time per request, the rewriter against
# E2Guardian (when installed), cold start and memory, and instructions per request
# (when qemu-user and gcc are installed). Each script's full output is kept in
# Benchmarks/results/DATE/ (not in git); quote ratios from one run.
#
#   Benchmarks/all.sh [seconds]        # seconds per wrk round, default 8
#
# Needs nginx, squid, wrk, linux-perf, strace, python3 (e2guardian for the rewrite row,
# qemu-user and gcc for the instructions row):
#   apt-get install -y nginx squid wrk linux-perf strace python3 e2guardian qemu-user gcc
set -euo pipefail
seconds=${1:-8}
cd "$(dirname "$0")/.."
out="Benchmarks/results/$(date +%Y-%m-%d-%H%M)"
mkdir -p "$out"
run() {  # name command...
  local name=$1
  shift
  echo "== $name: $*" >&2
  "$@" >"$out/$name.txt" 2>"$out/$name.err" || { echo "$name failed: see $out/$name.err" >&2; return 1; }
}
swift build -c release --product walled-garden >/dev/null 2>&1
run static Benchmarks/static-vs-nginx.sh 5 "$seconds" 64
run proxy Benchmarks/proxy-vs-squid.sh 3 "$seconds" 64
run cost Benchmarks/cost-per-request.sh "$seconds" 64
if command -v e2guardian >/dev/null; then run rewrite Benchmarks/rewrite-vs-e2guardian.sh 3 "$seconds" 32; fi
run memory Benchmarks/memory-and-start.sh 10
if command -v qemu-x86_64 >/dev/null && command -v gcc >/dev/null; then
  run instructions Benchmarks/instructions-per-request.sh "" 3000 3
fi

field() {  # file awk-program
  awk "$2" "$out/$1.txt"
}
median_of() {  # proxy row name → "req/s p99 p50"
  awk -v n="$1" '$1 == "median" && $2 == n { print $3, $6, $18 }' "$out/proxy.txt"
}
read -r g_rate g_p99 <<<"$(median_of garden)"
read -r u_rate u_p99 u_p50 <<<"$(median_of garden-upstream)"
read -r s_rate s_p99 s_p50 <<<"$(median_of squid)"
read -r gd_rate gd_p99 <<<"$(median_of garden-denied)"
read -r sd_rate sd_p99 <<<"$(median_of squid-denied)"
read -r n_rate n_p99 <<<"$(median_of nginx)"
{
  echo "| measure | result | target |"
  echo "| --- | --- | --- |"
  field static '/^ratio/ { match($0, /req\/s [0-9.]+x/); r = substr($0, RSTART + 6, RLENGTH - 6)
    match($0, /p99 [0-9.]+x/); p = substr($0, RSTART + 4, RLENGTH - 4)
    printf "| static page vs nginx (static-vs-nginx.sh, 5 rounds) | %s req/s, p99 %s of nginx | 1.0x, p99 <= 1.0x |\n", r, p }'
  field static '/^floor/ { match($0, /req\/s [0-9.]+x/); f = substr($0, RSTART + 6, RLENGTH - 6)
    match($0, /garden\/nio-floor [0-9.]+x/); g = substr($0, RSTART + 17, RLENGTH - 17) }
    /^median +garden / { gc = $(NF - 1) } /^median +nginx / { nc = $(NF - 1) } /^median +nio-floor / { fc = $(NF - 1) }
    END { printf "| SwiftNIO floor (nio-floor: a canned answer) vs nginx; garden vs floor | %s; %s req/s (CPU per request: garden %s, nginx %s, floor %s us) | |\n", f, g, gc, nc, fc }'
  awk -v g="$g_rate" -v n="$n_rate" -v gp="$g_p99" -v np="$n_p99" \
    'BEGIN { printf "| proxy, own site, vs nginx direct (proxy-vs-squid.sh) | %.2fx req/s, p99 %.2f vs %.2f ms | 1.0x |\n", g / n, gp, np }'
  awk -v u="$u_rate" -v s="$s_rate" -v up="$u_p99" -v sp="$s_p99" -v uh="$u_p50" -v sh="$s_p50" \
    'BEGIN { printf "| real upstream from nginx vs Squid | %.2fx req/s, p99 %.2f vs %.2f ms (p50 %.2f vs %.2f ms) | 1.5x, p99 <= Squid |\n", u / s, up, sp, uh, sh }'
  field proxy '$1 == "median" && $2 == "garden-upstream" { g = $12; gm = $15 } $1 == "median" && $2 == "squid" { s = $12; sm = $15 }
    END { printf "| CPU per fetch, garden-upstream vs Squid (proxy-vs-squid.sh) | %s vs %s us (%.2fx); whole machine %s vs %s us | |\n", g, s, g / s, gm, sm }'
  awk -v g="$gd_rate" -v s="$sd_rate" -v gp="$gd_p99" -v sp="$sd_p99" \
    'BEGIN { printf "| proxy, denied, vs Squid denied | %.2fx req/s, p99 %.2f vs %.2f ms | |\n", g / s, gp, sp }'
  field cost '$1 == "garden" && /CPU/ { g = $5 } $1 == "nginx" && /CPU/ { n = $5 }
    END { printf "| CPU per request, garden vs nginx (cost-per-request.sh) | %s vs %s us (%.2fx) | |\n", g, n, g / n }'
  if [ -f "$out/rewrite.txt" ]; then
    field rewrite '/^garden reading each page/ { r = $NF } /^rewritten\/unrewritten/ { u = $2 }
      END { printf "| cached rewrite vs unrewritten; reading every page vs E2Guardian | %s; %s | 0.80x |\n", u, r }'
  fi
  if [ -f "$out/instructions.txt" ]; then
    field instructions '$1 == "site" { g = $2 } $1 == "nginx" { n = $2 } $1 == "nio-floor" { f = $2 }
      $1 == "upstream" { u = $2 } $1 == "squid" { q = $2 }
      END { printf "| instructions per request (instructions-per-request.sh): site, garden vs nginx; nio-floor; upstream, garden vs Squid | %s vs %s (%.2fx); %s; %s vs %s (%.2fx) | |\n", g, n, g / n, f, u, q, (q ? u / q : 0) }'
  fi
  field memory '/^cold start/ { printf "| cold start, exec to first answer | %s ms (median) | <= 300 ms |\n", $10 }
    /^RSS/ { printf "| RSS idle; with 1,000 open connections | %s MiB; %s MiB | <= 64 MiB; <= 256 MiB |\n", $3, $12 }'
} | tee "$out/summary.md"
echo "full outputs: $out/" >&2
