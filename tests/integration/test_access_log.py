"""The access log: one line per response in the combined format plus host and duration,
written in batches (never a write per request) but within a fraction of a second, and complete
after a graceful stop."""

import http.client
import os
import re
import tempfile
import time
import unittest

from support import Server, curl

LINE = re.compile(
    r'^(?P<addr>\S+) - - \[(?P<when>[^\]]+)\] "(?P<req>[^"]*)" (?P<status>\d{3}) (?P<bytes>\d+) '
    r'"(?P<ref>[^"]*)" "(?P<ua>[^"]*)" (?P<host>\S+) (?P<us>\d+)us$')


class AccessLogTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory(prefix="ringlet-access-")
        self.addCleanup(self.dir.cleanup)
        self.root = os.path.join(self.dir.name, "root")
        os.makedirs(self.root)
        with open(os.path.join(self.root, "a.txt"), "wb") as f:
            f.write(b"x" * 1234)
        self.log = os.path.join(self.dir.name, "access.log")

    def lines(self):
        with open(self.log) as f:
            return [l.rstrip("\n") for l in f if l.strip()]

    def wait_for_lines(self, n, timeout=3.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if os.path.exists(self.log) and len(self.lines()) >= n:
                return self.lines()
            time.sleep(0.05)
        return self.lines() if os.path.exists(self.log) else []

    def test_each_response_gets_one_line_with_status_bytes_and_quoted_headers(self):
        with Server([(self.root, ["a.test"])], extra=["--access-log", self.log]) as srv:
            url = f"http://127.0.0.1:{srv.port}"
            curl(f"{url}/a.txt", "-H", "Host: a.test", "-A", 'agent "quoted"', "-e", "http://ref/")
            curl(f"{url}/missing", "-H", "Host: a.test")
            lines = self.wait_for_lines(2)
        self.assertEqual(len(lines), 2, lines)
        first, second = (LINE.match(l) for l in lines)
        self.assertIsNotNone(first, lines[0])
        self.assertIsNotNone(second, lines[1])
        self.assertEqual(first["addr"], "127.0.0.1")
        self.assertEqual(first["req"], "GET /a.txt HTTP/1.1")
        self.assertEqual((first["status"], first["bytes"]), ("200", "1234"))
        self.assertEqual(first["ref"], "http://ref/")
        self.assertEqual(first["ua"], r"agent \x22quoted\x22")  # no raw quote breaks the line
        self.assertEqual(first["host"], "a.test")
        self.assertEqual(second["status"], "404")

    def test_lines_are_batched_but_none_is_lost_by_a_graceful_stop(self):
        with Server([(self.root, [])], extra=["--access-log", self.log]) as srv:
            conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
            for _ in range(200):  # one keep-alive connection
                conn.request("GET", "/a.txt")
                r = conn.getresponse()
                self.assertEqual((r.status, len(r.read())), (200, 1234))
            conn.close()
        # The server has stopped (SIGTERM): everything it served is in the log.
        lines = self.lines()
        self.assertEqual(len(lines), 200)
        self.assertTrue(all(LINE.match(l) for l in lines))

    def test_off_by_default(self):
        with Server([(self.root, [])]) as srv:
            curl(f"http://127.0.0.1:{srv.port}/a.txt")
            time.sleep(0.3)
            self.assertNotIn('"GET /a.txt HTTP/1.1"', srv.log())


if __name__ == "__main__":
    unittest.main()
