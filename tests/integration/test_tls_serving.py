"""Serving over TLS: curl over TLS 1.3 and 1.2, a 50 MiB file and ranges, 200 concurrent TLS
clients, the HTTP -> HTTPS redirect listener, and the internal CA (ringlet trust, 7-day leaves,
storage permissions)."""

import datetime
import os
import re
import shutil
import stat
import subprocess
import tempfile
import threading
import time
import unittest

from support import (BIG_SIZE, HOST, Conn, TlsConn, TlsFixtureTestCase, TlsServer, big_file,
                     build_fixture, cert_field, client_hello, curl, curl_raw, exchange, openssl,
                     pem_blocks, read_slice, request_bytes, run_ringlet, s_client, sha256_file,
                     ssl_context, tls_get)


class CurlTlsTest(TlsFixtureTestCase):

    def verify_result(self, host: str, *args: str) -> str:
        """"%{ssl_verify_result} %{http_code}" of a curl run with the test root."""
        p = curl_raw("-o", os.devnull, "-w", "%{ssl_verify_result} %{http_code}",
                     "--cacert", self.pki.root, *self.resolve(host), *args,
                     f"https://{host}:{self.port}/index.html")
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout.strip()

    def test_tls13(self):
        r = self.curl_https("/index.html", "--tlsv1.3", verbose=True)
        self.assertEqual((r.returncode, r.status), (0, 200), r)
        self.assertEqual(r.body, self.fx.files["/index.html"])
        self.assertIn("SSL connection using TLSv1.3", r.stderr)
        self.assertIn("ALPN: server accepted http/1.1", r.stderr)
        self.assertEqual(self.verify_result("a.test", "--tlsv1.3"), "0 200")

    def test_tls12(self):
        for host, kx in (("a.test", "ECDHE-ECDSA"), ("b.test", "ECDHE-RSA")):
            with self.subTest(host=host):
                r = self.curl_https("/index.html", "--tls-max", "1.2", host=host, verbose=True)
                self.assertEqual((r.returncode, r.status), (0, 200), r)
                self.assertEqual(r.body, self.site_file(host, "/index.html"))
                self.assertRegex(r.stderr, rf"SSL connection using TLSv1\.2 / {kx}-")
                self.assertEqual(self.verify_result(host, "--tls-max", "1.2"), "0 200")

    def test_wrong_root_is_rejected(self):
        """Control for ssl_verify_result: curl without our root refuses the certificate."""
        p = curl_raw("-o", os.devnull, "--cacert", self.pki["b"].cert, *self.resolve("a.test"),
                     f"https://a.test:{self.port}/")
        # An unrelated certificate as the only trust anchor: verification fails.
        self.assertEqual(p.returncode, 60, p.stderr)

    def test_sites_over_curl(self):
        for host, path in (("a.test", "/dir/page.html"), ("www.a.test", "/1k.bin"),
                           ("b.test", "/only-b.txt")):
            with self.subTest(host=host):
                r = self.curl_https(path, host=host)
                self.assertEqual((r.returncode, r.status), (0, 200), r)
                self.assertEqual(r.body, self.site_file(host, path))

    def test_one_connection_many_requests(self):
        urls = [f"https://a.test:{self.port}{p}" for p in ("/index.html", "/1k.bin",
                                                          "/style.css", "/nope")]
        with tempfile.TemporaryDirectory() as td:
            outs = [os.path.join(td, f"o{i}") for i in range(len(urls))]
            args = []
            for u, o in zip(urls, outs):
                args += ["-o", o, u]
            p = curl_raw("-v", "--cacert", self.pki.root, *self.resolve("a.test"),
                         "-w", "%{http_code}\n", *args)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(p.stdout.split(), ["200", "200", "200", "404"])
            self.assertEqual(p.stderr.count("SSL connection using"), 1,
                             "curl did not reuse the TLS connection")
            for path, o in zip(("/index.html", "/1k.bin", "/style.css"), outs):
                with open(o, "rb") as f:
                    self.assertEqual(f.read(), self.fx.files[path], path)

    def test_head_and_404(self):
        r = self.curl_https("/index.html", "-I")
        self.assertEqual((r.returncode, r.status), (0, 200), r)
        self.assertEqual(r.header("content-length"), str(len(self.fx.files["/index.html"])))
        r = self.curl_https("/missing.html")
        self.assertEqual((r.returncode, r.status), (0, 404), r)
        self.assertIn(b"CUSTOM-404-PAGE-A", r.body)


