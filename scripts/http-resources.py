#!/usr/bin/env python3
"""HTTP example under load and attack: memory per connection, a trailer flood, and GET /
latency during the chunked-trickle attack (issue 14). Prints one line per figure.

    cargo build --release --example http
    scripts/http-resources.py [--bin target/release/examples/http] [--reactor uring|epoll]

The server runs on one core pinned to CPU 0 (taskset), this script on the others.
Figures:
  idle-after-get    RSS growth per idle keep-alive connection after one GET / (N connections,
                    from before the first connect)
  idle-after-echo   the same after a 1 MiB POST /echo on each
  trailer-flood     peak RSS while one client streams `a: b` trailer lines, and whether and
                    when the server cut it off
  trickle-p99       GET / latency (p50, p99, max) on a fresh keep-alive connection while
                    4 clients each send ~1.6 MB of small chunks, then one 1-byte chunk per ms
"""

import argparse
import os
import socket
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def start(binary, reactor, extra):
    cmd = ["taskset", "-c", "0", binary, "--addr", "127.0.0.1:0", "--reactor", reactor] + extra
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline()
    addr = next(w for w in line.split() if ":" in w and w[0].isdigit())
    host, port = addr.rsplit(":", 1)
    return p, (host, int(port))


def read_response(s, buf=b""):
    """Reads one response (Content-Length framing); returns (status, rest of buffer)."""
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            raise ConnectionError("closed")
        buf += d
    head, rest = buf.split(b"\r\n\r\n", 1)
    status = int(head.split(b" ", 2)[1])
    n = 0
    for line in head.split(b"\r\n")[1:]:
        k, v = line.split(b":", 1)
        if k.strip().lower() == b"content-length":
            n = int(v)
    while len(rest) < n:
        d = s.recv(1 << 20)
        if not d:
            raise ConnectionError("closed")
        rest += d
    return status, rest[n:]


def connect(addr):
    s = socket.create_connection(addr)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def idle_per_conn(binary, reactor, n, echo):
    p, addr = start(binary, reactor, [])
    try:
        time.sleep(0.3)
        base = rss(p.pid)
        conns = [connect(addr) for _ in range(n)]
        body = b"e" * (1024 * 1024 - 1024) if echo else b""
        for s in conns:
            if echo:
                s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body))
                threading.Thread(target=s.sendall, args=(body,)).start()
            else:
                s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            status, _ = read_response(s)
            assert status == 200, status
        time.sleep(0.5)
        grown = rss(p.pid) - base
        return grown / n, rss(p.pid)
    finally:
        p.terminate()
        p.wait()


def trailer_flood(binary, reactor, secs):
    p, addr = start(binary, reactor, [])
    peak = [0]
    stop = threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], rss(p.pid))
            time.sleep(0.01)

    t = threading.Thread(target=sample)
    t.start()
    try:
        s = connect(addr)
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n")
        block = b"a: b\r\n" * 10000
        start_t = time.monotonic()
        cut = None
        sent = 0
        while time.monotonic() - start_t < secs:
            try:
                s.sendall(block)
                sent += len(block)
            except OSError:
                cut = time.monotonic() - start_t
                break
        got = b""
        try:
            s.settimeout(2)
            got = s.recv(4096)
        except OSError:
            pass
        stop.set()
        t.join()
        return peak[0], cut, sent, got.split(b"\r\n", 1)[0].decode(errors="replace")
    finally:
        p.terminate()
        p.wait()


def trickle_p99(binary, reactor, secs, attackers):
    p, addr = start(binary, reactor, ["--max-body", str(4 << 20)])
    stop = threading.Event()

    def attack():
        s = connect(addr)
        s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        # ~1.6 MB of legal small chunks (16 bytes of data each).
        chunk = b"10\r\n" + b"d" * 16 + b"\r\n"
        s.sendall(chunk * (1_600_000 // len(chunk)))
        while not stop.is_set():
            try:
                s.sendall(b"1\r\nz\r\n")
            except OSError:
                return
            time.sleep(0.001)
        s.close()

    ts = [threading.Thread(target=attack) for _ in range(attackers)]
    for t in ts:
        t.start()
    time.sleep(1.0)
    lat = []
    s = connect(addr)
    buf = b""
    end = time.monotonic() + secs
    while time.monotonic() < end:
        t0 = time.perf_counter()
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        status, buf = read_response(s, buf)
        lat.append(time.perf_counter() - t0)
        assert status == 200
        time.sleep(0.002)
    stop.set()
    for t in ts:
        t.join()
    p.terminate()
    p.wait()
    lat.sort()
    q = lambda f: lat[min(len(lat) - 1, int(f * len(lat)))] * 1000
    return len(lat), q(0.5), q(0.99), lat[-1] * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, os.environ.get("CARGO_TARGET_DIR", "target"), "release/examples/http"))
    ap.add_argument("--reactor", default="uring")
    ap.add_argument("--conns", type=int, default=200)
    ap.add_argument("--secs", type=float, default=5.0)
    a = ap.parse_args()
    r = a.reactor
    per, total = idle_per_conn(a.bin, r, a.conns, echo=False)
    print(f"{r} idle-after-get: {per / 1024:.1f} KiB per connection ({a.conns} conns, RSS {total / 2**20:.1f} MiB)")
    per, total = idle_per_conn(a.bin, r, a.conns, echo=True)
    print(f"{r} idle-after-echo: {per / 1024:.1f} KiB per connection ({a.conns} conns after a 1 MiB echo each, RSS {total / 2**20:.1f} MiB)")
    peak, cut, sent, status = trailer_flood(a.bin, r, 20.0)
    cut_s = f"cut after {cut * 1000:.0f} ms" if cut is not None else "NOT cut in 20 s"
    print(f"{r} trailer-flood: peak RSS {peak / 2**20:.1f} MiB, {cut_s}, {sent / 2**20:.1f} MiB sent, answer {status!r}")
    n, p50, p99, mx = trickle_p99(a.bin, r, a.secs, 4)
    print(f"{r} trickle-p99: GET / p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {mx:.2f} ms ({n} requests, 4 attackers)")


if __name__ == "__main__":
    sys.exit(main())
