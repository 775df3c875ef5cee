#!/usr/bin/env bash
# Cold start (exec to the first answered request, the shipped sites) and memory (RSS idle,
# and with 1,000 open connections) of a release build: issue 16's last two targets
# (<= 300 ms; <= 64 MB idle, <= 256 MB with 1,000 connections).
#
#   Benchmarks/memory-and-start.sh [starts]      # default 10
#
# Needs python3. Run from the repository root.
set -euo pipefail
starts=${1:-10}
port=18390
cd "$(dirname "$0")/.."
. Benchmarks/common.sh
build_release_garden
make_work_folder
# The shipped configuration on its own port; one client may hold 1,000 connections.
cp -r Config "$work/Config"
cat >"$work/Config/garden.yaml" <<YAML
listeners: [127.0.0.1:$port]
portal: kwangmyong.kp
teacher: off
limits:
  max_connections: 2048
  max_connections_per_client: 2048
YAML
python3 Benchmarks/memory_and_start.py "$bin" "$work/Config" Sites "$port" "$starts"
