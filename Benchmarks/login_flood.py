#!/usr/bin/env python3
"""A flood of wrong teacher logins from many addresses, and what a student's requests
see meanwhile (run by Benchmarks/login-flood.sh).

  login_flood.py GARDEN_PORT DESK_PORT ORIGIN_PORT LOGINS SECONDS

The student (127.0.0.2) asks every 20 ms, in turn, for a simulated site and for a page
of the "real web" (a loopback server, fetched through the garden's way out); LOGINS
wrong logins come at once, each from an address of its own (127.0.1.x), so the back-off
per address does not thin them out and every one costs an scrypt run. Prints one JSON
line: the student's p50/p99/max and failures, before and during the flood.
"""
import json
import re
import socket
import sys
import threading
import time


def request(port, data, source, timeout=30.0):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((source, 0))
    s.settimeout(timeout)
    s.connect(("127.0.0.1", port))
    s.sendall(data)
    chunks = []
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        chunks.append(chunk)
    s.close()
    return b"".join(chunks)


def status(response):
    try:
        return int(response.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return 0


def wrong_login(desk, source, results):
    try:
        page = request(desk, b"GET /login HTTP/1.1\r\nHost: desk\r\nConnection: close\r\n\r\n", source)
        token = re.search(rb'name="csrf" value="([0-9a-f]+)"', page).group(1)
        body = b"csrf=" + token + b"&password=wrong"
        answer = request(desk, b"POST /login HTTP/1.1\r\nHost: desk\r\nCookie: garden_login=" + token
                         + b"\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: "
                         + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body, source)
        results.append(status(answer))
    except (OSError, AttributeError):
        results.append(0)


def student(garden, origin, seconds, samples):
    site = b"GET http://friend.com.kp/ HTTP/1.1\r\nHost: friend.com.kp\r\nConnection: close\r\n\r\n"
    real = ("GET http://127.0.0.1:%d/index.html HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nConnection: close\r\n\r\n"
            % (origin, origin)).encode()
    end = time.monotonic() + seconds
    turn = 0
    while time.monotonic() < end:
        started = time.monotonic()
        try:
            code = status(request(garden, site if turn % 2 == 0 else real, "127.0.0.2"))
        except OSError:
            code = 0
        samples.append((started, time.monotonic() - started, code))
        turn += 1
        time.sleep(max(0.0, 0.02 - (time.monotonic() - started)))


def summary(samples):
    times = sorted(t for _, t, _ in samples)
    failures = sum(1 for _, _, code in samples if code != 200)
    if not times:
        return {"requests": 0}
    def pct(p):
        return round(times[min(len(times) - 1, int(len(times) * p))] * 1000, 2)
    return {"requests": len(times), "failures": failures, "p50_ms": pct(0.5), "p99_ms": pct(0.99), "max_ms": pct(1.0)}


def main():
    garden, desk, origin, logins, seconds = (int(x) for x in sys.argv[1:6])
    samples = []
    worker = threading.Thread(target=student, args=(garden, origin, seconds, samples))
    worker.start()
    time.sleep(seconds / 3)  # a quiet third first
    flood_started = time.monotonic()
    results = []
    threads = [threading.Thread(target=wrong_login, args=(desk, "127.0.1.%d" % (i + 1), results)) for i in range(logins)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    flood_ended = time.monotonic()
    worker.join()
    before = [s for s in samples if s[0] < flood_started]
    during = [s for s in samples if flood_started <= s[0] <= flood_ended]
    print(json.dumps({
        "logins": logins, "login_statuses": {str(k): results.count(k) for k in sorted(set(results))},
        "flood_seconds": round(flood_ended - flood_started, 2),
        "student_before": summary(before), "student_during": summary(during),
    }))


if __name__ == "__main__":
    main()
