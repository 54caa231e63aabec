"""Config reload (SIGUSR1 through `ringlet reload`): a site's root, adding and removing sites and
listeners, rejected configs that change nothing, internal-CA leaves kept across reloads, manual
certificate files re-read, a response in flight finishing on its own generation, `ringlet reload`
without --config, and `ringlet validate`'s exact messages.

Every test starts its own `ringlet serve --config FILE --pidfile P` (support.ConfigServer) with a
config in its own folder; load and graceful stop are in test_reload_load.py."""

import hashlib
import json
import os
import re
import shutil
import socket
import ssl
import tempfile
import threading
import time
import unittest

from support import (HOST, ReloadTestCase, Server, TlsConn, cert_cn, cert_field,
                     connect_refused, curl, exchange, free_port, get, listening_inodes,
                     request_bytes, run_ringlet, serial_of, wait_until, write_config)

ONE = b"<p>SITE-ONE generation one</p>\n"
TWO = b"<p>SITE-TWO generation two, a different length</p>\n"
A_BODY = b"<p>A-TEST manual certificate site</p>\n"
B_BODY = b"<p>B-TEST added by a reload</p>\n"


def read_text(path: str) -> str:
    with open(path) as f:
        return f.read()


def keepalive_get(conn: TlsConn, path: str, host: str):
    conn.send(request_bytes(path, host=host))
    return conn.read_response()


class RootChangeTest(ReloadTestCase):

    def test_reload_changes_the_root(self):
        self.make_root("one", {"index.html": ONE, "only-one.txt": b"1\n"})
        self.make_root("two", {"index.html": TWO, "only-two.txt": b"2\n"})
        port = free_port()
        # Relative roots: resolved against the config file's folder.
        cfg = self.config([self.internal(["localhost"], "one")], https=port)
        srv = self.start(cfg)
        self.assertEqual(srv.port, port)
        self.assertRegex(srv.status(), r"^seq=0 ok generation=1 ")
        self.assertEqual(self.body("localhost"), ONE)
        # A kept-alive connection from before the reload.
        with TlsConn(port, self.ctx(), "localhost") as ka:
            self.assertEqual(keepalive_get(ka, "/index.html", "localhost").body, ONE)
            cfg["sites"][0]["root"] = "two"
            self.assertEqual(self.reload_ok(cfg), 2)
            # New connections and the next request on the old connection: the new root.
            self.assertEqual(self.body("localhost"), TWO)
            r = keepalive_get(ka, "/index.html", "localhost")
            self.assertEqual((r.status, r.body), (200, TWO), r)
            self.assertEqual(keepalive_get(ka, "/only-one.txt", "localhost").status, 404)
            self.assertEqual(keepalive_get(ka, "/only-two.txt", "localhost").body, b"2\n")
        self.assertEqual(self.fetch("localhost", "/only-one.txt").status, 404)
        # Over curl too, trusting only the internal root.
        r = curl("--cacert", self.internal_root, "--resolve", f"localhost:{port}:{HOST}",
                 f"https://localhost:{port}/index.html")
        self.assertEqual((r.returncode, r.status, r.body), (0, 200, TWO), r)
        # And back again.
        cfg["sites"][0]["root"] = "one"
        self.assertEqual(self.reload_ok(cfg), 3)
        self.assertEqual(self.body("localhost"), ONE)
        self.assertIn("reload: generation 3", srv.log())

    def test_response_in_flight_finishes_on_its_generation(self):
        size = 24 << 20
        big1, big2 = os.urandom(size), os.urandom(size)
        self.make_root("one", {"index.html": ONE, "big.bin": big1})
        self.make_root("two", {"index.html": TWO, "big.bin": big2})
        port = free_port()
        cfg = self.config([self.internal(["localhost"], "one")], https=port)
        self.start(cfg)
        with TlsConn(port, self.ctx(), "localhost", timeout=20) as slow:
            slow.send(request_bytes("/big.bin", host="localhost"))
            # Only the head and the first 256 KiB: the server is left with most of the file
            # still to send (far more than the socket buffers hold) while generations change.
            deadline = time.monotonic() + 10
            while slow.buf.find(b"\r\n\r\n") < 0 and slow._fill(deadline):
                pass
            head_end = slow.buf.find(b"\r\n\r\n")
            self.assertGreaterEqual(head_end, 0, bytes(slow.buf[:300]))
            head = bytes(slow.buf[:head_end]).decode("latin-1")
            del slow.buf[:head_end + 4]
            self.assertRegex(head, r"^HTTP/1\.1 200 ")
            self.assertRegex(head, rf"(?mi)^content-length: {size}\r?$")
            first = slow.read_exact(256 << 10)
            # Three reloads: generation 1 is the oldest by far; other requests churn fds.
            for root in ("two", "one", "two"):
                cfg["sites"][0]["root"] = root
                self.reload_ok(cfg)
                self.assertEqual(self.body("localhost"), ONE if root == "one" else TWO)
            r = self.fetch("localhost", "/big.bin")
            self.assertEqual(hashlib.sha256(r.body).hexdigest(),
                             hashlib.sha256(big2).hexdigest(), "new request: not the new root")
            rest = slow.read_exact(size - len(first), timeout=30)
            self.assertEqual(hashlib.sha256(first + rest).hexdigest(),
                             hashlib.sha256(big1).hexdigest(),
                             "the response in flight changed content across the reload")
            # The next request on that connection sees the newest generation.
            r = keepalive_get(slow, "/index.html", "localhost")
            self.assertEqual((r.status, r.body), (200, TWO), r)


