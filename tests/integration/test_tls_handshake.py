"""TLS handshakes: certificate selection by SNI, ALPN, session resumption across reactors,
Python's ssl module as a client, malformed ClientHellos, and certificate startup errors.

The PKI (root CA -> intermediate -> leaves) is made with the openssl CLI per test class; see
support.make_pki and support.TlsFixtureTestCase for the three sites."""

import os
import random
import socket
import ssl
import struct
import tempfile
import time
import unittest

from support import (HOST, Conn, ConnectionClosed, SClient, TlsConn, TlsFixtureTestCase,
                     TlsServer, alert_record, cert_cn, cert_field, client_hello,
                     client_hello_body, ext, ext_sni, handshake, make_pki, records,
                     request_bytes, run_ringlet, s_client, tls_get)

REQUEST = b"GET /index.html HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n"


class SniTest(TlsFixtureTestCase):

    def hello(self, *args: str) -> SClient:
        s = s_client(self.port, "-CAfile", self.pki.root, *args)
        self.assertEqual(s.returncode, 0, s)
        self.assertEqual(s.field(r"Verify return code: (\d+)"), "0", s)
        return s

    def test_each_site_gets_its_own_certificate(self):
        for name, want in (("a.test", "a.test"), ("www.a.test", "a.test"), ("b.test", "b.test")):
            with self.subTest(sni=name):
                s = self.hello("-servername", name, "-verify_hostname", name,
                               "-verify_return_error")
                self.assertEqual(s.leaf_cn, want, s)

    def test_key_types(self):
        a = self.hello("-servername", "a.test")
        self.assertIn("Server public key is 256 bit", a.out)
        self.assertIn("id-ecPublicKey", cert_field(a.certs[0], "-text"))
        b = self.hello("-servername", "b.test")
        self.assertIn("Server public key is 2048 bit", b.out)
        self.assertIn("rsaEncryption", cert_field(b.certs[0], "-text"))

    def test_rsa_site_over_tls12(self):
        s = self.hello("-servername", "b.test", "-tls1_2")
        self.assertEqual(s.protocol, "TLSv1.2", s)
        self.assertEqual(s.leaf_cn, "b.test")
        self.assertRegex(s.out, r"Cipher is ECDHE-RSA-")

    def test_ecdsa_site_over_tls12(self):
        s = self.hello("-servername", "a.test", "-tls1_2")
        self.assertEqual(s.protocol, "TLSv1.2", s)
        self.assertRegex(s.out, r"Cipher is ECDHE-ECDSA-")

    def test_sni_is_case_insensitive(self):
        s = self.hello("-servername", "B.Test")
        self.assertEqual(s.leaf_cn, "b.test", s)

    def test_wildcard_matches_one_label(self):
        for name in ("x.example.test", "some-host.example.test"):
            with self.subTest(sni=name):
                s = self.hello("-servername", name, "-verify_hostname", name,
                               "-verify_return_error")
                self.assertEqual(s.leaf_cn, "*.example.test", s)

    def test_wildcard_does_not_match_apex_or_two_labels(self):
        for name in ("example.test", "a.b.example.test"):
            with self.subTest(sni=name):
                s = self.hello("-servername", name)
                self.assertEqual(s.leaf_cn, "a.test", s)

    def test_unknown_sni_gets_default(self):
        s = self.hello("-servername", "unknown.test")
        self.assertEqual(s.leaf_cn, "a.test", s)

    def test_no_sni_gets_default(self):
        s = self.hello("-noservername")
        self.assertEqual(s.leaf_cn, "a.test", s)

    def test_chain_is_leaf_plus_intermediate(self):
        s = self.hello("-servername", "b.test", "-showcerts")
        certs = s.certs
        self.assertEqual(len(certs), 2, s)
        self.assertEqual(cert_cn(certs[0]), "b.test")
        self.assertEqual(cert_cn(certs[1]), "ringlet test intermediate CA")

    def test_sni_and_host_route_to_the_site(self):
        ctx = self.ssl_ctx()
        for sni in ("a.test", "www.a.test", "b.test"):
            with self.subTest(sni=sni):
                r, c = tls_get(self.port, "/", ctx, sni)
                self.assertEqual(r.status, 200, r)
                self.assertEqual(r.body, self.site_file(sni, "/index.html"))

    def test_wildcard_site_serves_its_own_root(self):
        """A request to x.example.test is answered with the *.example.test certificate, so it
        must also get the *.example.test site's files (not the default site's)."""
        r, c = tls_get(self.port, "/", self.ssl_ctx(), "x.example.test")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, self.site_file("x.example.test", "/index.html"))


