"""Reload and graceful stop under load: 50 reloads while h2load runs over TLS (a keep-alive run
and two new-connection runs) with no failed request, and `ringlet stop` in the middle of large
downloads and keep-alive traffic losing no response that had started.

h2load (nghttp2) is required; these tests are skipped without it."""

import hashlib
import os
import re
import shutil
import ssl
import subprocess
import threading
import time
import unittest

from support import (HOST, ReloadTestCase, TlsConn, curl_bin, free_port, request_bytes,
                     sha256_file, wait_until, write_config)

H2LOAD = shutil.which("h2load")

REQ_RE = re.compile(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
                    r"(\d+) failed, (\d+) errored, (\d+) timeout")
STATUS_RE = re.compile(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx")
DATA_RE = re.compile(r"\((\d+)\) data")


class H2loadResult:
    def __init__(self, out: str):
        self.out = out
        m = REQ_RE.search(out)
        s = STATUS_RE.search(out)
        d = DATA_RE.search(out)
        if not (m and s and d):
            raise AssertionError(f"cannot parse h2load's output:\n{out}")
        (self.total, self.started, self.done, self.succeeded, self.failed, self.errored,
         self.timeout) = map(int, m.groups())
        self.s2xx, self.s3xx, self.s4xx, self.s5xx = map(int, s.groups())
        self.data = int(d.group(1))

    def __repr__(self) -> str:
        lines = [ln for ln in self.out.splitlines()
                 if ln.startswith(("requests:", "status codes:", "traffic:", "finished in"))]
        return "<h2load " + " | ".join(lines) + ">"


def h2load(*args: str) -> subprocess.Popen:
    return subprocess.Popen([H2LOAD, "--h1", *args], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(p: subprocess.Popen, timeout: float) -> H2loadResult:
    try:
        out, _ = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        out, _ = p.communicate()
        raise AssertionError(f"h2load did not finish within {timeout} s:\n{out[-3000:]}")
    return H2loadResult(out)


class CountingTlsConn(TlsConn):
    """TlsConn that counts every byte received, to tell "no answer at all" from "part of one"."""

    received = 0

    def _fill(self, deadline: float) -> bool:
        before = len(self.buf)
        try:
            return super()._fill(deadline)
        finally:
            self.received += len(self.buf) - before


class KeepAliveClient(threading.Thread):
    """Sends GET `path` over kept-alive TLS connections, reconnecting whenever the server closes
    one, until told to stop or a connection is refused. Every response must be complete and
    `expect(body)` true; a request may go unanswered only if no byte of a response arrived."""

    def __init__(self, port: int, ctx: ssl.SSLContext, path: str, expect, stop: threading.Event):
        super().__init__(daemon=True)
        self.port, self.ctx, self.path, self.expect, self.stop = port, ctx, path, expect, stop
        self.complete = 0
        self.unanswered = 0
        self.closed_after_close_header = 0
        self.bodies: list[bytes] = []
        self.errors: list[str] = []

    def run(self):
        while not self.stop.is_set():
            try:
                conn = CountingTlsConn(self.port, self.ctx, "localhost", timeout=20)
            except (ConnectionRefusedError, ssl.SSLError, ConnectionResetError, OSError):
                return  # the server is gone (or going)
            with conn:
                while not self.stop.is_set():
                    before = conn.received
                    try:
                        conn.send(request_bytes(self.path, host="localhost"))
                        r = conn.read_response(timeout=20)
                    except Exception as e:  # noqa: BLE001 - classified below
                        if conn.received == before and not conn.buf:
                            self.unanswered += 1  # closed at a request boundary
                        else:
                            self.errors.append(f"partial response after {conn.received - before}"
                                               f" bytes: {type(e).__name__}: {e}")
                        break
                    if r.status != 200 or not self.expect(r.body):
                        self.errors.append(f"bad response {r!r}")
                        break
                    self.complete += 1
                    if len(self.bodies) < 100000:
                        self.bodies.append(r.body)
                    if (r.header("connection") or "").lower() == "close":
                        self.closed_after_close_header += 1
                        break


@unittest.skipUnless(H2LOAD, "h2load not installed")
class ReloadUnderLoadTest(ReloadTestCase):
    RELOADS = 50
    SIZE = 1024

    def setUp(self):
        super().setUp()
        # Two roots whose files differ in content but not in length, so h2load's byte count
        # says whether every body was whole.
        self.bodies = {b"A" * (self.SIZE - 1) + b"\n", b"B" * (self.SIZE - 1) + b"\n"}
        self.make_root("a", {"index.html": b"A" * (self.SIZE - 1) + b"\n"})
        self.make_root("b", {"index.html": b"B" * (self.SIZE - 1) + b"\n"})
        self.port, self.http = free_port(), free_port()
        self.cfgs = [self.config([self.internal(["localhost"], root)], https=self.port,
                                 http=self.http) for root in ("a", "b")]
        self.start(self.cfgs[0])
        self.url = f"https://{HOST}:{self.port}/index.html"

    def reloads(self, interval: float = 0.05) -> None:
        """RELOADS reloads, alternating the two configs; every one must succeed."""
        first = self.srv.generation()
        failures = []
        t0 = time.monotonic()
        for i in range(self.RELOADS):
            write_config(self.config_path, self.cfgs[(i + 1) % 2])
            p = self.srv.reload()
            if p.returncode != 0:
                failures.append(p)
            time.sleep(interval)
        if os.environ.get("RINGLET_TEST_DEBUG"):
            print(f"\n{self.RELOADS} reloads took {time.monotonic() - t0:.2f} s")
        self.assertEqual(failures, [])
        self.assertEqual(self.srv.generation(), first + self.RELOADS)

    def observe(self) -> tuple[threading.Event, KeepAliveClient]:
        """A Python keep-alive client alongside h2load that checks each body it gets."""
        stop = threading.Event()
        c = KeepAliveClient(self.port, self.ctx(), "/index.html", lambda b: b in self.bodies,
                            stop)
        c.start()
        return stop, c

    def check_observer(self, stop: threading.Event, c: KeepAliveClient) -> None:
        stop.set()
        c.join(30)
        self.assertFalse(c.is_alive())
        self.assertEqual(c.errors, [])
        self.assertEqual(c.unanswered, 0)
        self.assertEqual(set(c.bodies), self.bodies, "the reloads were not seen by the client")

    def assert_clean(self, r: H2loadResult, *, timed: bool = False) -> None:
        self.assertEqual((r.failed, r.errored, r.timeout), (0, 0, 0), r)
        self.assertGreater(r.succeeded, 0, r)
        self.assertEqual(r.succeeded, r.done, r)
        self.assertEqual(r.s2xx, r.succeeded, r)
        if timed:
            # A -D run stops with requests in flight (started - done); h2load counts whatever
            # part of their bodies had arrived as data too.
            self.assertGreaterEqual(r.data, r.succeeded * self.SIZE, r)
            self.assertLessEqual(r.data, (r.succeeded + r.started - r.done) * self.SIZE, r)
        else:
            self.assertEqual(r.started, r.total, r)
            self.assertEqual(r.data, r.succeeded * self.SIZE, r)

    def batches(self, *args: str) -> list[H2loadResult]:
        """Runs `h2load ARGS URL` again and again while the reloads run; the results."""
        stop = threading.Event()
        results: list[H2loadResult] = []
        errors: list[BaseException] = []

        def loop():
            try:
                while not stop.is_set():
                    results.append(finish(h2load(*args, self.url), 30))
            except BaseException as e:  # noqa: BLE001 - reported below
                errors.append(e)

        t = threading.Thread(target=loop, daemon=True)
        t.start()
        try:
            time.sleep(0.2)
            self.reloads()
        finally:
            stop.set()
            t.join(60)
        self.assertEqual(errors, [])
        self.assertFalse(t.is_alive())
        return results

    def test_keepalive_run_50_reloads(self):
        # Timed keep-alive runs (16 connections for 2 s each) back to back, so the load lasts
        # as long as the reloads however long they take here; and a Python keep-alive client
        # that checks every body.
        stop, observer = self.observe()
        results = self.batches("-c", "16", "-D", "2")
        self.check_observer(stop, observer)
        self.assertGreaterEqual(len(results), 2, "the reloads outlasted the load")
        for r in results:
            self.assert_clean(r, timed=True)
        self.assertIsNone(self.srv.proc.poll())

    def test_connection_close_runs_50_reloads(self):
        # Every response says Connection: close, so every request is a new TLS connection.
        # Count-based runs back to back: h2load 1.52 hangs at the end of a -D run with
        # "Connection: close" (nghttp2 issue 2250).
        results = self.batches("-c", "16", "-n", "1000", "-H", "Connection: close")
        self.assertGreaterEqual(len(results), 2, "the reloads outlasted the load")
        for r in results:
            self.assert_clean(r)
            self.assertEqual(r.succeeded, 1000, r)

    def test_new_connection_waves_50_reloads(self):
        # Waves of 32 clients with one request each: 32 fresh handshakes per wave.
        results = self.batches("-c", "32", "-n", "32")
        self.assertGreater(len(results), 10, "too few waves ran during the reloads")
        for r in results:
            self.assert_clean(r)
            self.assertEqual(r.succeeded, 32, r)


@unittest.skipUnless(H2LOAD, "h2load not installed")
class GracefulStopTest(ReloadTestCase):
    BIG = 20 << 20
    MID = 256 << 10

    def test_stop_under_load_loses_no_response(self):
        big = os.urandom(self.BIG)
        mid = os.urandom(self.MID)
        self.make_root("site", {"index.html": b"index\n", "big.bin": big, "mid.bin": mid})
        port = free_port()
        srv = self.start(self.config([self.internal(["localhost"], "site")], https=port,
                                     drain=20))
        pid = srv.proc.pid

        # Four rate-limited 20 MiB downloads (about 5 s each).
        downloads = []
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
        env["HOME"] = self.dir
        for i in range(4):
            out = os.path.join(self.dir, f"download-{i}.bin")
            cmd = [curl_bin(), "-sS", "--noproxy", "*", "--max-time", "40", "--limit-rate", "4M",
                   "--cacert", self.internal_root, "--resolve", f"localhost:{port}:{HOST}",
                   "-o", out, "-w", "%{http_code} %{size_download}",
                   f"https://localhost:{port}/big.bin"]
            downloads.append((out, subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                                    stdout=subprocess.PIPE,
                                                    stderr=subprocess.PIPE, text=True, env=env)))

        def size(path):
            try:
                return os.path.getsize(path)
            except FileNotFoundError:
                return 0

        self.assertTrue(wait_until(lambda: all(size(o) >= 1 << 20 for o, _ in downloads), 10),
                        "the downloads did not start")

        # Keep-alive traffic: h2load and Python clients that check every response.
        load = h2load("-c", "8", "-D", "5", f"https://{HOST}:{port}/mid.bin")
        stop_clients = threading.Event()
        clients = [KeepAliveClient(port, self.ctx(), "/mid.bin", lambda b: b == mid,
                                   stop_clients) for _ in range(4)]
        for c in clients:
            c.start()
        time.sleep(1.0)
        in_flight = [size(o) for o, _ in downloads]
        self.assertTrue(all(0 < s < self.BIG for s in in_flight),
                        f"downloads not in flight when stopping: {in_flight}")

        self.assertIsNone(load.poll(), "h2load ended before the stop")
        t0 = time.monotonic()
        stop = srv.ringlet_stop(timeout=30)
        elapsed = time.monotonic() - t0
        self.assertEqual(srv.returncode, 0, f"{stop}\n{srv.log()[-3000:]}")
        self.assertEqual((stop.returncode, stop.stdout), (0, f"stopped (pid {pid})\n"), stop)
        self.assertFalse(os.path.exists(srv.pidfile), "pidfile left behind")
        self.assertFalse(os.path.exists(srv.status_path), "status file left behind")
        # It waited for the downloads (about 4 s left of each), not for the drain timeout.
        self.assertLess(elapsed, 15, srv.log()[-2000:])
        self.assertNotIn("drain timeout", srv.log())

        # Every download that had started completed, byte for byte.
        want = hashlib.sha256(big).hexdigest()
        for out, p in downloads:
            stdout, stderr = p.communicate(timeout=40)
            self.assertEqual((p.returncode, stdout), (0, f"200 {self.BIG}"),
                             f"{out}: {stderr}\n{srv.log()[-2000:]}")
            self.assertEqual(sha256_file(out), want, out)

        # h2load: refused reconnects after the stop may count as failed/errored, but every
        # response that arrived is a whole 200.
        r = finish(load, 40)
        self.assertGreater(r.succeeded, 0, r)
        self.assertEqual((r.s2xx, r.s3xx, r.s4xx, r.s5xx), (r.succeeded, 0, 0, 0), r)
        self.assertEqual(r.data, r.succeeded * self.MID, f"partial bodies: {r!r}")
        self.assertEqual(r.timeout, 0, r)
        if os.environ.get("RINGLET_TEST_DEBUG"):
            print(f"\nstop took {elapsed:.2f} s; {r!r}; clients: "
                  f"{[(c.complete, c.unanswered, c.closed_after_close_header) for c in clients]}")

        stop_clients.set()
        for c in clients:
            c.join(30)
            self.assertFalse(c.is_alive())
            self.assertEqual(c.errors, [], "a response was cut off")
            self.assertGreater(c.complete, 0)


if __name__ == "__main__":
    unittest.main()