class SitesTest(ReloadTestCase):

    def test_reload_adds_and_removes_sites(self):
        main = self.make_root("main", {"index.html": ONE})
        a = self.make_root("a", {"index.html": A_BODY})
        b = self.make_root("b", {"index.html": B_BODY})
        leaf_a = self.pki["a"]
        port = free_port()
        gen1 = self.config([self.internal(["localhost"], main),
                            self.manual(["a.test", "www.a.test"], a, leaf_a.chain, leaf_a.key)],
                           https=port)
        srv = self.start(gen1)
        local_leaf = self.leaf("localhost")
        self.assertEqual(cert_cn(local_leaf), "localhost")
        a_serial = serial_of(read_text(leaf_a.cert))
        self.assertEqual(serial_of(self.leaf("a.test")), a_serial)
        self.assertEqual(self.body("a.test"), A_BODY)
        # b.test is unknown: the first site's certificate and content.
        self.assertEqual(serial_of(self.leaf("b.test")), serial_of(local_leaf))
        self.assertEqual(self.body("b.test", sni="localhost"), ONE)

        with TlsConn(port, self.ctx(), "localhost") as ka:
            self.assertEqual(keepalive_get(ka, "/index.html", "b.test").body, ONE)
            gen2 = self.config([self.internal(["localhost"], main), self.internal(["b.test"], b)],
                               https=port)
            self.assertEqual(self.reload_ok(gen2), 2)
            # The kept-alive connection's next request already sees the new site.
            self.assertEqual(keepalive_get(ka, "/index.html", "b.test").body, B_BODY)
            self.assertEqual(keepalive_get(ka, "/index.html", "a.test").body, ONE)

        # b.test: its own internal-CA leaf (verified for the name by Python's ssl) and content.
        self.assertEqual(self.body("b.test"), B_BODY)
        b_leaf = self.leaf("b.test")
        self.assertEqual(cert_cn(b_leaf), "b.test")
        self.assertIn("DNS:b.test", cert_field(b_leaf, "-ext", "subjectAltName"))
        self.assertNotEqual(serial_of(b_leaf), serial_of(local_leaf))
        self.assertRegex(srv.log(), r"internal CA issued a certificate for b\.test")
        # a.test is gone: no longer its certificate, and the default site's content.
        self.assertEqual(serial_of(self.leaf("a.test")), serial_of(local_leaf))
        self.assertEqual(self.body("a.test", sni="localhost"), ONE)
        self.assertEqual(self.body("www.a.test", sni="localhost"), ONE)
        # localhost kept its leaf.
        self.assertEqual(self.leaf("localhost"), local_leaf)

        # Removing b.test again and bringing a.test back.
        self.assertEqual(self.reload_ok(gen1), 3)
        self.assertEqual(self.body("a.test"), A_BODY)
        self.assertEqual(serial_of(self.leaf("a.test")), a_serial)
        self.assertEqual(self.body("b.test", sni="localhost"), ONE)
        self.assertEqual(serial_of(self.leaf("b.test")), serial_of(local_leaf))


