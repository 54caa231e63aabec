#!/usr/bin/env python3
"""bench/idle_clients.py - open N TLS keep-alive connections, make one request on each, hold them.

Used by bench/compare's idle-memory workload. Every connection does a full TLS 1.3 handshake
(TLS_AES_128_GCM_SHA256 and X25519 only, as h2load negotiates with both servers in the other
workloads), sends one GET, reads the complete 200 response and then sits idle (keep-alive). Up to
--concurrency connections are being set up at a time (non-blocking sockets, one selector).

Protocol with the caller, on stdout (one line each, flushed):
  ready N PROTOCOL CIPHER SECONDS   all N connections are idle; SECONDS = time to set them up
then the connections are held until SIGUSR1 or SIGTERM (or --hold seconds, then exit 3), after
which a request is sent on every --probe-every-th connection to check it is still served, and
  done closed=K probed=P alive=A     K = connections the server closed while they were held
is printed. Exit status 0 when all N connections were set up (whatever K and A say: the caller
judges), 1 when one failed (the reason on stderr), 2 on a usage error.
"""

import argparse
import os
import resource
import selectors
import signal
import socket
import sys
import tempfile
import time

# Restrict the client's TLS 1.3 offer before the ssl module (and OpenSSL) is initialised: Python
# has no API for TLS 1.3 cipher suites or groups, OpenSSL's configuration file has.
_CONF = tempfile.NamedTemporaryFile("w", prefix="idle-clients-", suffix=".cnf", delete=False)
_CONF.write("openssl_conf = default_conf\n[default_conf]\nssl_conf = ssl_sect\n"
            "[ssl_sect]\nsystem_default = system_default_sect\n"
            "[system_default_sect]\nCiphersuites = TLS_AES_128_GCM_SHA256\nGroups = X25519\n")
_CONF.close()
os.environ["OPENSSL_CONF"] = _CONF.name
import ssl  # noqa: E402 (must come after OPENSSL_CONF is set)

os.unlink(_CONF.name)


def fail(msg):
    print(f"idle_clients: {msg}", file=sys.stderr, flush=True)
    sys.exit(1)


class Conn:
    """One connection's set-up: handshake -> send request -> read response -> idle."""

    def __init__(self, ctx, addr, sni, request):
        # A loopback connect completes at once (or is refused): blocking keeps it simple.
        raw = socket.create_connection(addr, timeout=10)
        raw.setblocking(False)
        self.sock = ctx.wrap_socket(raw, server_hostname=sni, do_handshake_on_connect=False)
        self.state = "handshake"
        self.request = request
        self.buf = b""
        self.need = None  # total response bytes (head + body) once the head is parsed

    def step(self):
        """Advances as far as possible; returns the selector events to wait for, or 0 when idle."""
        try:
            if self.state == "handshake":
                self.sock.do_handshake()
                self.state = "send"
            if self.state == "send":
                n = self.sock.send(self.request)
                self.request = self.request[n:]
                if self.request:
                    return selectors.EVENT_WRITE
                self.state = "recv"
            while self.state == "recv":
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise ConnectionError("server closed the connection before the response ended")
                self.buf += chunk
                if self.need is None and b"\r\n\r\n" in self.buf:
                    head = self.buf[: self.buf.index(b"\r\n\r\n")].decode("latin-1")
                    if not head.startswith("HTTP/1.1 200"):
                        raise ConnectionError("unexpected response: " + head.split("\r\n")[0])
                    length = [int(line.split(":", 1)[1]) for line in head.split("\r\n")[1:]
                              if line.lower().startswith("content-length:")]
                    if not length:
                        raise ConnectionError("response without Content-Length")
                    self.need = len(head) + 4 + length[0]
                if self.need is not None and len(self.buf) >= self.need:
                    self.state = "idle"
                    self.buf = b""
                    return 0
            return selectors.EVENT_READ
        except ssl.SSLWantReadError:
            return selectors.EVENT_READ
        except ssl.SSLWantWriteError:
            return selectors.EVENT_WRITE
        except BlockingIOError:
            return selectors.EVENT_READ if self.state == "recv" else selectors.EVENT_WRITE