class AlpnTest(TlsFixtureTestCase):

    def test_http11_negotiated(self):
        for offer in ("http/1.1", "h2,http/1.1", "spdy/3,http/1.1,h2"):
            with self.subTest(offer=offer):
                s = s_client(self.port, "-servername", "a.test", "-alpn", offer)
                self.assertEqual(s.returncode, 0, s)
                self.assertEqual(s.alpn, "http/1.1", s)

    def test_http11_negotiated_tls12(self):
        s = s_client(self.port, "-servername", "a.test", "-alpn", "h2,http/1.1", "-tls1_2")
        self.assertEqual(s.returncode, 0, s)
        self.assertEqual(s.protocol, "TLSv1.2", s)
        self.assertEqual(s.alpn, "http/1.1", s)

    def test_no_alpn_is_fine(self):
        s = s_client(self.port, "-servername", "a.test", send=REQUEST)
        self.assertEqual(s.returncode, 0, s)
        self.assertIn("No ALPN negotiated", s.out)
        self.assertIn("HTTP/1.1 200", s.stdout)

    def test_h2_only_fails(self):
        s = s_client(self.port, "-servername", "a.test", "-alpn", "h2")
        self.assertNotEqual(s.returncode, 0, s)
        self.assertIsNone(s.alpn, s)
        self.assertRegex(s.out, r"no application protocol|alert number 120", s)
        self.assert_serving()

    def test_h2_only_raw_alert(self):
        """The exact answer: a fatal no_application_protocol alert, then close."""
        with Conn(self.port, timeout=3) as c:
            c.send(client_hello(alpn=[b"h2", b"spdy/3"]))
            self.assertEqual(c.read_until_close(3), alert_record(120))
        self.assert_serving()

    def test_python_client_without_http11(self):
        ctx = self.ssl_ctx(alpn=["h2"])
        with self.assertRaises((ssl.SSLError, ConnectionError)):
            tls_get(self.port, "/", ctx, "a.test")
        self.assert_serving()


class SessionResumptionTest(TlsFixtureTestCase):
    # Two reactors, each with its own SO_REUSEPORT listener: the kernel spreads the resumed
    # connections over both, so every one is resumed whichever reactor issued the ticket
    # (P(all 8 on one reactor) < 1 %).
    SERVER_KW = {"workers": 2}
    RESUMPTIONS = 8

    def resume(self, *version: str):
        sess = os.path.join(self.tmp, f"sess{''.join(version)}.pem")
        first = s_client(self.port, "-servername", "a.test", "-CAfile", self.pki.root,
                         "-sess_out", sess, *version, send=REQUEST)
        self.assertEqual(first.returncode, 0, first)
        self.assertTrue(first.new, first)
        self.assertIn("HTTP/1.1 200", first.stdout)
        self.assertGreater(os.path.getsize(sess), 0, "no session saved")
        want = "TLSv1.3" if "-tls1_3" in version else "TLSv1.2"
        self.assertEqual(first.protocol, want, first)
        for i in range(self.RESUMPTIONS):
            with self.subTest(connection=i):
                s = s_client(self.port, "-servername", "a.test", "-CAfile", self.pki.root,
                             "-sess_in", sess, *version, send=REQUEST)
                self.assertEqual(s.returncode, 0, s)
                self.assertTrue(s.reused, s)
                self.assertEqual(s.protocol, want, s)
                self.assertIn("HTTP/1.1 200", s.stdout)
                self.assertIn(self.fx.files["/index.html"].decode(), s.stdout)

    def test_resume_tls13(self):
        self.resume("-tls1_3")

    def test_resume_tls12(self):
        self.resume("-tls1_2")

    def test_fresh_connection_is_not_resumed(self):
        s = s_client(self.port, "-servername", "a.test", send=REQUEST)
        self.assertTrue(s.new, s)
        self.assertFalse(s.reused, s)

    def test_python_ssl_resumption(self):
        for maxv in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
            with self.subTest(max_version=maxv.name):
                ctx = self.ssl_ctx(max_version=maxv)
                r, c = tls_get(self.port, "/index.html", ctx, "a.test")
                self.assertEqual(r.status, 200)
                self.assertFalse(c.session_reused)
                self.assertIsNotNone(c.session, "no session/ticket received")
                session = c.session
                for i in range(self.RESUMPTIONS):
                    r, c = tls_get(self.port, "/index.html", ctx, "a.test", session=session)
                    self.assertEqual((r.status, r.body), (200, self.fx.files["/index.html"]))
                    self.assertTrue(c.session_reused, f"connection {i} not resumed")
                    self.assertEqual(c.version, maxv.name.replace("_", "."))
                    session = c.session or session


    def test_ticket_is_not_accepted_for_another_server_name(self):
        """RFC 6066 3: a server MUST NOT resume a session when the server_name differs; it does
        a full handshake (with the certificate for the new name) instead."""
        for maxv in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
            with self.subTest(max_version=maxv.name):
                ctx = self.ssl_ctx(max_version=maxv)
                r, c = tls_get(self.port, "/", ctx, "a.test")
                self.assertIsNotNone(c.session)
                r, c = tls_get(self.port, "/", ctx, "b.test", session=c.session)
                self.assertEqual(r.body, self.site_file("b.test", "/index.html"))
                self.assertFalse(c.session_reused,
                                 "a.test's session was resumed for SNI b.test (the client was "
                                 f"shown certificate {c.peer_cert['subject']})")
                self.assertIn((("commonName", "b.test"),), c.peer_cert["subject"])