class ListenersTest(ReloadTestCase):

    def redirect_location(self, http_port: int) -> str:
        r = exchange(http_port, request_bytes("/x?y", host="localhost",
                                              headers={"Connection": "close"}))
        self.assertEqual(r.status, 308, r)
        return r.header("location")

    def test_reload_adds_and_removes_listeners(self):
        self.make_root("one", {"index.html": ONE})
        p1, p2, h1, h2 = (free_port() for _ in range(4))
        site = [self.internal(["localhost"], "one")]
        gen1 = self.config(site, https=p1, http=h1)
        gen2 = self.config(site, https=p1, http=h2)
        srv = self.start(gen1)
        pid = srv.proc.pid
        inodes = listening_inodes(pid, p1)
        self.assertEqual(len(inodes), 2, "one SO_REUSEPORT listener per reactor expected")
        self.assertEqual(self.redirect_location(h1), f"https://localhost:{p1}/x?y")
        self.assertTrue(connect_refused(h2))

        # Something keeps connecting to the unchanged HTTPS port all through the reloads.
        stop = threading.Event()
        outcomes = {"ok": 0, "refused": 0, "other": []}

        def hammer():
            while not stop.is_set():
                try:
                    with socket.create_connection((HOST, p1), timeout=2):
                        outcomes["ok"] += 1
                except ConnectionRefusedError:
                    outcomes["refused"] += 1
                except OSError as e:
                    outcomes["other"].append(repr(e))

        with TlsConn(p1, self.ctx(), "localhost") as ka:
            self.assertEqual(keepalive_get(ka, "/index.html", "localhost").body, ONE)
            t = threading.Thread(target=hammer, daemon=True)
            t.start()
            try:
                p = None
                for i in range(10):
                    cfg = gen2 if i % 2 == 0 else gen1
                    write_config(self.config_path, cfg)
                    p = srv.reload()
                    self.assertEqual(p.returncode, 0, p)
                # Last one was gen1 -> ... : finish on gen2 and check what it reports.
                write_config(self.config_path, gen2)
                p = srv.reload()
                self.assertEqual(p.returncode, 0, p)
                self.assertIn(f"+listener http://127.0.0.1:{h2}", p.stdout)
                self.assertIn(f"-listener http://127.0.0.1:{h1}", p.stdout)
                self.assertNotIn(f"listener https://127.0.0.1:{p1}", p.stdout)
            finally:
                stop.set()
                t.join(10)
            self.assertEqual((outcomes["refused"], outcomes["other"]), (0, []),
                             f"the unchanged listener refused connections during reloads: "
                             f"{outcomes}")
            self.assertGreater(outcomes["ok"], 10)
            # The unchanged listener is the very same sockets, and the old connection works.
            self.assertEqual(listening_inodes(pid, p1), inodes)
            r = keepalive_get(ka, "/index.html", "localhost")
            self.assertEqual((r.status, r.body), (200, ONE), r)

        # The added port answers; the removed one refuses within a second.
        self.assertEqual(self.redirect_location(h2), f"https://localhost:{p1}/x?y")
        self.assertTrue(wait_until(lambda: connect_refused(h1), 1.0),
                        f"removed listener {h1} still accepts")
        self.assertEqual(listening_inodes(pid, h1), set())
        self.assertEqual(len(listening_inodes(pid, h2)), 2)

        # Moving HTTPS: the new port serves, the old refuses, the redirect points at the new one.
        gen3 = self.config(site, https=p2, http=h2)
        self.reload_ok(gen3)
        self.assertEqual(self.body("localhost", port=p2), ONE)
        self.assertTrue(wait_until(lambda: connect_refused(p1), 1.0),
                        f"removed HTTPS listener {p1} still accepts")
        self.assertEqual(self.redirect_location(h2), f"https://localhost:{p2}/x?y")

        # "off" closes the plain listener; naming it again reopens it.
        self.reload_ok(self.config(site, https=p2, http="off"))
        self.assertTrue(wait_until(lambda: connect_refused(h2), 1.0))
        self.assertEqual(self.body("localhost", port=p2), ONE)
        self.reload_ok(self.config(site, https=p2, http=h1))
        self.assertEqual(self.redirect_location(h1), f"https://localhost:{p2}/x?y")