def open_all(args, ctx, request):
    sel = selectors.DefaultSelector()
    pending, idle, started = 0, [], 0
    deadline = time.monotonic() + args.timeout

    def advance(c, registered_for):
        nonlocal pending
        try:
            ev = c.step()
        except (OSError, ssl.SSLError, ConnectionError, ValueError) as e:
            fail(f"connection {len(idle) + pending} of {args.count}: {e}")
        if ev == 0:
            if registered_for:
                sel.unregister(c.sock)
            pending -= 1
            idle.append(c.sock)
        elif not registered_for:
            sel.register(c.sock, ev, c)
        elif ev != registered_for:
            sel.modify(c.sock, ev, c)

    while len(idle) < args.count:
        while started < args.count and pending < args.concurrency:
            try:
                c = Conn(ctx, (args.host, args.port), args.sni, request)
            except OSError as e:
                fail(f"connection {started + 1} of {args.count}: connect: {e}")
            started += 1
            pending += 1
            advance(c, 0)
        if time.monotonic() > deadline:
            fail(f"only {len(idle)} of {args.count} connections were set up within {args.timeout} s")
        for key, _ in sel.select(timeout=1.0):
            advance(key.data, key.events)
    sel.close()
    return idle


def hold(args, conns):
    """Waits for SIGUSR1/SIGTERM; counts connections the server closes in the meantime."""
    stop_r, stop_w = os.pipe()
    os.set_blocking(stop_w, False)
    signal.set_wakeup_fd(stop_w)
    for s in (signal.SIGUSR1, signal.SIGTERM):
        signal.signal(s, lambda *_: None)
    sel = selectors.DefaultSelector()
    sel.register(stop_r, selectors.EVENT_READ, None)
    for s in conns:
        sel.register(s, selectors.EVENT_READ, s)
    closed = set()
    deadline = time.monotonic() + args.hold
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            print("idle_clients: nobody ended the hold; giving up", file=sys.stderr, flush=True)
            sys.exit(3)
        events = sel.select(timeout=left)
        if any(key.data is None for key, _ in events):
            break
        for key, _ in events:
            s = key.data
            try:
                if s.recv(4096):
                    continue  # unexpected data; the probe will tell
            except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
                continue  # a TLS record without application data (a late session ticket)
            except (OSError, ssl.SSLError):
                pass
            closed.add(s)
            sel.unregister(s)
    sel.close()
    return closed


def probe(args, conns, closed, request):
    """Sends one more request on a sample of the held connections; counts the 200 answers."""
    sample = [s for s in conns[:: args.probe_every] if s not in closed]
    alive = 0
    for s in sample:
        try:
            s.setblocking(True)
            s.settimeout(5)
            s.sendall(request)
            data = b""
            while b"\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            alive += data.startswith(b"HTTP/1.1 200")
        except (OSError, ssl.SSLError):
            pass
    return len(conns[:: args.probe_every]), alive


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--connect", required=True, help="HOST:PORT to connect to (IPv4)")
    ap.add_argument("--sni", default="localhost", help="TLS server name and Host header")
    ap.add_argument("--cafile", required=True, help="CA to verify the server with")
    ap.add_argument("--path", default="/1k.bin", help="the one request per connection")
    ap.add_argument("--count", type=int, default=1000, help="connections (default 1000)")
    ap.add_argument("--concurrency", type=int, default=32, help="set-ups in flight (default 32)")
    ap.add_argument("--timeout", type=float, default=120, help="seconds to set them all up")
    ap.add_argument("--hold", type=float, default=300, help="longest hold, seconds (default 300)")
    ap.add_argument("--probe-every", type=int, default=50, help="probe every Nth held connection")
    ap.add_argument("--no-hold", action="store_true", help="close them as soon as they are ready")
    args = ap.parse_args()
    host, _, port = args.connect.rpartition(":")
    if not host or not port.isdigit() or args.count < 1 or args.concurrency < 1:
        ap.error("bad --connect, --count or --concurrency")
    args.host, args.port = host, int(port)

    need = args.count + 64
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        if hard != resource.RLIM_INFINITY and hard < need:
            fail(f"open-file limit too low: need {need}, hard limit {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_verify_locations(args.cafile)
    request = f"GET {args.path} HTTP/1.1\r\nHost: {args.sni}\r\n\r\n".encode()

    t0 = time.monotonic()
    conns = open_all(args, ctx, request)
    elapsed = time.monotonic() - t0
    version, (cipher, _, _) = conns[0].version(), conns[0].cipher()
    print(f"ready {len(conns)} {version} {cipher} {elapsed:.3f}", flush=True)
    if args.no_hold:
        return
    closed = hold(args, conns)
    probed, alive = probe(args, conns, closed, request)
    print(f"done closed={len(closed)} probed={probed} alive={alive}", flush=True)
    for s in conns:
        s.close()


if __name__ == "__main__":
    main()
