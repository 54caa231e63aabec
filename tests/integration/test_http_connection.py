"""Request parsing errors, persistent connections, pipelining and the header/keep-alive timeouts."""

import socket
import time
import unittest

from support import Conn, FixtureTestCase, curl, read_all_responses, request_bytes


def head_with(*lines: str, request_line: str = "GET / HTTP/1.1") -> bytes:
    return ("\r\n".join([request_line, *lines]) + "\r\n\r\n").encode("latin-1")


class ParseErrorTest(FixtureTestCase):
    """One row per status the parser can produce. `close` says the server must close after
    answering (the request's framing can no longer be trusted)."""

    ROWS = [
        # (label, raw request, status, must close)
        ("header line without colon", head_with("Host: a", "BadHeader"), 400, True),
        ("space before colon", head_with("Host : a"), 400, True),
        ("obs-fold continuation line", head_with("Host: a", " folded: v"), 400, True),
        ("HTTP/1.1 without Host", head_with(), 400, True),
        ("two Host fields", head_with("Host: a", "Host: b"), 400, True),
        ("Content-Length not a number", head_with("Host: a", "Content-Length: abc"), 400, True),
        ("conflicting Content-Length", head_with("Host: a", "Content-Length: 1",
                                                 "Content-Length: 2"), 400, True),
        ("POST", head_with("Host: a", "Content-Length: 0", request_line="POST / HTTP/1.1"),
         405, False),
        ("PUT", head_with("Host: a", "Content-Length: 0", request_line="PUT /x HTTP/1.1"),
         405, False),
        ("DELETE", head_with("Host: a", request_line="DELETE /index.html HTTP/1.1"), 405, False),
        ("Transfer-Encoding chunked", head_with("Host: a", "Transfer-Encoding: chunked")
         + b"0\r\n\r\n", 411, True),
        ("GET with a body", head_with("Host: a", "Content-Length: 5") + b"hello", 413, True),
        ("request line over 8 KiB", head_with("Host: a", request_line="GET /" + "a" * 9000 +
                                              " HTTP/1.1"), 414, True),
        ("101 header fields", head_with("Host: a", *[f"X-H{i}: v" for i in range(100)]),
         431, True),
        ("header block over 64 KiB", head_with("Host: a", "X-Big: " + "b" * (64 * 1024)),
         431, True),
        ("unknown method BREW", head_with("Host: a", request_line="BREW / HTTP/1.1"), 501, True),
        ("lower-case method", head_with("Host: a", request_line="get / HTTP/1.1"), 501, True),
        ("HTTP/2.0 request line", head_with("Host: a", request_line="GET / HTTP/2.0"),
         505, True),
    ]

    def test_error_table(self):
        for label, raw, status, must_close in self.ROWS:
            with self.subTest(label=label, status=status):
                with Conn(self.port) as c:
                    c.send(raw)
                    r = c.read_response()
                    self.assertEqual(r.status, status, r)
                    self.assertEqual(int(r.header("content-length", "-1")), len(r.body), r)
                    if status == 405:
                        self.assertEqual(r.header("allow"), "GET, HEAD", r)
                    if must_close:
                        self.assertTrue(c.wait_closed(3), f"{label}: connection left open")
                    self.assertNotIn(b"SITE-A-INDEX", r.body)

    def test_each_status_code_covered(self):
        self.assertEqual({row[2] for row in self.ROWS},
                         {400, 405, 411, 413, 414, 431, 501, 505})

    def test_405_keeps_connection_usable(self):
        with Conn(self.port) as c:
            c.send(head_with("Host: a", "Content-Length: 0", request_line="POST / HTTP/1.1"))
            r = c.read_response()
            self.assertEqual(r.status, 405, r)
            if r.header("connection", "").lower() != "close":
                c.send(request_bytes("/1k.bin", headers={"Connection": "close"}))
                r2 = c.read_response()
                self.assertEqual(r2.status, 200, r2)
                self.assertEqual(r2.body, self.fx.files["/1k.bin"])

    def test_limits_are_not_off_by_much(self):
        # Just under the limits is accepted: a 7 KiB request line and 99 extra fields.
        r = read_all_responses(self.port, head_with(
            "Host: a", "Connection: close",
            request_line="GET /1k.bin?" + "q" * (7 * 1024) + " HTTP/1.1"))[0]
        self.assertEqual([x.status for x in r], [200])
        r = read_all_responses(self.port, head_with(
            "Host: a", "Connection: close", *[f"X-H{i}: v" for i in range(90)]))[0]
        self.assertEqual([x.status for x in r], [200])

    def test_error_after_good_request_on_same_connection(self):
        data = request_bytes("/1k.bin") + head_with("Host: a", request_line="BREW / HTTP/1.1")
        responses, rest = read_all_responses(self.port, data)
        self.assertEqual([r.status for r in responses], [200, 501])
        self.assertEqual(responses[0].body, self.fx.files["/1k.bin"])
        self.assertEqual(rest, b"")

    def test_server_still_healthy_after_errors(self):
        for _ in range(3):
            for _label, raw, _status, _close in self.ROWS:
                with Conn(self.port) as c:
                    c.send(raw)
                    c.read_response()
        r = read_all_responses(self.port, request_bytes("/", headers={"Connection": "close"}))
        self.assertEqual([x.status for x in r[0]], [200])