class PythonSslClientTest(TlsFixtureTestCase):

    def test_tls13_get(self):
        r, c = tls_get(self.port, "/index.html", self.ssl_ctx(), "a.test")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, self.fx.files["/index.html"])
        self.assertEqual(c.version, "TLSv1.3")
        self.assertEqual(c.alpn, "http/1.1")
        self.assertIn((("commonName", "a.test"),), c.peer_cert["subject"])

    def test_tls12_get(self):
        ctx = self.ssl_ctx(max_version=ssl.TLSVersion.TLSv1_2)
        r, c = tls_get(self.port, "/1k.bin", ctx, "www.a.test")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, self.fx.files["/1k.bin"])
        self.assertEqual(c.version, "TLSv1.2")
        self.assertEqual(c.alpn, "http/1.1")
        self.assertIn("ECDHE-ECDSA", c.cipher[0])

    def test_tls12_rsa_site(self):
        ctx = self.ssl_ctx(max_version=ssl.TLSVersion.TLSv1_2)
        r, c = tls_get(self.port, "/only-b.txt", ctx, "b.test")
        self.assertEqual((r.status, r.body), (200, self.site_file("b.test", "/only-b.txt")))
        self.assertEqual(c.version, "TLSv1.2")
        self.assertIn("ECDHE-RSA", c.cipher[0])

    def test_peer_certificate(self):
        raw = socket.create_connection((HOST, self.port), timeout=5)
        with self.ssl_ctx().wrap_socket(raw, server_hostname="b.test") as s:
            cert = s.getpeercert()
        self.assertIn((("commonName", "b.test"),), cert["subject"])
        self.assertIn(("DNS", "b.test"), cert["subjectAltName"])

    def test_hostname_mismatch_is_rejected_by_client(self):
        # unknown.test gets the default (a.test) certificate, which a verifying client refuses.
        with self.assertRaises(ssl.SSLCertVerificationError):
            tls_get(self.port, "/", self.ssl_ctx(), "unknown.test")
        self.assert_serving()

    def test_keepalive_and_pipelining_over_tls(self):
        c = TlsConn(self.port, self.ssl_ctx(), "a.test")
        with c:
            for path in ("/index.html", "/1k.bin"):
                c.send(request_bytes(path, host="a.test"))
                r = c.read_response()
                self.assertEqual((r.status, r.body), (200, self.fx.files[path]))
            paths = ["/style.css", "/data.json", "/dir/page.html"]
            c.send(b"".join(request_bytes(p, host="a.test") for p in paths))
            for p in paths:
                r = c.read_response()
                self.assertEqual((r.status, r.body), (200, self.fx.files[p]), p)
            c.send(request_bytes("/missing", host="a.test", headers={"Connection": "close"}))
            self.assertEqual(c.read_response().status, 404)
            self.assertTrue(c.wait_closed(3))

    def test_tls_close_notify_then_server_still_serves(self):
        raw = socket.create_connection((HOST, self.port), timeout=5)
        s = self.ssl_ctx().wrap_socket(raw, server_hostname="a.test")
        plain = s.unwrap()  # send close_notify and wait for the server's
        plain.close()
        self.assert_serving()