class RejectedConfigTest(ReloadTestCase):
    """Each broken config would also change a root, add a site and add a listener if it were
    applied, so a half-applied one shows."""

    def setUp(self):
        super().setUp()
        self.make_root("one", {"index.html": ONE})
        self.make_root("two", {"index.html": TWO})
        self.make_root("a", {"index.html": A_BODY})
        self.make_root("b", {"index.html": B_BODY})
        # The manual certificate lives in the test folder (so it could be changed under us).
        self.a_cert = shutil.copy(self.pki["a"].chain, os.path.join(self.dir, "a.chain.pem"))
        self.a_key = shutil.copy(self.pki["a"].key, os.path.join(self.dir, "a.key"))
        self.port, self.http, self.http2 = free_port(), free_port(), free_port()
        self.good = self.config([self.internal(["localhost"], "one"),
                                 self.manual(["a.test"], "a", self.a_cert, self.a_key)],
                                https=self.port, http=self.http)
        self.start(self.good)
        self.baseline = self.snapshot()

    def changed(self) -> dict:
        """A valid config that differs from `good` everywhere it can."""
        return self.config([self.internal(["localhost"], "two"),
                            self.manual(["a.test"], "a", self.a_cert, self.a_key),
                            self.internal(["b.test"], "b")],
                           https=self.port, http=self.http2)

    def snapshot(self) -> dict:
        loc = exchange(self.http, request_bytes("/", host="localhost",
                                                headers={"Connection": "close"}))
        return {
            "localhost": self.body("localhost"),
            "a.test": self.body("a.test"),
            "b.test": self.body("b.test", sni="localhost"),
            "leaf localhost": self.leaf("localhost"),
            "leaf a.test": self.leaf("a.test"),
            "leaf b.test": serial_of(self.leaf("b.test")),
            "redirect": (loc.status, loc.header("location")),
            "http2 refused": connect_refused(self.http2),
        }

    def assert_unchanged(self):
        self.assertEqual(self.snapshot(), self.baseline)
        self.assertEqual(self.srv.generation(), 1)
        self.assertEqual(self.baseline["localhost"], ONE)
        self.assertEqual(self.baseline["b.test"], ONE)
        self.assertTrue(self.baseline["http2 refused"])

    def test_invalid_json(self):
        text = json.dumps(self.changed(), indent=2)
        broken = text.rstrip()[:-1]  # without the closing brace
        err = self.reload_rejected(broken)
        self.assertRegex(err, rf"^{re.escape(self.config_path)}:\d+:\d+: expected ", err)
        self.assertIn("end of the file", err)
        self.assert_unchanged()

    def test_unknown_key(self):
        cfg = self.changed()
        cfg["sites"][2]["rooot"] = "b"
        err = self.reload_rejected(cfg)
        self.assertRegex(err, rf"^{re.escape(self.config_path)}:\d+:\d+: unknown key \"rooot\" "
                              rf"in sites\[2\] \(did you mean \"root\"\?\)\n$")
        self.assert_unchanged()

    def test_missing_cert_file(self):
        cfg = self.changed()
        missing = os.path.join(self.dir, "missing.crt")
        cfg["sites"][1]["tls"]["cert"] = missing
        err = self.reload_rejected(cfg)
        self.assertRegex(err, rf"^{re.escape(self.config_path)}:\d+:\d+: sites\[1\]\.tls\.cert: "
                              rf"{re.escape(missing)}: No such file or directory\n$")
        self.assert_unchanged()

    def test_key_does_not_match(self):
        for label in ("wild", "b"):  # another EC P-256 key, and an RSA key
            with self.subTest(key=label):
                cfg = self.changed()
                cfg["sites"][1]["tls"]["key"] = self.pki[label].key
                err = self.reload_rejected(cfg)
                self.assertRegex(err, rf"^{re.escape(self.config_path)}:\d+:\d+: "
                                      rf"sites\[1\]\.tls\.key: {re.escape(self.pki[label].key)}: ")
                self.assertIn("does not match", err)
                self.assert_unchanged()

    def test_cert_file_replaced_by_a_mismatching_one(self):
        # The config is unchanged but the certificate file on disk now belongs to another key:
        # the re-read finds it and the old certificate keeps being served.
        shutil.copy(self.pki["wild"].chain, self.a_cert)
        err = self.reload_rejected(self.good)
        self.assertRegex(err, r"sites\[1\]\.tls\.(cert|key): ")
        self.assertIn(self.a_cert, err)
        self.assertIn("does not match", err)
        self.assert_unchanged()

    def test_missing_root(self):
        cfg = self.changed()
        cfg["sites"][2]["root"] = "nope"
        err = self.reload_rejected(cfg)
        self.assertEqual(err, f"{self.config_path}:{self.position(cfg, 'nope')}: sites[2].root: "
                              f"{os.path.join(self.dir, 'nope')}: No such file or directory\n")
        self.assert_unchanged()

    def position(self, cfg: dict, value: str) -> str:
        """LINE:COL of the JSON string `value` in the config as write_config wrote it."""
        text = read_text(self.config_path)
        i = text.index(f'"{value}"')
        line = text.count("\n", 0, i) + 1
        return f"{line}:{i - (text.rfind(chr(10), 0, i) + 1) + 1}"

    def test_several_errors_one_per_line(self):
        cfg = self.changed()
        cfg["sites"][0]["hosts"] = ["localhost", "b.test"]
        cfg["sites"][1]["tls"]["issuer"] = "internal"
        err = self.reload_rejected(cfg)
        f = re.escape(self.config_path)
        lines = err.splitlines()
        self.assertEqual(len(lines), 2, err)
        self.assertRegex(lines[0], rf"^{f}:\d+:\d+: sites\[1\]\.tls: expected either \"issuer\" "
                                   rf"or \"cert\" and \"key\", found both$")
        self.assertRegex(lines[1], rf"^{f}:\d+:\d+: sites\[2\]\.hosts\[0\]: \"b\.test\" is "
                                   rf"already served by sites\[0\]$")
        self.assert_unchanged()

    def test_then_a_good_config_applies(self):
        self.reload_rejected("{")
        self.assert_unchanged()
        self.assertEqual(self.reload_ok(self.changed()), 2)
        self.assertEqual(self.body("localhost"), TWO)
        self.assertEqual(self.body("b.test"), B_BODY)
        self.assertEqual(self.leaf("localhost"), self.baseline["leaf localhost"])
        r = exchange(self.http2, request_bytes("/", host="localhost",
                                               headers={"Connection": "close"}))
        self.assertEqual(r.status, 308, r)
        self.assertTrue(wait_until(lambda: connect_refused(self.http), 1.0))

    def test_taken_port(self):
        # Only the new listener fails (the config itself is valid): still nothing may change.
        with socket.socket() as taken:
            taken.bind((HOST, 0))
            taken.listen()
            cfg = self.changed()
            cfg["listen"]["http"] = f"{HOST}:{taken.getsockname()[1]}"
            write_config(self.config_path, cfg)
            p = self.srv.reload()
            self.assertEqual(p.returncode, 1, p)
            self.assertIn(f"cannot listen on {HOST}:{taken.getsockname()[1]}: Address already "
                          f"in use", p.stderr)
            self.assert_unchanged()
            # The documented form of a rejection, as for every other error.
            self.assertTrue(p.stderr.startswith("reload failed generation=1 new config rejected, "
                                                "still serving generation 1: "), p.stderr)


    def test_taken_port_does_not_change_the_log_level(self):
        # A valid config asking for log level "off" whose new listener cannot be bound: it is
        # rejected, so the server must go on logging (here: the next rejection).
        with socket.socket() as taken:
            taken.bind((HOST, 0))
            taken.listen()
            cfg = self.changed()
            cfg["log"] = {"level": "off"}
            cfg["listen"]["http"] = f"{HOST}:{taken.getsockname()[1]}"
            write_config(self.config_path, cfg)
            p = self.srv.reload()
            self.assertEqual(p.returncode, 1, p)
        self.reload_rejected("{")
        self.assert_unchanged()
        log = self.srv.log()
        self.assertIn("reload failed: new config rejected, still serving generation 1: "
                      f"{self.config_path}:1:2: expected", log,
                      "the rejected config's log level was applied: the next reload's outcome "
                      "is missing from the log")
        self.assertEqual(len(re.findall(r"reload failed: ", log)), 2, log)