class PersistenceTest(FixtureTestCase):

    def test_pipelined_requests_answered_in_order(self):
        data = (request_bytes("/1k.bin") + request_bytes("/index.html", method="HEAD") +
                request_bytes("/dir/") + request_bytes("/nope") +
                request_bytes("/style.css", headers={"Connection": "close"}))
        responses, rest = read_all_responses(self.port, data,
                                             heads=[False, True, False, False, False])
        self.assertEqual([r.status for r in responses], [200, 200, 200, 404, 200])
        self.assertEqual(responses[0].body, self.fx.files["/1k.bin"])
        self.assertEqual(responses[1].body, b"")
        self.assertEqual(int(responses[1].header("content-length")),
                         len(self.fx.files["/index.html"]))
        self.assertEqual(responses[2].body, self.fx.files["/dir/index.html"])
        self.assertEqual(responses[3].body, self.fx.files["/404.html"])
        self.assertEqual(responses[4].body, self.fx.files["/style.css"])
        self.assertEqual(rest, b"")

    def test_two_pipelined_requests_one_write(self):
        with Conn(self.port) as c:
            c.send(request_bytes("/dir/page.html") + request_bytes("/1k.bin"))
            a = c.read_response()
            b = c.read_response()
            self.assertTrue(c.is_open(0.2), "keep-alive connection closed after pipeline")
        self.assertEqual((a.status, a.body), (200, self.fx.files["/dir/page.html"]))
        self.assertEqual((b.status, b.body), (200, self.fx.files["/1k.bin"]))

    def test_many_pipelined_requests(self):
        paths = ["/1k.bin", "/index.html", "/data.json", "/app.js"] * 16
        data = b"".join(request_bytes(p) for p in paths) + request_bytes(
            "/img.png", headers={"Connection": "close"})
        responses, _ = read_all_responses(self.port, data, timeout=10)
        self.assertEqual(len(responses), len(paths) + 1)
        for p, r in zip(paths + ["/img.png"], responses):
            self.assertEqual(r.status, 200, (p, r))
            self.assertEqual(r.body, self.fx.files[p], p)

    def test_keepalive_reuse_raw_socket(self):
        with Conn(self.port) as c:
            for path in ("/1k.bin", "/index.html", "/dir/", "/nope", "/data.json"):
                c.send(request_bytes(path))
                r = c.read_response()
                self.assertIn(r.status, (200, 404), r)
                self.assertNotEqual(r.header("connection", "").lower(), "close", r)
            self.assertTrue(c.is_open(0.3), "server closed an HTTP/1.1 keep-alive connection")

    def test_keepalive_reuse_curl(self):
        r = curl("-v", self.srv.url("/1k.bin"), self.srv.url("/index.html"))
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(len(r.all_heads), 2, r)
        self.assertRegex(r.stderr, r"Re-using existing connection|Reusing existing connection")
        self.assertNotIn("Closing connection 0", r.stderr.split("Re-using")[0])

    def test_http10_closes_by_default(self):
        with Conn(self.port) as c:
            c.send(request_bytes("/1k.bin", version="HTTP/1.0"))
            r = c.read_response()
            self.assertTrue(c.wait_closed(3), "HTTP/1.0 connection without keep-alive stayed open")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, self.fx.files["/1k.bin"])
        self.assertNotEqual(r.header("connection", "").lower(), "keep-alive")

    def test_http10_keepalive_opt_in(self):
        with Conn(self.port) as c:
            c.send(request_bytes("/1k.bin", version="HTTP/1.0",
                                 headers={"Connection": "keep-alive"}))
            r = c.read_response()
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.header("connection", "").lower(), "keep-alive", r)
            self.assertTrue(c.is_open(0.3))
            c.send(request_bytes("/index.html", version="HTTP/1.0"))
            r2 = c.read_response()
            self.assertEqual(r2.body, self.fx.files["/index.html"])
            self.assertTrue(c.wait_closed(3))

    def test_connection_close_honoured(self):
        with Conn(self.port) as c:
            c.send(request_bytes("/1k.bin", headers={"Connection": "close"}))
            r = c.read_response()
            self.assertTrue(c.wait_closed(3), "server ignored Connection: close")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("connection", "").lower(), "close")

    def test_connection_close_stops_pipeline(self):
        data = request_bytes("/1k.bin", headers={"Connection": "close"}) + request_bytes("/")
        responses, rest = read_all_responses(self.port, data)
        self.assertEqual([r.status for r in responses], [200])
        self.assertEqual(rest, b"")

    def test_request_split_into_tiny_writes(self):
        raw = request_bytes("/dir/page.html", headers={"Connection": "close",
                                                       "User-Agent": "x" * 40})
        with Conn(self.port) as c:
            for i in range(0, len(raw), 3):
                c.send(raw[i:i + 3])
                time.sleep(0.002)
            r = c.read_response()
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, self.fx.files["/dir/page.html"])

    def test_half_close_after_request(self):
        with Conn(self.port) as c:
            c.send(request_bytes("/1k.bin"))
            c.sock.shutdown(socket.SHUT_WR)
            r = c.read_response()
            self.assertTrue(c.wait_closed(3))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, self.fx.files["/1k.bin"])

    def test_many_concurrent_connections(self):
        conns = [Conn(self.port) for _ in range(40)]
        try:
            for c in conns:
                c.send(request_bytes("/1k.bin"))
            for c in conns:
                r = c.read_response()
                self.assertEqual(r.body, self.fx.files["/1k.bin"])
        finally:
            for c in conns:
                c.close()