class BigFileTlsTest(TlsFixtureTestCase):

    @classmethod
    def prepare(cls):
        cls.big_path, cls.big_sha = big_file(cls.fx.root)

    def setUp(self):
        td = tempfile.TemporaryDirectory(prefix="ringlet-dl-")
        self.addCleanup(td.cleanup)
        self.td = td.name

    def test_50mib_sha256(self):
        for args in (["--tlsv1.3"], ["--tls-max", "1.2"]):
            with self.subTest(proto=args):
                out = os.path.join(self.td, "big.out")
                r = self.curl_https("/big.bin", *args, output=out, max_time=60)
                self.assertEqual((r.returncode, r.status), (0, 200), r)
                self.assertEqual(r.header("content-length"), str(BIG_SIZE))
                self.assertEqual(os.path.getsize(out), BIG_SIZE)
                self.assertEqual(sha256_file(out), self.big_sha)

    def test_ranges(self):
        # Ranges inside, across and at TLS record (16 KiB) and 1 MiB boundaries, and a suffix.
        for start, end in ((1000, 1999), (16383, 16400), (16384, 16384 * 3 + 7),
                           ((1 << 20) - 5, (1 << 20) + 5), (BIG_SIZE - 100, BIG_SIZE - 1)):
            with self.subTest(range=(start, end)):
                r = self.curl_https("/big.bin", "-r", f"{start}-{end}")
                self.assertEqual((r.returncode, r.status), (0, 206), r)
                self.assertEqual(r.header("content-range"), f"bytes {start}-{end}/{BIG_SIZE}")
                self.assertEqual(r.body, read_slice(self.big_path, start, end - start + 1))
        r = self.curl_https("/big.bin", "-r", "-4096")
        self.assertEqual(r.status, 206, r)
        self.assertEqual(r.body, read_slice(self.big_path, BIG_SIZE - 4096, 4096))

    def test_large_range_over_python_ssl(self):
        start, n = 3 * 1024 * 1024 + 123, 5 * 1024 * 1024
        c = TlsConn(self.port, self.ssl_ctx(), "a.test", timeout=30)
        with c:
            c.send(request_bytes("/big.bin", host="a.test",
                                 headers={"Range": f"bytes={start}-{start + n - 1}"}))
            r = c.read_response(timeout=30)
        self.assertEqual(r.status, 206, r)
        self.assertEqual(r.body, read_slice(self.big_path, start, n))


