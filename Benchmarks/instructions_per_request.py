#!/usr/bin/env python3
"""Counts the instructions a server spends per request (instructions-per-request.sh).

The server runs under `qemu-x86_64 -plugin insn-profile.so,out=COUNT`. This sends it
REQUESTS requests, one after another on one kept-alive connection (as a browser does),
reading each whole answer and checking that its status and body size are those of the
first answer, and reads the count before and after. The server's idle work (timers, the site watcher) goes on meanwhile,
so the count of an idle spell as long as the run is taken off. Each round prints its
figure; the last line is the median of the rounds, with the answers' status and body size.

    instructions_per_request.py PORT COUNT-FILE REQUEST-FILE [requests] [rounds] [ANSWER-FILE]

REQUEST-FILE holds one request's bytes, head and blank line (CRLF line ends). With
ANSWER-FILE, the first answer is kept there whole (head and body).
"""
import os
import socket
import statistics
import sys
import time


def ask_for(out_file):
    """Has the plugin write OUT now: it answers OUT.ask by writing OUT and removing the ask."""
    ask_file = out_file + ".ask"
    open(ask_file, "w").close()
    deadline = time.monotonic() + 60
    while os.path.exists(ask_file):
        if time.monotonic() > deadline:
            sys.exit("stop: the plugin did not answer (is the server running under qemu with insn-profile?)")
        time.sleep(0.002)


def ask(count_file):
    """The instructions executed so far: each block's length times its runs, summed."""
    ask_for(count_file)
    total = 0
    with open(count_file) as file:
        for line in file:
            fields = line.split()
            total += int(fields[1]) * int(fields[2])
    return total


def read_answer(connection, buffered):
    """Reads one answer (head with Content-Length, then the body): (status, body size,
    the answer's bytes, what was read past it)."""
    while b"\r\n\r\n" not in buffered:
        chunk = connection.recv(65536)
        if not chunk:
            sys.exit("stop: the server closed the connection")
        buffered += chunk
    head, _, buffered = buffered.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ")[1])
    length = None
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if length is None:
        sys.exit("stop: an answer without Content-Length: " + lines[0].decode(errors="replace"))
    while len(buffered) < length:
        chunk = connection.recv(65536)
        if not chunk:
            sys.exit("stop: the server closed the connection in a body")
        buffered += chunk
    return status, length, head + b"\r\n\r\n" + buffered[:length], buffered[length:]


def run(port, request, requests, expected=None):
    """Sends `requests` requests; each answer must match `expected` (status, body size),
    or the first one. Returns the first answer: (status, body size, bytes)."""
    connection = socket.create_connection(("127.0.0.1", port))
    connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buffered = b""
    first = None
    for _ in range(requests):
        connection.sendall(request)
        status, length, answer, buffered = read_answer(connection, buffered)
        if first is None:
            first = (status, length, answer)
            expected = expected or (status, length)
        if (status, length) != expected:
            sys.exit(f"stop: answer {status} with {length} body bytes; expected {expected[0]} with {expected[1]}")
    connection.close()
    return first


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    port, count_file, request_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    requests = int(sys.argv[4]) if len(sys.argv) > 4 else 2000
    rounds = int(sys.argv[5]) if len(sys.argv) > 5 else 3
    with open(request_file, "rb") as file:
        request = file.read()
    # Warm up (code translated, caches filled); the first answer sets what every later one must be.
    status, body_bytes, answer = run(port, request, max(requests // 5, 200))
    if len(sys.argv) > 6:
        with open(sys.argv[6], "wb") as file:
            file.write(answer)
    figures = []
    for round_number in range(1, rounds + 1):
        before = ask(count_file)
        started = time.monotonic()
        run(port, request, requests, (status, body_bytes))
        after = ask(count_file)
        took = time.monotonic() - started
        time.sleep(took)
        idle = ask(count_file) - after
        per_request = (after - before - idle) / requests
        figures.append(per_request)
        print(f"round {round_number}: {per_request:,.0f} instructions per request "
              f"({requests} requests in {took:.1f} s; idle spell {idle:,} instructions)")
    print(f"median {statistics.median(figures):.0f} status {status} body {body_bytes}")


if __name__ == "__main__":
    main()