class TimeoutTest(FixtureTestCase):
    SERVER_KW = {"header_timeout": 1, "keepalive_timeout": 1}

    def setUp(self):
        # Touch both reactors first, so each test exercises its own timeout rather than the
        # first-connection-after-idle behaviour (which test_first_connections_after_idle_period
        # covers on its own).
        for _ in range(4):
            try:
                read_all_responses(self.port, request_bytes("/", headers={"Connection": "close"}))
            except (OSError, AssertionError):
                pass

    def test_slowloris_gets_408_and_close(self):
        t0 = time.monotonic()
        with Conn(self.port, timeout=5) as c:
            c.send("GET / HTTP/1.1\r\nHost: a\r\n")
            i = 0
            # Keep trickling header fields; each arrives well within 1 s of the previous one,
            # so only a whole-head deadline stops this.
            while not c.readable(0.25):
                self.assertLess(time.monotonic() - t0, 4, "no 408 while trickling a head")
                try:
                    c.send(f"X-Slow-{i}: y\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    break
                i += 1
            r = c.read_response(timeout=3)
            self.assertEqual(r.status, 408, r)
            self.assertTrue(c.wait_closed(3), "connection left open after 408")
        elapsed = time.monotonic() - t0
        self.assertGreater(elapsed, 0.7, "408 came before the header timeout")
        self.assertLess(elapsed, 3.0, "408/close took too long")
        self.assertGreater(i, 2)

    def test_partial_head_then_silence(self):
        t0 = time.monotonic()
        with Conn(self.port, timeout=5) as c:
            c.send("GET /index.html HTTP/1.1\r\nHo")
            r = c.read_response(timeout=4)
            self.assertEqual(r.status, 408, r)
            self.assertTrue(c.wait_closed(3))
        self.assertLess(time.monotonic() - t0, 3.0)

    def test_silent_connection_is_closed(self):
        t0 = time.monotonic()
        with Conn(self.port, timeout=5) as c:
            data = c.read_until_close(4)
        self.assertLess(time.monotonic() - t0, 3.0)
        # Closing silently or with a 408 are both fine; anything else is not.
        if data:
            self.assertRegex(data, rb"^HTTP/1\.1 408 ")

    def test_idle_keepalive_closed(self):
        with Conn(self.port, timeout=5) as c:
            c.send(request_bytes("/1k.bin"))
            r = c.read_response()
            self.assertEqual(r.status, 200, r)
            t0 = time.monotonic()
            self.assertTrue(c.wait_closed(4), "idle keep-alive connection never closed")
            elapsed = time.monotonic() - t0
        self.assertGreater(elapsed, 0.5, "closed long before --keepalive-timeout")
        self.assertLess(elapsed, 3.0)

    def test_activity_resets_keepalive_timer(self):
        with Conn(self.port, timeout=5) as c:
            for _ in range(4):
                c.send(request_bytes("/index.html"))
                r = c.read_response()
                self.assertEqual(r.status, 200, r)
                time.sleep(0.5)  # 4 x 0.5 s > 1 s total, but never 1 s idle
            c.send(request_bytes("/1k.bin", headers={"Connection": "close"}))
            self.assertEqual(c.read_response().body, self.fx.files["/1k.bin"])

    def test_first_connections_after_idle_period_served(self):
        # Every reactor has been idle for longer than --header-timeout; the next connections
        # (enough to reach both reactors) must still be answered, not dropped.
        time.sleep(1.5)
        for i in range(4):
            with self.subTest(connection=i):
                responses, _ = read_all_responses(
                    self.port, request_bytes("/1k.bin", headers={"Connection": "close"}))
                self.assertEqual([r.status for r in responses], [200],
                                 "connection closed without a response")

    def test_curl_after_idle_period(self):
        time.sleep(1.5)
        for i in range(3):
            with self.subTest(request=i):
                r = curl(self.srv.url("/index.html"))
                self.assertEqual((r.returncode, r.status), (0, 200), r)

    def test_fast_requests_unaffected(self):
        r = read_all_responses(self.port, request_bytes("/", headers={"Connection": "close"}))[0]
        self.assertEqual([x.status for x in r], [200])


if __name__ == "__main__":
    unittest.main()
