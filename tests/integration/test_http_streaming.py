"""Large-file streaming (50 MiB), graceful shutdown (SIGTERM drain) and startup errors."""

import hashlib
import os
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from support import (BIG_SIZE, Conn, Server, big_file, build_fixture, curl, curl_bin,
                     read_all_responses, read_slice, request_bytes, run_ringlet, sha256_file,
                     wait_until)

# One fixture (with the 50 MiB file) for the whole module, deleted at the end.
FX = None
BIG_PATH = None
BIG_SHA = None


def setUpModule():
    global FX, BIG_PATH, BIG_SHA
    tmp = tempfile.TemporaryDirectory(prefix="ringlet-it-stream-")
    unittest.addModuleCleanup(tmp.cleanup)
    FX = build_fixture(tmp.name)
    BIG_PATH, BIG_SHA = big_file(FX.root)


def sites():
    return [(FX.root, ["a.test"]), (FX.root2, ["b.test"])]


class BigFileTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.srv = cls.enterClassContext(Server(sites()))
        cls.port = cls.srv.port

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="ringlet-dl-")
        self.addCleanup(self.tmp.cleanup)

    def test_curl_download_sha256(self):
        out = os.path.join(self.tmp.name, "big.out")
        r = curl(self.srv.url("/big.bin"), output=out, max_time=60)
        self.assertEqual((r.returncode, r.status), (0, 200), r)
        self.assertEqual(r.header("content-length"), str(BIG_SIZE))
        self.assertEqual(os.path.getsize(out), BIG_SIZE)
        self.assertEqual(sha256_file(out), BIG_SHA)

    def test_raw_socket_download_sha256(self):
        with Conn(self.port, timeout=60) as c:
            c.send(request_bytes("/big.bin", headers={"Connection": "close"}))
            r = c.read_response(timeout=60)
            self.assertTrue(c.wait_closed(5))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(len(r.body), BIG_SIZE)
        self.assertEqual(hashlib.sha256(r.body).hexdigest(), BIG_SHA)

    def test_parallel_downloads(self):
        outs = [os.path.join(self.tmp.name, f"p{i}.out") for i in range(3)]
        procs = [subprocess.Popen([curl_bin(), "-sS", "--noproxy", "*", "--max-time", "60",
                                   "-o", o, self.srv.url("/big.bin")],
                                  stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
                 for o in outs]
        try:
            for p in procs:
                _, err = p.communicate(timeout=70)
                self.assertEqual(p.returncode, 0, err)
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()
        for o in outs:
            self.assertEqual(sha256_file(o), BIG_SHA, o)

    def test_middle_range(self):
        start, length = 20 * 1024 * 1024 + 12345, 3 * 1024 * 1024 + 7
        end = start + length - 1
        with Conn(self.port, timeout=30) as c:
            c.send(request_bytes("/big.bin", headers={"Range": f"bytes={start}-{end}"}))
            r = c.read_response(timeout=30)
        self.assertEqual(r.status, 206, r)
        self.assertEqual(r.header("content-range"), f"bytes {start}-{end}/{BIG_SIZE}")
        self.assertEqual(int(r.header("content-length")), length)
        self.assertEqual(r.body, read_slice(BIG_PATH, start, length))

    def test_curl_ranges_across_block_boundaries(self):
        for start, end in ((1048570, 1048585), (BIG_SIZE - 100, BIG_SIZE - 1),
                           (25 * 1048576, 26 * 1048576 - 1)):
            with self.subTest(start=start, end=end):
                r = curl("-r", f"{start}-{end}", self.srv.url("/big.bin"))
                self.assertEqual(r.status, 206, r)
                self.assertEqual(r.body, read_slice(BIG_PATH, start, end - start + 1))

    def test_head_big(self):
        with Conn(self.port) as c:
            c.send(request_bytes("/big.bin", method="HEAD", headers={"Connection": "close"}))
            r = c.read_response(head=True)
            self.assertTrue(c.wait_closed(3), "bytes followed a HEAD response")
        self.assertEqual(r.header("content-length"), str(BIG_SIZE))

    def test_big_response_then_pipelined_small(self):
        data = (request_bytes("/big.bin") +
                request_bytes("/1k.bin", headers={"Connection": "close"}))
        responses, rest = read_all_responses(self.port, data, timeout=60)
        self.assertEqual([r.status for r in responses], [200, 200])
        self.assertEqual(hashlib.sha256(responses[0].body).hexdigest(), BIG_SHA)
        self.assertEqual(responses[1].body, FX.files["/1k.bin"])
        self.assertEqual(rest, b"")

    def test_slow_reader_still_gets_everything(self):
        # The client stops reading for a while mid-transfer (server-side send blocks), then
        # resumes; the bytes must still be intact.
        with Conn(self.port, timeout=60) as c:
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
            c.send(request_bytes("/big.bin", headers={"Connection": "close"}))
            deadline = time.monotonic() + 10
            while len(c.buf) < 256 * 1024:
                self.assertTrue(c._fill(deadline))
            time.sleep(1.0)
            r = c.read_response(timeout=60)
        self.assertEqual(hashlib.sha256(r.body).hexdigest(), BIG_SHA)

    def test_client_abort_mid_download_does_not_hurt_server(self):
        for _ in range(3):
            with Conn(self.port, timeout=10) as c:
                c.send(request_bytes("/big.bin"))
                deadline = time.monotonic() + 10
                while len(c.buf) < 1024 * 1024:
                    self.assertTrue(c._fill(deadline))
                c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
        r = read_all_responses(self.port, request_bytes("/1k.bin", headers={"Connection": "close"}))
        self.assertEqual([x.status for x in r[0]], [200])


class ShutdownTest(unittest.TestCase):
    """Each test starts and signals its own server."""

    def start(self, **kw):
        srv = Server(sites(), **kw)
        self.enterContext(srv)
        return srv

    def test_sigterm_during_download_drains(self):
        srv = self.start(drain_timeout=20)
        with Conn(srv.port, timeout=60) as c:
            c.send(request_bytes("/big.bin"))
            deadline = time.monotonic() + 10
            while len(c.buf) < 1024 * 1024:
                self.assertTrue(c._fill(deadline), "server closed early")
            srv.signal(signal.SIGTERM)
            srv.wait_for_log(r"draining")
            self.assertIsNone(srv.proc.poll(), "server exited while a response was in flight")
            r = c.read_response(timeout=60)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(len(r.body), BIG_SIZE)
            self.assertEqual(hashlib.sha256(r.body).hexdigest(), BIG_SHA)
            # The keep-alive connection is closed once the response is done.
            self.assertTrue(c.wait_closed(5), "connection left open after draining")
        self.assertEqual(srv.wait(15), 0, srv.log())
        self.assertIn("stopped", srv.log())

    def test_sigterm_during_curl_download(self):
        srv = self.start(drain_timeout=20)
        out = os.path.join(FX.base, "curl-drain.out")
        self.addCleanup(lambda: os.path.exists(out) and os.unlink(out))
        p = subprocess.Popen([curl_bin(), "-sS", "--noproxy", "*", "--max-time", "60",
                              "--limit-rate", "25M", "-o", out, srv.url("/big.bin")],
                             stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            grew = wait_until(lambda: os.path.exists(out) and os.path.getsize(out) > 2 << 20,
                              timeout=10, interval=0.02)
            self.assertTrue(grew, "download never started")
            self.assertLess(os.path.getsize(out), BIG_SIZE - (8 << 20), "download too fast")
            srv.signal(signal.SIGTERM)
            _, err = p.communicate(timeout=60)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        self.assertEqual(p.returncode, 0, err)
        self.assertEqual(os.path.getsize(out), BIG_SIZE)
        self.assertEqual(sha256_file(out), BIG_SHA)
        self.assertEqual(srv.wait(15), 0, srv.log())

    def test_sigterm_with_idle_keepalive_connections_is_prompt(self):
        srv = self.start()  # keep-alive timeout: default 30 s
        conns = []
        try:
            for _ in range(4):
                c = Conn(srv.port)
                conns.append(c)
                c.send(request_bytes("/index.html"))
                self.assertEqual(c.read_response().status, 200)
            silent = Conn(srv.port)  # connected, never sent anything
            conns.append(silent)
            t0 = time.monotonic()
            srv.signal(signal.SIGTERM)
            rc = srv.wait(5)
            elapsed = time.monotonic() - t0
            self.assertEqual(rc, 0, srv.log())
            self.assertLess(elapsed, 3.0, "idle keep-alive connections held up shutdown")
            for c in conns:
                self.assertTrue(c.wait_closed(2), "idle connection not closed by shutdown")
        finally:
            for c in conns:
                c.close()

    def test_sigterm_with_nothing_open(self):
        srv = self.start()
        t0 = time.monotonic()
        srv.signal(signal.SIGTERM)
        self.assertEqual(srv.wait(5), 0, srv.log())
        self.assertLess(time.monotonic() - t0, 2.0)
        self.assertIn("stopped", srv.log())

    def test_drain_timeout_bounds_stalled_download(self):
        srv = self.start(drain_timeout=1)
        with Conn(srv.port, timeout=10) as c:
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
            c.send(request_bytes("/big.bin"))
            deadline = time.monotonic() + 10
            while len(c.buf) < 64 * 1024:
                self.assertTrue(c._fill(deadline))
            # Stop reading: the response cannot finish. Shutdown must still end near 1 s.
            t0 = time.monotonic()
            srv.signal(signal.SIGTERM)
            rc = srv.wait(10)
            elapsed = time.monotonic() - t0
        self.assertIsNotNone(rc, "server ignored --drain-timeout with a stalled client")
        self.assertGreaterEqual(rc, 0, f"server died of signal {-rc}:\n{srv.log()}")
        self.assertEqual(rc, 0, srv.log())
        self.assertGreater(elapsed, 0.5, "server did not wait for the in-flight response")
        self.assertLess(elapsed, 4.0)

    def test_pidfile(self):
        srv = self.start()
        with open(srv.pidfile) as f:
            self.assertEqual(f.read().strip(), str(srv.proc.pid))
        pidfile = srv.pidfile
        srv.stop()
        self.assertFalse(os.path.exists(pidfile), "pidfile left behind after exit")


class StartupErrorTest(unittest.TestCase):

    def common(self):
        return ["--http-listen", "127.0.0.1:0", "--no-tls", "--workers", "2"]

    def assert_no_crash(self, p):
        self.assertGreaterEqual(p.returncode, 0, f"killed by signal {-p.returncode}")
        for word in ("Aborted", "Segmentation", "terminate called", "core dumped"):
            self.assertNotIn(word, p.stderr)

    def test_missing_root(self):
        missing = os.path.join(FX.base, "no-such-folder")
        p = run_ringlet(["serve", "--root", missing] + self.common())
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn(missing, p.stderr)
        self.assertNotIn("listening", p.stderr)
        self.assert_no_crash(p)

    def test_missing_second_root(self):
        missing = os.path.join(FX.base, "also-missing")
        p = run_ringlet(["serve", "--root", FX.root, "--root", missing, "--host", "x.test"]
                        + self.common())
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn(missing, p.stderr)

    def test_root_is_a_file(self):
        path = os.path.join(FX.root, "1k.bin")
        p = run_ringlet(["serve", "--root", path] + self.common())
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn(path, p.stderr)

    def test_port_in_use(self):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            s.listen(1)
            port = s.getsockname()[1]
            p = run_ringlet(["serve", "--root", FX.root, "--http-listen", f"127.0.0.1:{port}",
                             "--no-tls", "--workers", "2"])
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("in use", p.stderr)
        self.assertIn(str(port), p.stderr)
        self.assert_no_crash(p)

    def test_unknown_flag(self):
        p = run_ringlet(["serve", "--root", FX.root, "--definitely-not-a-flag"] + self.common())
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("--definitely-not-a-flag", p.stderr)
        self.assert_no_crash(p)

    def test_bad_flag_values(self):
        for args in (["--workers", "0"], ["--header-timeout", "abc"],
                     ["--http-listen", "127.0.0.1:99999"], ["--host"]):
            with self.subTest(args=args):
                p = run_ringlet(["serve", "--root", FX.root, "--no-tls"] + args)
                self.assertIn(p.returncode, (1, 2), p.stderr)
                self.assertTrue(p.stderr.strip(), "no error message")
                self.assert_no_crash(p)


if __name__ == "__main__":
    unittest.main()
