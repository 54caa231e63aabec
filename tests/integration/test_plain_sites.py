"""A config mixing TLS sites and "tls": "off" sites: on the plain listener the plain site is
served as itself while the TLS site's hosts are redirected to HTTPS, and reloading moves a site
between the two."""

import unittest
import urllib.request

from support import HOST, ReloadTestCase, free_port


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def plain_get(port: int, host: str, path: str = "/index.html"):
    opener = urllib.request.build_opener(NoRedirect)
    req = urllib.request.Request(f"http://{HOST}:{port}{path}", headers={"Host": host})
    try:
        with opener.open(req, timeout=5) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


class PlainSitesTest(ReloadTestCase):
    def test_plain_site_served_tls_site_redirected_and_reload_switches(self):
        secure_root = self.make_root("secure", {"index.html": b"secure\n"})
        plain_root = self.make_root("plain", {"index.html": b"plain\n"})
        https, http = free_port(), free_port()
        plain = {"hosts": ["plain.test"], "root": plain_root, "tls": "off"}
        self.start(self.config([self.internal(["localhost"], secure_root), plain],
                               https=https, http=http))

        status, _, body = plain_get(http, "plain.test")
        self.assertEqual((status, body), (200, b"plain\n"))
        status, headers, _ = plain_get(http, "localhost", "/x?y=1")
        self.assertEqual(status, 308)
        self.assertEqual(headers["Location"], f"https://localhost:{https}/x?y=1")
        self.assertEqual(self.body("localhost"), b"secure\n")

        # The plain site becomes a TLS site: its plain requests now go to HTTPS.
        self.reload_ok(self.config([self.internal(["localhost"], secure_root),
                                    self.internal(["plain.test"], plain_root)],
                                   https=https, http=http))
        status, headers, _ = plain_get(http, "plain.test")
        self.assertEqual(status, 308)
        self.assertEqual(headers["Location"], f"https://plain.test:{https}/index.html")


if __name__ == "__main__":
    unittest.main()
