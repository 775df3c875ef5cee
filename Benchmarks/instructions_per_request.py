#!/usr/bin/env python3
"""Counts the instructions a server spends per request (instructions-per-request.sh).

The server runs under `qemu-x86_64 -plugin insn-counter.so,out=COUNT`. This sends it
REQUESTS requests, one after another on one kept-alive connection (as a browser does),
reading each whole answer and checking its status and body size, and reads the count
before and after. The server's idle work (timers, the site watcher) goes on meanwhile,
so the count of an idle spell as long as the run is taken off. Each round prints its
figure; the last line is the median of the rounds.

    instructions_per_request.py PORT COUNT-FILE REQUEST-FILE STATUS BODY-BYTES [requests] [rounds]

REQUEST-FILE holds one request's bytes, head and blank line (CRLF line ends).
"""
import os
import socket
import statistics
import sys
import time


def ask(count_file):
    """The plugin's count now: it answers COUNT.ask by writing COUNT and removing the ask."""
    ask_file = count_file + ".ask"
    open(ask_file, "w").close()
    deadline = time.monotonic() + 30
    while os.path.exists(ask_file):
        if time.monotonic() > deadline:
            sys.exit("stop: the instruction counter did not answer (is the server running under qemu?)")
        time.sleep(0.002)
    with open(count_file) as file:
        return int(file.read())


def read_answer(connection, buffered):
    """Reads one answer (head with Content-Length, then the body): (status, body size, rest)."""
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
    return status, length, buffered[length:]


def run(port, request, status, body_bytes, requests):
    connection = socket.create_connection(("127.0.0.1", port))
    connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buffered = b""
    for _ in range(requests):
        connection.sendall(request)
        got, length, buffered = read_answer(connection, buffered)
        if got != status or length != body_bytes:
            sys.exit(f"stop: answer {got} with {length} body bytes; expected {status} with {body_bytes}")
    connection.close()


def main():
    if len(sys.argv) < 6:
        sys.exit(__doc__)
    port, count_file, request_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    status, body_bytes = int(sys.argv[4]), int(sys.argv[5])
    requests = int(sys.argv[6]) if len(sys.argv) > 6 else 2000
    rounds = int(sys.argv[7]) if len(sys.argv) > 7 else 3
    with open(request_file, "rb") as file:
        request = file.read()
    run(port, request, status, body_bytes, 200)  # warm up: code translated, caches filled
    figures = []
    for round_number in range(1, rounds + 1):
        before = ask(count_file)
        started = time.monotonic()
        run(port, request, status, body_bytes, requests)
        after = ask(count_file)
        took = time.monotonic() - started
        time.sleep(took)
        idle = ask(count_file) - after
        per_request = (after - before - idle) / requests
        figures.append(per_request)
        print(f"round {round_number}: {per_request:,.0f} instructions per request "
              f"({requests} requests in {took:.1f} s; idle spell {idle:,} instructions)")
    print(f"median {statistics.median(figures):.0f}")


if __name__ == "__main__":
    main()
