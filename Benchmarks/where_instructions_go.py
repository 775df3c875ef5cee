#!/usr/bin/env python3
"""Where a server's instructions go, per request (where-instructions-go.sh).

    where_instructions_go.py addresses MAPS FUNCTION...
        The plugin's `call=` arguments for FUNCTIONs (in the program's shared libraries),
        from a /proc/PID/maps of the program run under QEMU (its libraries load at the
        same addresses each run).
    where_instructions_go.py profile PORT PROFILE MAPS REQUEST-FILE FUNCTIONS [requests] [top]
        Sends requests (one kept-alive connection, each answer read whole and checked,
        as instructions_per_request.py does) to the server running under
        `insn-profile.so,out=PROFILE,call=...` (FUNCTIONS: the same names, comma-separated,
        in the same order), reads the profile before and after, and prints per request:
        the instructions, the functions that execute most of them, and for each of
        FUNCTIONS how often it is called and from where.
"""
import bisect
import collections
import os
import subprocess
import sys

from instructions_per_request import ask_for, run


def read_maps(path):
    """The file-backed mappings: (low, high, file offset, path)."""
    mappings = []
    with open(path) as file:
        for line in file:
            fields = line.split()
            if len(fields) > 5 and fields[5].startswith("/"):
                low, high = (int(part, 16) for part in fields[0].split("-"))
                mappings.append((low, high, int(fields[2], 16), fields[5]))
    return mappings


_symbols = {}


def symbols(path):
    """A file's function symbols, sorted by address: (addresses, names)."""
    if path not in _symbols:
        found = set()
        for arguments in (["nm", "-D", "--defined-only", path], ["nm", "--defined-only", path]):
            output = subprocess.run(arguments, capture_output=True, text=True).stdout
            for line in output.splitlines():
                fields = line.split()
                if len(fields) >= 3 and fields[1] in "TtWi":
                    # `malloc@@GLIBC_2.2.5`: the name without its version
                    found.add((int(fields[0], 16), fields[2].split("@")[0]))
        ordered = sorted(found)
        _symbols[path] = ([address for address, _ in ordered], [name for _, name in ordered])
    return _symbols[path]


def symbol_at(address, mappings):
    """The function an address is in, with its file's name."""
    for low, high, offset, path in mappings:
        if low <= address < high:
            addresses, names = symbols(path)
            index = bisect.bisect_right(addresses, address - low + offset) - 1
            return (names[index] if index >= 0 else "?") + " [" + os.path.basename(path) + "]"
    return "?"


def addresses(maps, functions):
    mappings = read_maps(maps)
    found = {}
    for low, _, offset, path in mappings:
        if offset != 0:
            continue
        addresses_in_file, names = symbols(path)
        for address, name in zip(addresses_in_file, names):
            if name in functions and name not in found:
                found[name] = low + address
    missing = [name for name in functions if name not in found]
    if missing:
        sys.exit("stop: not found in the program's libraries: " + ", ".join(missing))
    print(",".join(f"call={found[name]:x}" for name in functions))


def snapshot(profile):
    """The profile now: {(address, symbol): [instructions, runs, calls...]}, blocks
    translated more than once added together."""
    ask_for(profile)
    blocks = {}
    with open(profile) as file:
        for line in file:
            fields = line.split()
            key = (int(fields[0], 16), fields[3])
            numbers = [int(fields[1]), int(fields[2])] + [int(value) for value in fields[4:]]
            if key in blocks:
                blocks[key] = [blocks[key][0]] + [a + b for a, b in zip(blocks[key][1:], numbers[1:])]
            else:
                blocks[key] = numbers
    return blocks


def demangled(names):
    output = subprocess.run(["swift", "demangle", "--simplified", "--compact"], input="\n".join(names),
                            capture_output=True, text=True).stdout.splitlines()
    return dict(zip(names, output)) if len(output) == len(names) else {name: name for name in names}


def profile(port, profile_file, maps, request_file, functions, requests, top):
    with open(request_file, "rb") as file:
        request = file.read()
    status, body_bytes, _ = run(port, request, max(requests // 5, 200))  # warm up
    before = snapshot(profile_file)
    run(port, request, requests, (status, body_bytes))
    after = snapshot(profile_file)
    mappings = read_maps(maps)
    names = {}
    by_function = collections.Counter()
    callers = [collections.Counter() for _ in functions]
    for key, numbers in after.items():
        earlier = before.get(key, [numbers[0], 0] + [0] * len(functions))
        runs = numbers[1] - earlier[1]
        calls = [now - then for now, then in zip(numbers[2:], earlier[2:])]
        if runs <= 0 and not any(calls):
            continue
        address, symbol = key
        if key not in names:
            names[key] = symbol if symbol != "?" else symbol_at(address, mappings)
        by_function[names[key]] += numbers[0] * runs
        for index, count in enumerate(calls):
            if count:
                callers[index][names[key]] += count
    total = sum(by_function.values())
    shown = [name for name, _ in by_function.most_common(top)]
    shown_callers = [name for counter in callers for name, _ in counter.most_common(top)]
    readable = demangled(sorted(set(shown + shown_callers)))
    print(f"{requests} requests, answered {status} with {body_bytes} body bytes")
    print(f"instructions per request: {total / requests:,.0f}")
    print(f"\nwhere they go (the {top} functions that execute the most of them, per request):")
    for name in shown:
        print(f"{by_function[name] / requests:10,.0f}  {100 * by_function[name] / total:5.1f}%  {readable[name][:120]}")
    for index, function in enumerate(functions):
        calls = sum(callers[index].values())
        print(f"\n{function}: {calls / requests:,.1f} calls per request, from:")
        for name, count in callers[index].most_common(top):
            print(f"{count / requests:10,.1f}  {readable[name][:120]}")


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "addresses":
        addresses(sys.argv[2], sys.argv[3:])
    elif len(sys.argv) >= 7 and sys.argv[1] == "profile":
        requests = int(sys.argv[7]) if len(sys.argv) > 7 else 3000
        top = int(sys.argv[8]) if len(sys.argv) > 8 else 25
        profile(int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6].split(","), requests, top)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