# -----------------------------------------------------------------------------------------------
# Malformed first flights: each must end in a close (after an alert record where the server
# has one), and the server must keep serving.

def _sslv2_hello(msg_type: int = 1) -> bytes:
    ciphers = bytes.fromhex("0700c0" "050080" "030080" "010080" "060040" "040080" "020080")
    body = (bytes([msg_type]) + b"\x03\x01" + struct.pack(">HHH", len(ciphers), 0, 16)
            + ciphers + bytes(range(16)))
    assert len(body) == 0x2E
    return bytes([0x80, len(body)]) + body


def _random_bytes() -> bytes:
    rnd = random.Random(0x5eed)
    data = bytes(rnd.randrange(256) for _ in range(300))
    return b"\x3c" + data[1:]  # not 22 (handshake) and no high bit (SSLv2)


def _ch(**kw) -> bytes:
    return client_hello_body(**kw)


MALFORMED = [
    # name, bytes, half-close after sending, expected reply (b"" = just close)
    ("random bytes", _random_bytes(), False, b""),
    ("plain HTTP", b"GET / HTTP/1.1\r\nHost: a.test\r\n\r\n", False, b""),
    ("PROXY protocol header", b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n", False, b""),
    ("truncated ClientHello then EOF", client_hello()[:90], True, b""),
    ("record header only then EOF", client_hello()[:5], True, b""),
    ("ALPN protocol name of length 0",
     records(handshake(1, _ch(alpn=[b"", b"http/1.1"]))), False, alert_record(50)),
    ("ALPN name length past the list",
     records(handshake(1, _ch(extra=[ext(16, struct.pack(">H", 9) + b"\x09http/1.1")]))),
     False, alert_record(50)),
    ("empty ALPN list",
     records(handshake(1, _ch(extra=[ext(16, b"\x00\x00")]))), False, alert_record(50)),
    ("hello body declared > 16 KiB",
     records(handshake(1, b"\x03\x03" + os.urandom(64), declared_len=16 * 1024 + 1)),
     False, alert_record(47)),
    ("20 KiB hello over two records",
     records(handshake(1, _ch(pad_to=20 * 1024))), False, alert_record(47)),
    ("record longer than 16384", b"\x16\x03\x01\x40\x01\x01\x00\x40\x00", False,
     alert_record(22)),
    ("zero-length record", b"\x16\x03\x01\x00\x00", False, alert_record(50)),
    ("first message not a ClientHello", records(handshake(2, _ch())), False,
     alert_record(10)),
    ("record version 3.5", b"\x16\x03\x05" + client_hello()[3:], False, alert_record(70)),
    ("record major version 2", b"\x16\x02\x00" + client_hello()[3:], False, b""),
    ("legacy_version SSL 3.0", records(handshake(1, _ch(legacy_version=0x0300))), False,
     alert_record(70)),
    ("duplicate extension", records(handshake(1, _ch(extra=[ext_sni("a.test")]))), False,
     alert_record(47)),
    ("SNI with a space", records(handshake(1, _ch(sni=b"a .test"))), False, alert_record(47)),
    ("SNI host_name of length 0", records(handshake(1, _ch(sni=b""))), False,
     alert_record(50)),
    ("extensions overrun the body",
     records(handshake(1, _ch(sni=None) + b"\x00\x10\x00\x05ab")), False, alert_record(50)),
    ("SSLv2 CLIENT-HELLO (80 2e 01 03 01 ...)", _sslv2_hello(), False, alert_record(70)),
    ("SSLv2-framed non-hello", _sslv2_hello(msg_type=2), False, b""),
    ("application data first", b"\x17\x03\x03\x00\x05hello", False, b""),
]


class MalformedHelloTest(TlsFixtureTestCase):

    def test_valid_hand_built_hello_gets_server_hello(self):
        """Control: the hand-built hello the malformed rows start from is accepted."""
        for name, data in (("one record", client_hello(sni="a.test", alpn=[b"http/1.1"])),
                           ("fragmented over 3 records",
                            records(handshake(1, _ch(alpn=[b"http/1.1"])), max_fragment=70))):
            with self.subTest(name):
                with Conn(self.port, timeout=3) as c:
                    c.send(data)
                    head = c.read_exact(6)
                    # 22 = handshake record, 3 = TLS, ..., 2 = ServerHello
                    self.assertEqual((head[0], head[1], head[5]), (22, 3, 2), head)

    def test_hello_in_slow_pieces(self):
        """The hello reader reassembles a ClientHello that arrives over several reads."""
        ch = client_hello(alpn=[b"http/1.1"])
        with Conn(self.port, timeout=3) as c:
            for i in range(0, len(ch), 40):
                c.send(ch[i:i + 40])
                time.sleep(0.03)
            head = c.read_exact(6)
        self.assertEqual((head[0], head[5]), (22, 2), head)

    def test_hello_fragmented_into_tiny_records(self):
        """RFC 8446 5.1 lets a handshake message span records of any non-zero size, including
        ones that split the 4-byte handshake header; the reassembled hello must be answered."""
        for frag in (1, 2, 3):
            with self.subTest(record_size=frag):
                data = records(handshake(1, _ch(alpn=[b"http/1.1"])), max_fragment=frag)
                with Conn(self.port, timeout=3) as c:
                    c.send(data)
                    try:
                        got = c.read_exact(6)
                    except ConnectionClosed:
                        got = bytes(c.buf)
                self.assertEqual((got[:1], got[5:6]), (b"\x16", b"\x02"),
                                 f"no ServerHello for a hello in {frag}-byte records: {got!r}")
        self.assert_serving()

    def test_malformed_inputs_close_and_server_keeps_serving(self):
        for name, data, half_close, want in MALFORMED:
            with self.subTest(name):
                with Conn(self.port, timeout=5) as c:
                    c.send(data)
                    if half_close:
                        c.sock.shutdown(socket.SHUT_WR)
                    got = c.read_until_close(4)
                self.assertEqual(got, want, f"{name}: want {want!r}, got {got[:64]!r}")
                self.assert_serving()
        self.assert_serving("b.test")

    def test_abrupt_close_mid_hello(self):
        for cut in (1, 5, 40, 120):
            with Conn(self.port) as c:
                c.send(client_hello()[:cut])
            # and with an RST
            s = socket.create_connection((HOST, self.port), timeout=3)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.sendall(client_hello()[:cut])
            s.close()
        self.assert_serving()

    def test_silent_clients_do_not_block_others(self):
        silent = [Conn(self.port) for _ in range(20)]
        partial = [Conn(self.port) for _ in range(20)]
        try:
            for c in partial:
                c.send(client_hello()[:50])
            for _ in range(3):
                self.assert_serving()
            for c in silent + partial:
                self.assertTrue(c.is_open(0.05), "closed long before the handshake deadline")
        finally:
            for c in silent + partial:
                c.close()

    def test_garbage_after_handshake_closes(self):
        """Bytes that are not TLS records after a completed handshake: the connection ends."""
        c = TlsConn(self.port, self.ssl_ctx(), "a.test")
        with c:
            c.sock.sendall(request_bytes("/index.html", host="a.test"))
            self.assertEqual(c.read_response().status, 200)
            # Write junk under the TLS layer, straight to the socket.
            os.write(c.sock.fileno(), b"\x00" * 64 + b"NOT A TLS RECORD\r\n")
            try:
                r = c.read_response(timeout=3)
                self.fail(f"got a response after junk: {r!r}")
            except TimeoutError:
                self.fail("connection still open 3 s after junk records")
            except (ssl.SSLError, ConnectionError, ConnectionClosed):
                pass
        self.assert_serving()


# -----------------------------------------------------------------------------------------------
# Certificate startup errors.

class CertStartupErrorTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        tmp = tempfile.TemporaryDirectory(prefix="ringlet-tls-err-")
        cls.addClassCleanup(tmp.cleanup)
        cls.tmp = tmp.name
        cls.pki = make_pki(os.path.join(tmp.name, "pki"))
        cls.pki.issue_dated("expired", ["a.test"], "20200101000000Z", "20200201000000Z")
        cls.pki.issue_dated("future", ["a.test"], "20990101000000Z", "20991231000000Z")
        cls.root = os.path.join(tmp.name, "root")
        os.makedirs(cls.root)
        with open(os.path.join(cls.root, "index.html"), "w") as f:
            f.write("x\n")

    def run_serve(self, site_args: list[str]):
        storage = os.path.join(self.tmp, "storage")
        p = run_ringlet(["serve", "--root", self.root] + site_args +
                        ["--listen", f"{HOST}:0", "--http-listen", f"{HOST}:0",
                         "--storage", storage, "--workers", "1"], timeout=8)
        self.assertGreaterEqual(p.returncode, 0, f"killed by signal {-p.returncode}")
        for word in ("Aborted", "Segmentation", "terminate called", "core dumped"):
            self.assertNotIn(word, p.stderr)
        self.assertNotIn("listening on", p.stderr)
        return p

    def write(self, name: str, data: bytes) -> str:
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def test_sanity_valid_cert_starts(self):
        """Control: with the matching pair the same command line would serve."""
        with TlsServer([(self.root, ["a.test"], self.pki["a"])]) as srv:
            self.assertTrue(srv.port)

    def test_key_does_not_match_cert(self):
        a, wild, b = self.pki["a"], self.pki["wild"], self.pki["b"]
        for label, key in (("other EC key", wild.key), ("RSA key for EC cert", b.key)):
            with self.subTest(label):
                p = self.run_serve(["--host", "a.test", "--cert", a.chain, "--key", key])
                self.assertEqual(p.returncode, 1, p.stderr)
                self.assertIn(key, p.stderr)
        p = self.run_serve(["--host", "b.test", "--cert", b.chain, "--key", a.key])
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn(a.key, p.stderr)

    def test_cert_does_not_cover_host(self):
        a = self.pki["a"]
        p = self.run_serve(["--host", "a.test", "--host", "c.test", "--cert", a.chain,
                            "--key", a.key])
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn(a.chain, p.stderr)
        self.assertIn("c.test", p.stderr)
        w = self.pki["wild"]
        for host in ("example.test", "a.b.example.test"):
            with self.subTest(host=host):
                p = self.run_serve(["--host", host, "--cert", w.chain, "--key", w.key])
                self.assertEqual(p.returncode, 1, p.stderr)
                self.assertIn(w.chain, p.stderr)
                self.assertIn(host, p.stderr)

    def test_expired_cert(self):
        e = self.pki["expired"]
        with open(e.cert) as f:
            self.assertIn("notAfter=Feb  1 00:00:00 2020 GMT", cert_field(f.read(), "-enddate"))
        p = self.run_serve(["--host", "a.test", "--cert", e.chain, "--key", e.key])
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn(e.chain, p.stderr)
        self.assertIn("expired", p.stderr)

    def test_not_yet_valid_cert(self):
        f = self.pki["future"]
        p = self.run_serve(["--host", "a.test", "--cert", f.chain, "--key", f.key])
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn(f.chain, p.stderr)
        self.assertIn("not valid yet", p.stderr)

    def test_cert_without_key_is_usage_error(self):
        a = self.pki["a"]
        for args in (["--cert", a.chain], ["--key", a.key]):
            with self.subTest(args=args):
                p = self.run_serve(["--host", "a.test"] + args)
                self.assertEqual(p.returncode, 2, p.stderr)
                self.assertRegex(p.stderr, r"--cert and --key")

    def test_missing_or_broken_files(self):
        a = self.pki["a"]
        missing = os.path.join(self.tmp, "no-such.pem")
        garbage = self.write("garbage.pem", b"this is not PEM\n")
        empty_key = self.write("empty.key", b"")
        bad_pem = self.write("bad.pem", b"-----BEGIN CERTIFICATE-----\nnot base64!!\n"
                                        b"-----END CERTIFICATE-----\n")
        with open(a.cert) as f1, open(self.pki.inter) as f2:
            out_of_order = self.write("out-of-order.pem", (f2.read() + f1.read()).encode())
        for label, cert, key, named in (("missing cert", missing, a.key, missing),
                                        ("missing key", a.chain, missing, missing),
                                        ("not PEM", garbage, a.key, garbage),
                                        ("broken PEM", bad_pem, a.key, bad_pem),
                                        ("empty key", a.chain, empty_key, empty_key),
                                        ("chain out of order", out_of_order, a.key,
                                         out_of_order)):
            with self.subTest(label):
                p = self.run_serve(["--host", "a.test", "--cert", cert, "--key", key])
                self.assertEqual(p.returncode, 1, p.stderr)
                self.assertIn(named, p.stderr)


if __name__ == "__main__":
    unittest.main()