class ReloadedSettingsTest(ReloadTestCase):

    def test_reload_applies_the_keepalive_timeout(self):
        self.make_root("one", {"index.html": ONE})
        port = free_port()
        cfg = self.config([self.internal(["localhost"], "one")], https=port)
        self.start(cfg)
        with TlsConn(port, self.ctx(), "localhost") as c:
            self.assertEqual(keepalive_get(c, "/index.html", "localhost").body, ONE)
            self.assertFalse(c.wait_closed(1.5), "closed with the default 30 s keep-alive")
        cfg["timeouts"]["keepalive"] = 1
        self.reload_ok(cfg)
        # A connection made after the reload idles out after 1 s, as the config now says.
        with TlsConn(port, self.ctx(), "localhost") as c:
            self.assertEqual(keepalive_get(c, "/index.html", "localhost").body, ONE)
            t0 = time.monotonic()
            self.assertTrue(c.wait_closed(4), "timeouts.keepalive = 1 not applied by the reload "
                                              "(connection still open after 4 s idle)")
            self.assertLess(time.monotonic() - t0, 2.5)

    def test_keepalive_timeout_from_the_start(self):
        # Control for the test above: the same setting at startup works.
        self.make_root("one", {"index.html": ONE})
        port = free_port()
        cfg = self.config([self.internal(["localhost"], "one")], https=port)
        cfg["timeouts"]["keepalive"] = 1
        self.start(cfg)
        with TlsConn(port, self.ctx(), "localhost") as c:
            self.assertEqual(keepalive_get(c, "/index.html", "localhost").body, ONE)
            t0 = time.monotonic()
            self.assertTrue(c.wait_closed(4))
            self.assertLess(time.monotonic() - t0, 2.5)


