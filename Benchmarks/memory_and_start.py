"""Cold start and memory of the garden (issue 16): run by Benchmarks/memory-and-start.sh.

Cold start: from exec to the first answered request (the portal, 200), the median of
`starts` starts. Memory: the garden's resident set (VmRSS) idle after its start, then
with 1,000 open keep-alive connections that have each been answered once.

    python3 Benchmarks/memory_and_start.py BIN CONFIG SITES PORT [starts]
"""
import os
import resource
import socket
import statistics
import subprocess
import sys
import time

binary, config, sites, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
starts = int(sys.argv[5]) if len(sys.argv) > 5 else 10
REQUEST = b"GET / HTTP/1.1\r\nHost: kwangmyong.kp\r\n\r\n"


def answered_once():
    """True once the garden answers the portal with 200."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as connection:
            connection.sendall(REQUEST)
            return connection.recv(16).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def start():
    return subprocess.Popen(
        [binary, "serve", "--config", config, "--sites", sites, "--desk", "off"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def stop(process):
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


times = []
for _ in range(starts):
    began = time.monotonic()
    process = start()
    while not answered_once():
        if process.poll() is not None or time.monotonic() - began > 10:
            sys.exit("the garden did not answer within 10 s")
        time.sleep(0.001)
    times.append((time.monotonic() - began) * 1000)
    stop(process)
print(f"cold start (exec to first answer, {starts} starts): median {statistics.median(times):.0f} ms, "
      f"min {min(times):.0f} ms, max {max(times):.0f} ms")

process = start()
while not answered_once():
    time.sleep(0.005)
time.sleep(2)
idle = rss_mib(process.pid)
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))
held = []
for _ in range(1000):
    connection = socket.create_connection(("127.0.0.1", port), timeout=5)
    connection.sendall(REQUEST)
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += connection.recv(65536)
    held.append(connection)
time.sleep(1)
loaded = rss_mib(process.pid)
print(f"RSS: idle {idle:.1f} MiB; with 1,000 open connections (each answered once) {loaded:.1f} MiB")
for connection in held:
    connection.close()
stop(process)
