#!/usr/bin/env python3
"""The misbehaving (and one well-behaved) clients of Benchmarks/soak.sh, each from a
loopback address of its own so the garden tells them apart as it would a classroom.

  soak_clients.py normal   PORT SECONDS SOURCE  -> prints latencies summary (JSON)
  soak_clients.py slowloris PORT SECONDS SOURCE COUNT
  soak_clients.py flooder  PORT SECONDS SOURCE
  soak_clients.py hog      PORT SECONDS SOURCE COUNT

Each runs for SECONDS, reconnecting when the garden closes it, and prints one JSON line.
"""
import json
import select
import socket
import sys
import time

HOST = "127.0.0.1"


def connect(port, source, timeout=5.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((source, 0))
    s.settimeout(timeout)
    s.connect((HOST, port))
    return s


def read_response(s):
    """Reads one HTTP/1.1 response with a Content-Length; returns its status."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("closed before the head")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = s.recv(65536)
        if not chunk:
            raise ConnectionError("closed in the body")
        body += chunk
    return status


def normal(port, seconds, source):
    """A student browsing: one request every 50 ms on a kept-alive connection."""
    latencies, failures, statuses, kinds, times = [], 0, {}, {}, []
    end = time.monotonic() + seconds
    s = None
    request = b"GET / HTTP/1.1\r\nHost: friend.com.kp\r\n\r\n"
    while time.monotonic() < end:
        started = time.monotonic()
        try:
            if s is None:
                s = connect(port, source)
            s.sendall(request)
            status = read_response(s)
            statuses[status] = statuses.get(status, 0) + 1
            if status != 200:
                failures += 1
                times.append(round(time.monotonic() * 1000))
            latencies.append(time.monotonic() - started)
        except (OSError, ConnectionError, ValueError) as error:
            failures += 1
            kind = "connect" if s is None else type(error).__name__ + (": " + str(error) if isinstance(error, ConnectionError) else "")
            kinds[kind] = kinds.get(kind, 0) + 1
            times.append(round(time.monotonic() * 1000))
            if s is not None:
                s.close()
            s = None
        time.sleep(max(0.0, 0.05 - (time.monotonic() - started)))
    latencies.sort()
    def pct(p):
        return round(latencies[min(len(latencies) - 1, int(len(latencies) * p))] * 1000, 2) if latencies else None
    print(json.dumps({"client": "normal", "requests": len(latencies) + failures, "failures": failures,
                      "statuses": statuses, "failure_kinds": kinds, "failure_times_ms": times, "p50_ms": pct(0.50), "p99_ms": pct(0.99), "max_ms": pct(1.0)}))


def slowloris(port, seconds, source, count):
    """COUNT connections each sending a request head one byte every 2 s, never finishing."""
    end = time.monotonic() + seconds
    sockets, opened, closed_by_garden = [], 0, 0
    prefix = b"GET / HTTP/1.1\r\nHost: friend.com.kp\r\nX-Slow: "
    while time.monotonic() < end:
        while len(sockets) < count:
            try:
                s = connect(port, source)
                s.setblocking(False)
                s.send(prefix)
                sockets.append(s)
                opened += 1
            except OSError:
                break
        alive = []
        for s in sockets:
            try:
                s.send(b"a")
                readable, _, _ = select.select([s], [], [], 0)
                if readable and not s.recv(65536):
                    raise ConnectionError
                alive.append(s)
            except (OSError, ConnectionError):
                closed_by_garden += 1
                s.close()
        sockets = alive
        time.sleep(2)
    print(json.dumps({"client": "slowloris", "opened": opened, "closed_by_garden": closed_by_garden}))


def flooder(port, seconds, source):
    """Pipelines GETs as fast as the garden takes them and never reads an answer."""
    end = time.monotonic() + seconds
    batch = b"GET /index.html HTTP/1.1\r\nHost: friend.com.kp\r\n\r\n" * 1000
    sent, connections = 0, 0
    s = None
    while time.monotonic() < end:
        try:
            if s is None:
                s = connect(port, source, timeout=1.0)
                connections += 1
            s.sendall(batch)
            sent += 1000
        except (OSError, ConnectionError):
            # The send timed out (the garden stopped reading) or the garden closed it.
            if s is not None:
                try:
                    s.settimeout(0.5)
                    s.sendall(b"x")
                except OSError:
                    s.close()
                    s = None
            time.sleep(0.2)
    print(json.dumps({"client": "flooder", "requests_sent": sent, "connections": connections}))


def hog(port, seconds, source, count):
    """Opens COUNT connections and sends nothing on them; reopens what the garden closes."""
    end = time.monotonic() + seconds
    sockets, opened = [], 0
    while time.monotonic() < end:
        while len(sockets) < count:
            try:
                sockets.append(connect(port, source))
                opened += 1
            except OSError:
                break
        alive = []
        for s in sockets:
            readable, _, _ = select.select([s], [], [], 0)
            if readable:
                s.close()
            else:
                alive.append(s)
        sockets = alive
        time.sleep(1)
    print(json.dumps({"client": "hog", "opened": opened, "holding_at_end": len(sockets)}))


if __name__ == "__main__":
    kind, port, seconds, source = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    if kind == "normal":
        normal(port, seconds, source)
    elif kind == "slowloris":
        slowloris(port, seconds, source, int(sys.argv[5]))
    elif kind == "flooder":
        flooder(port, seconds, source)
    elif kind == "hog":
        hog(port, seconds, source, int(sys.argv[5]))
    else:
        sys.exit("unknown client " + kind)