class CertificateReuseTest(ReloadTestCase):

    def test_internal_leaf_kept_and_manual_files_reread(self):
        self.make_root("one", {"index.html": ONE})
        self.make_root("two", {"index.html": TWO})
        self.make_root("a", {"index.html": A_BODY})
        a_cert = shutil.copy(self.pki["a"].chain, os.path.join(self.dir, "a.chain.pem"))
        a_key = shutil.copy(self.pki["a"].key, os.path.join(self.dir, "a.key"))
        port = free_port()

        def cfg(root, local_hosts=("localhost",), extra=()):
            return self.config([self.internal(list(local_hosts), root),
                                self.manual(["a.test", "www.a.test"], "a", a_cert, a_key),
                                *extra], https=port)

        srv = self.start(cfg("one"))
        local1 = self.leaf("localhost")
        a1 = serial_of(self.leaf("a.test"))
        self.assertEqual(a1, serial_of(read_text(self.pki["a"].cert)))

        # Root changes and an added site: localhost keeps exactly the same leaf.
        self.reload_ok(cfg("two"))
        self.assertEqual(self.body("localhost"), TWO)
        self.assertEqual(serial_of(self.leaf("localhost")), serial_of(local1))
        self.assertEqual(self.leaf("localhost"), local1)
        self.make_root("c", {"index.html": b"C\n"})
        self.reload_ok(cfg("one", extra=[self.internal(["c.test"], "c")]))
        self.assertEqual(self.leaf("localhost"), local1)
        self.assertEqual(self.body("c.test"), b"C\n")
        self.assertEqual(len(re.findall(r"internal CA issued a certificate for localhost",
                                        srv.log())), 1, srv.log())
        # Python's ssl sees the same leaf too.
        with TlsConn(port, self.ctx(), "localhost") as c:
            der = c.sock.getpeercert(binary_form=True)
        self.assertEqual(ssl.DER_cert_to_PEM_cert(der).strip(), local1.strip())

        # The manual certificate files are re-read: a new leaf at the same paths is served.
        new = self.pki.issue("a-renewed", ["a.test", "www.a.test"])
        self.assertEqual(serial_of(self.leaf("a.test")), a1)
        shutil.copy(new.chain, a_cert)
        shutil.copy(new.key, a_key)
        self.reload_ok(cfg("one"))
        self.assertEqual(serial_of(self.leaf("a.test")), serial_of(read_text(new.cert)))
        self.assertEqual(self.body("a.test"), A_BODY)
        self.assertEqual(self.leaf("localhost"), local1)

        # Changing the site's names does need a new leaf, which covers them.
        self.reload_ok(cfg("one", local_hosts=("localhost", "www.localhost")))
        local2 = self.leaf("www.localhost")
        self.assertNotEqual(serial_of(local2), serial_of(local1))
        san = cert_field(local2, "-ext", "subjectAltName")
        self.assertIn("DNS:localhost", san)
        self.assertIn("DNS:www.localhost", san)
        self.assertEqual(self.body("www.localhost"), ONE)


class WithoutConfigTest(unittest.TestCase):

    def test_reload_without_config(self):
        with tempfile.TemporaryDirectory(prefix="ringlet-noconf-") as tmp:
            with open(os.path.join(tmp, "index.html"), "wb") as f:
                f.write(ONE)
            with Server([(tmp, ["localhost"])]) as srv:
                p = run_ringlet(["reload", "--pidfile", srv.pidfile])
                self.assertEqual(p.returncode, 1, p)
                self.assertEqual(p.stdout, "", p)
                self.assertIn("started without --config", p.stderr)
                self.assertTrue(p.stderr.startswith("reload failed generation=1 "), p.stderr)
                # Still serving.
                r = get(srv.port, "/index.html")
                self.assertEqual((r.status, r.body), (200, ONE))
                self.assertIsNone(srv.proc.poll())

    def test_control_commands_without_a_server(self):
        with tempfile.TemporaryDirectory(prefix="ringlet-nopid-") as tmp:
            pidfile = os.path.join(tmp, "none.pid")
            for cmd in ("reload", "stop"):
                p = run_ringlet([cmd, "--pidfile", pidfile])
                self.assertEqual(p.returncode, 1, p)
                self.assertEqual(p.stderr, f"ringlet {cmd}: cannot read a process id from "
                                           f"{pidfile} (is ringlet running with --pidfile?)\n")