class ConcurrencyTlsTest(TlsFixtureTestCase):
    CLIENTS = 200

    def test_200_concurrent_python_clients(self):
        """200 TLS connections handshake and stay open together, then each GETs a file of its
        site (SNI a.test / b.test / www.a.test by turn) and checks the bytes and certificate."""
        ctx = self.ssl_ctx()
        hosts = ["a.test", "b.test", "www.a.test"]
        paths = {"a.test": "/1k.bin", "www.a.test": "/index.html", "b.test": "/only-b.txt"}
        barrier = threading.Barrier(self.CLIENTS, timeout=30)
        errors: list[str] = []
        ok = [0]
        lock = threading.Lock()

        def client(i: int):
            host = hosts[i % len(hosts)]
            path = paths[host]
            try:
                c = TlsConn(self.port, ctx, host, timeout=30)
                with c:
                    barrier.wait()  # all 200 handshakes done and connections open
                    c.send(request_bytes(path, host=host, headers={"Connection": "close"}))
                    r = c.read_response(timeout=30)
                    want = self.site_file(host, path)
                    if r.status != 200 or r.body != want:
                        raise AssertionError(f"{host}{path}: {r!r}")
                    if ("commonName", host.removeprefix("www.")) not in \
                            [t[0] for t in c.peer_cert["subject"]]:
                        raise AssertionError(f"{host}: certificate {c.peer_cert['subject']}")
                with lock:
                    ok[0] += 1
            except threading.BrokenBarrierError:
                with lock:
                    errors.append(f"client {i}: barrier broken")
            except Exception as e:  # noqa: BLE001 - collected and reported below
                barrier.abort()
                with lock:
                    errors.append(f"client {i} ({host}): {type(e).__name__}: {e}")

        threads = [threading.Thread(target=client, args=(i,), daemon=True)
                   for i in range(self.CLIENTS)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertFalse(any(t.is_alive() for t in threads), "clients hung")
        self.assertEqual(errors, [], f"{len(errors)} failures, first: {errors[:5]}")
        self.assertEqual(ok[0], self.CLIENTS)
        self.assertLess(time.monotonic() - t0, 45)
        self.assert_serving()

    @unittest.skipUnless(shutil.which("h2load"), "h2load not installed")
    def test_h2load_200_clients_2000_requests(self):
        p = subprocess.run(["h2load", "--h1", "-c", "200", "-n", "2000", "-T", "30", "-N", "30",
                            f"https://{HOST}:{self.port}/1k.bin"],
                           capture_output=True, text=True, timeout=90)
        out = p.stdout + p.stderr
        self.assertEqual(p.returncode, 0, out)
        self.assertRegex(out, r"requests: 2000 total, 2000 started, 2000 done, 2000 succeeded, "
                              r"0 failed, 0 errored, 0 timeout", out)
        self.assertRegex(out, r"status codes: 2000 2xx, 0 3xx, 0 4xx, 0 5xx", out)
        # Body bytes: 2000 x 1 KiB.
        self.assertRegex(out, rf"\({2000 * 1024}\) data", out)
        self.assertIn("Application protocol: http/1.1", out)
        self.assert_serving()


class RedirectTest(TlsFixtureTestCase):

    def head(self, path: str, host: str | None = None) -> tuple[int, str | None]:
        r = curl("-I", self.srv.http_url(path), headers={"Host": host} if host else None)
        self.assertEqual(r.returncode, 0, r)
        return r.status, r.header("location")

    def test_redirect_keeps_path_and_query(self):
        self.assertEqual(self.head("/dir/x?y=1"),
                         (308, f"https://127.0.0.1:{self.port}/dir/x?y=1"))
        self.assertEqual(self.head("/"), (308, f"https://127.0.0.1:{self.port}/"))

    def test_redirect_uses_host_header(self):
        self.assertEqual(self.head("/dir/x?y=1", "a.test"),
                         (308, f"https://a.test:{self.port}/dir/x?y=1"))
        # The Host's own port is the HTTP one: it must be replaced by the HTTPS port.
        self.assertEqual(self.head("/p?q", f"b.test:{self.srv.http_port}"),
                         (308, f"https://b.test:{self.port}/p?q"))

    def redirect_raw(self, method: str):
        r = exchange(self.srv.http_port,
                     request_bytes("/a/b.html?x=%20y", method=method, host="a.test",
                                   headers={"Content-Length": "0", "Connection": "close"}))
        self.assertEqual(r.status, 308, r)
        self.assertEqual(r.header("location"), f"https://a.test:{self.port}/a/b.html?x=%20y")

    def test_redirect_for_get(self):
        self.redirect_raw("GET")

    def test_redirect_for_other_methods(self):
        """Every request gets the 308 (which keeps the method), not a 405 from the plain port."""
        for method in ("POST", "PUT", "DELETE"):
            with self.subTest(method=method):
                self.redirect_raw(method)

    def test_curl_follows_to_https(self):
        r = curl("-L", "--cacert", self.pki.root,
                 "--resolve", f"a.test:{self.srv.http_port}:{HOST}",
                 "--resolve", f"a.test:{self.port}:{HOST}",
                 f"http://a.test:{self.srv.http_port}/dir/page.html")
        self.assertEqual((r.returncode, r.status), (0, 200), r)
        self.assertEqual(r.body, self.fx.files["/dir/page.html"])
        self.assertEqual(len(r.all_heads), 2, r)

    def test_tls_on_the_http_port_fails_cleanly(self):
        """A TLS client on the plain port gets no handshake (and the server keeps going)."""
        with Conn(self.srv.http_port, timeout=3) as c:
            c.send(client_hello())
            data = c.read_until_close(4)
        self.assertFalse(data.startswith(b"\x16\x03"), data[:20])
        self.assertEqual(self.head("/ok"), (308, f"https://127.0.0.1:{self.port}/ok"))


# -----------------------------------------------------------------------------------------------
# Internal CA.

SEVEN_DAYS = 7 * 24 * 3600


def _gmt(text: str) -> float:
    return datetime.datetime.strptime(text, "%b %d %H:%M:%S %Y GMT").replace(
        tzinfo=datetime.timezone.utc).timestamp()


class InternalCaTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        tmp = tempfile.TemporaryDirectory(prefix="ringlet-ica-")
        cls.addClassCleanup(tmp.cleanup)
        cls.tmp = tmp.name
        cls.fx = build_fixture(os.path.join(tmp.name, "fx"))
        # A storage folder that does not exist yet: ringlet creates it (and must make it 0700).
        cls.storage = os.path.join(tmp.name, "state", "storage")
        cls.t_start = time.time()
        cls.srv = cls.enterClassContext(
            TlsServer([(cls.fx.root, ["localhost"], None)], storage=cls.storage))
        cls.port = cls.srv.port
        p = run_ringlet(["trust", "--storage", cls.storage])
        if p.returncode != 0:
            raise AssertionError(f"ringlet trust failed with {p.returncode}: {p.stderr}")
        cls.trust = p

    def root_path(self) -> str:
        path = self.trust.stdout.splitlines()[0].strip()
        return path if os.path.isabs(path) else os.path.join(os.getcwd(), path)

    def served_chain(self, name: str = "localhost", port: int | None = None) -> list[str]:
        s = s_client(port or self.port, "-servername", name, "-showcerts")
        self.assertEqual(s.returncode, 0, s)
        return s.certs

    def test_trust_prints_path_then_pem(self):
        lines = self.trust.stdout.splitlines()
        self.assertTrue(lines, "ringlet trust printed nothing")
        path = self.root_path()
        self.assertTrue(os.path.isfile(path), f"first line {lines[0]!r} is not a file")
        self.assertTrue(os.path.realpath(path).startswith(os.path.realpath(self.storage)))
        with open(path) as f:
            on_disk = f.read()
        pem = "\n".join(lines[1:]).strip()
        self.assertEqual(pem_blocks(pem), pem_blocks(on_disk))
        self.assertEqual(len(pem_blocks(pem)), 1)
        text = cert_field(pem, "-text")
        self.assertRegex(text, r"CA:TRUE")
        self.assertEqual(cert_field(pem, "-subject").replace("subject=", ""),
                         cert_field(pem, "-issuer").replace("issuer=", ""), "root not self-signed")
        self.assertNotIn("PRIVATE KEY", self.trust.stdout + self.trust.stderr)
        # The server's log points at the same root.
        self.assertIn(f"internal CA root: {lines[0].strip()}", self.srv.log())

    def test_curl_with_the_root(self):
        r = curl("--cacert", self.root_path(), "--resolve", f"localhost:{self.port}:{HOST}",
                 f"https://localhost:{self.port}/index.html")
        self.assertEqual((r.returncode, r.status), (0, 200), r)
        self.assertEqual(r.body, self.fx.files["/index.html"])
        p = curl_raw("-o", os.devnull, "-w", "%{ssl_verify_result}", "--cacert",
                     self.root_path(), "--resolve", f"localhost:{self.port}:{HOST}",
                     f"https://localhost:{self.port}/")
        self.assertEqual((p.returncode, p.stdout), (0, "0"), p.stderr)

    def test_python_ssl_with_the_root(self):
        ctx = ssl_context(self.root_path())
        r, c = tls_get(self.port, "/index.html", ctx, "localhost")
        self.assertEqual((r.status, r.body), (200, self.fx.files["/index.html"]))
        self.assertEqual(c.version, "TLSv1.3")

    def test_leaf_is_7_days_and_chains_to_root(self):
        chain = self.served_chain()
        self.assertGreaterEqual(len(chain), 2, "intermediate not sent")
        leaf = chain[0]
        self.assertIn("DNS:localhost", cert_field(leaf, "-ext", "subjectAltName"))
        dates = cert_field(leaf, "-dates")
        nb = _gmt(re.search(r"notBefore=(.+)", dates).group(1))
        na = _gmt(re.search(r"notAfter=(.+)", dates).group(1))
        now = time.time()
        self.assertLessEqual(nb, now)
        # 7 days from issue (which happened at server start), give or take clock slack and a
        # small notBefore back-dating.
        self.assertAlmostEqual(na - self.t_start, SEVEN_DAYS, delta=600)
        self.assertGreaterEqual(na - nb, SEVEN_DAYS)
        self.assertLessEqual(na - nb, SEVEN_DAYS + 3600)
        with tempfile.TemporaryDirectory() as td:
            leaf_f, inter_f = os.path.join(td, "leaf.pem"), os.path.join(td, "inter.pem")
            with open(leaf_f, "w") as f:
                f.write(leaf + "\n")
            with open(inter_f, "w") as f:
                f.write("\n".join(chain[1:]) + "\n")
            p = openssl("verify", "-CAfile", self.root_path(), "-untrusted", inter_f,
                        "-purpose", "sslserver", leaf_f, check=False)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_storage_permissions(self):
        keys = 0
        for dirpath, dirnames, filenames in os.walk(self.storage):
            mode = stat.S_IMODE(os.stat(dirpath).st_mode)
            self.assertEqual(mode, 0o700, f"{dirpath} is {mode:o}")
            for name in filenames:
                path = os.path.join(dirpath, name)
                mode = stat.S_IMODE(os.stat(path).st_mode)
                if name.endswith(".key") or "key" in name:
                    keys += 1
                    self.assertEqual(mode, 0o600, f"{path} is {mode:o}")
                self.assertFalse(mode & 0o022, f"{path} is group/other-writable ({mode:o})")
        self.assertGreaterEqual(keys, 2, f"expected root and intermediate keys under "
                                         f"{self.storage}: {list(os.walk(self.storage))}")

    def test_root_persists_across_restart(self):
        with open(self.root_path()) as f:
            before = f.read()
        fx2 = os.path.join(self.tmp, "second")
        os.makedirs(fx2, exist_ok=True)
        with open(os.path.join(fx2, "index.html"), "wb") as f:
            f.write(b"SECOND-SERVER\n")
        with TlsServer([(fx2, ["localhost"], None)], storage=self.storage) as srv2:
            r = curl("--cacert", self.root_path(), "--resolve", f"localhost:{srv2.port}:{HOST}",
                     f"https://localhost:{srv2.port}/")
            self.assertEqual((r.returncode, r.status, r.body), (0, 200, b"SECOND-SERVER\n"), r)
        with open(self.root_path()) as f:
            self.assertEqual(f.read(), before, "the root CA changed on restart")

    def test_site_without_host_covers_localhost_and_ip(self):
        root2 = os.path.join(self.tmp, "nohost")
        os.makedirs(root2, exist_ok=True)
        with open(os.path.join(root2, "index.html"), "wb") as f:
            f.write(b"NOHOST\n")
        with TlsServer([(root2, [], None)], storage=self.storage) as srv2:
            for host in ("localhost", "127.0.0.1"):
                with self.subTest(host=host):
                    args = ([] if host == HOST else
                            ["--resolve", f"{host}:{srv2.port}:{HOST}"])
                    r = curl("--cacert", self.root_path(), *args,
                             f"https://{host}:{srv2.port}/")
                    self.assertEqual((r.returncode, r.status, r.body), (0, 200, b"NOHOST\n"), r)

    def test_trust_on_fresh_storage_creates_root(self):
        fresh = os.path.join(self.tmp, "fresh-storage")
        p = run_ringlet(["trust", "--storage", fresh])
        self.assertEqual(p.returncode, 0, p.stderr)
        path = p.stdout.splitlines()[0].strip()
        path = path if os.path.isabs(path) else os.path.join(os.getcwd(), path)
        self.assertTrue(os.path.isfile(path))
        self.assertEqual(stat.S_IMODE(os.stat(fresh).st_mode), 0o700)
        # A second call prints the same root.
        p2 = run_ringlet(["trust", "--storage", fresh])
        self.assertEqual(p2.stdout, p.stdout)


if __name__ == "__main__":
    unittest.main()