class ValidateTest(ReloadTestCase):
    """`ringlet validate`: the exact lines it prints for broken configs."""

    def check(self, text: str, want: list[str], *, skip_ports: bool = True):
        path = write_config(os.path.join(self.dir, "broken.json"), text)
        args = ["validate", "--config", path] + (["--skip-ports"] if skip_ports else [])
        p = run_ringlet(args)
        self.assertEqual((p.returncode, p.stdout), (1, ""), p)
        want = [w.replace("{f}", path).replace("{d}", self.dir) for w in want]
        self.assertEqual(p.stderr.splitlines(), want)

    def test_error_table(self):
        os.makedirs(os.path.join(self.dir, "site"))
        site = '{"hosts": ["a.test"], "root": "site"}'
        table = {
            "trailing comma":
                ('{"sites": [' + site + '],}',
                 ["{f}:1:51: expected a key after ',', found '}' (JSON allows no comma after the "
                  "last member)"]),
            "empty file":
                ('', ["{f}:1:1: expected a JSON object, found the end of the file"]),
            "not an object":
                ('[1]', ["{f}:1:1: expected an object at the top level, found an array"]),
            "unknown key, did you mean":
                ('{"sites": [' + site + '], "wrokers": 2}',
                 ['{f}:1:52: unknown key "wrokers" at the top level (did you mean "workers"?)']),
            "key in the wrong place":
                ('{"root": "site", "sites": [' + site + ']}',
                 ['{f}:1:2: unknown key "root" at the top level ("root" goes in each entry of '
                  '"sites")']),
            "wrong type":
                ('{"workers": "two", "sites": [' + site + ']}',
                 ["{f}:1:13: workers: expected a whole number from 0 to 1024 (0: one per CPU), "
                  "found a string"]),
            "missing sites":
                ('{}', ['{f}:1:1: missing "sites" (the list of sites to serve)']),
            "missing hosts and root":
                ('{"sites": [{"root": "site"}, {"hosts": ["b.test"]}]}',
                 ['{f}:1:12: sites[0]: missing "hosts" (the host names this site answers to)',
                  '{f}:1:30: sites[1]: missing "root" (the folder to serve)']),
            "duplicate host":
                ('{"sites": [' + site + ', {"hosts": ["A.test"], "root": "site"}]}',
                 ['{f}:1:62: sites[1].hosts[0]: "A.test" is already served by sites[0]']),
            "bad host names":
                ('{"sites": [{"hosts": ["exa mple.com", "x.test:80"], "root": "site"}]}',
                 ['{f}:1:23: sites[0].hosts[0]: "exa mple.com" is not a valid host name: \' \' '
                  'is not allowed (use letters, digits, \'-\' and \'.\')',
                  '{f}:1:39: sites[0].hosts[1]: "x.test:80" is not a valid host name: \':\' is '
                  'not allowed (a host name has no port)']),
            "issuer and cert":
                ('{"sites": [{"hosts": ["a.test"], "root": "site", "tls": {"issuer": "internal", '
                 '"cert": "c.pem", "key": "k.pem"}}]}',
                 ['{f}:1:57: sites[0].tls: expected either "issuer" or "cert" and "key", found '
                  'both']),
            "cert without key":
                ('{"sites": [{"hosts": ["a.test"], "root": "site", "tls": {"cert": "c.pem"}}]}',
                 ['{f}:1:57: sites[0].tls: "cert" needs "key" (the file with the certificate\'s '
                  'private key)']),
            "issuer typo":
                ('{"sites": [{"hosts": ["a.test"], "root": "site", "tls": {"issuer": "internl"}}]}',
                 ['{f}:1:68: sites[0].tls.issuer: expected "internal" or "acme", found "internl" '
                  '(did you mean "internal"?)']),
            "bad listen address":
                ('{"listen": {"https": "localhost"}, "sites": [' + site + ']}',
                 ['{f}:1:22: listen.https: expected an address like "0.0.0.0:443" or "[::]:443", '
                  'or "off", found "localhost"']),
            "same port twice":
                ('{"listen": {"https": "127.0.0.1:9443", "http": "127.0.0.1:9443"}, "sites": ['
                 + site + ']}',
                 ['{f}:1:48: listen.http: expected a different port from listen.https, found '
                  '"127.0.0.1:9443" (the same port as "127.0.0.1:9443")']),
            "timeouts out of range":
                ('{"timeouts": {"drain": -1, "header": 0}, "sites": [' + site + ']}',
                 ["{f}:1:24: timeouts.drain: expected a number of seconds from 0 to 86400, found "
                  "-1",
                  "{f}:1:38: timeouts.header: expected a number of seconds above 0, at most "
                  "86400, found 0"]),
            "log level":
                ('{"log": {"level": "verbose"}, "sites": [' + site + ']}',
                 ['{f}:1:19: log.level: expected "debug", "info", "warn", "error" or "off", found '
                  '"verbose"']),
            "missing root folder (relative to the config)":
                ('{"sites": [{"hosts": ["a.test"], "root": "nope"}]}',
                 ["{f}:1:42: sites[0].root: {d}/nope: No such file or directory"]),
            "multi-line positions":
                ('{\n  "workers": 2000,\n  "sites": [\n    {"hosts": ["a.test"], "root": "site", '
                 '"tls": "of"}\n  ]\n}\n',
                 ["{f}:2:14: workers: expected a whole number from 0 to 1024 (0: one per CPU), "
                  "found 2000",
                  '{f}:4:50: sites[0].tls: expected "off" or an object like {"issuer": '
                  '"internal"}, found "of" (did you mean "off"?)']),
        }
        for name, (text, want) in table.items():
            with self.subTest(name):
                self.check(text, want)

    def test_certificate_errors(self):
        os.makedirs(os.path.join(self.dir, "site"))
        a, wild = self.pki["a"], self.pki["wild"]
        missing = os.path.join(self.dir, "missing.crt")

        def cfg(hosts, cert, key):
            return ('{"sites": [{"hosts": ' + str(hosts).replace("'", '"') +
                    ', "root": "site", "tls": {"cert": "' + cert + '", "key": "' + key + '"}}]}')

        prefix = len('{"sites": [{"hosts": ["a.test"], "root": "site", "tls": {"cert": ') + 1
        key_col = prefix + len(f'"{a.chain}", "key": ')
        cases = {
            "missing cert":
                (cfg(["a.test"], missing, a.key),
                 [f"{{f}}:1:{prefix}: sites[0].tls.cert: {missing}: No such file or directory"]),
            "key does not match":
                (cfg(["a.test"], a.chain, wild.key),
                 [f"{{f}}:1:{key_col}: sites[0].tls.key: {wild.key}: private key does not match "
                  f"the certificate in {a.chain}"]),
            "name not covered":
                (cfg(["b.test"], a.chain, a.key),
                 [f"{{f}}:1:{prefix}: sites[0].tls.cert: {a.chain}: the certificate does not "
                  f"cover b.test (it names a.test, www.a.test)"]),
        }
        for name, (text, want) in cases.items():
            with self.subTest(name):
                self.check(text, want)
        # And the good one.
        path = write_config(os.path.join(self.dir, "good.json"), cfg(["a.test"], a.chain, a.key))
        p = run_ringlet(["validate", "--config", path, "--skip-ports"])
        self.assertEqual((p.returncode, p.stdout, p.stderr), (0, "config OK\n", ""), p)

    def test_port_in_use(self):
        os.makedirs(os.path.join(self.dir, "site"))
        with socket.socket() as s:
            s.bind((HOST, 0))
            s.listen()
            port = s.getsockname()[1]
            text = ('{"listen": {"https": "127.0.0.1:0", "http": "127.0.0.1:' + str(port) +
                    '"}, "sites": [{"hosts": ["a.test"], "root": "site"}]}')
            self.check(text, [f"{{f}}:1:45: listen.http: 127.0.0.1:{port}: port in use"],
                       skip_ports=False)
            # --skip-ports: fine.
            p = run_ringlet(["validate", "--config", os.path.join(self.dir, "broken.json"),
                             "--skip-ports"])
            self.assertEqual((p.returncode, p.stdout), (0, "config OK\n"), p)

    def test_warning_and_ok(self):
        os.makedirs(os.path.join(self.dir, "site"))
        path = write_config(os.path.join(self.dir, "acme.json"),
                            '{"sites": [{"hosts": ["a.test", "b.test"], "root": "site", "tls": '
                            '{"issuer": "acme"}}], "listen": {"https": "127.0.0.1:0", "http": '
                            '"off"}}')
        p = run_ringlet(["validate", "--config", path])
        self.assertEqual((p.returncode, p.stdout), (0, "config OK\n"), p)
        self.assertEqual(p.stderr, f"warning: {path}:1:132: listen.http: \"off\": sites[0] can "
                                   f"answer only the tls-alpn-01 challenge (http-01 needs the "
                                   f"plain listener)\n")


if __name__ == "__main__":
    unittest.main()
