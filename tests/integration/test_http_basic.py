"""Static-file semantics: GET/HEAD, validators, ranges, folders, 404s, path safety, encodings,
MIME types and Host-based site selection. One server (two sites) for the whole module."""

import email.utils
import os
import time
import unittest

from support import (CANARY, PASSWD_MARK, Conn, FixtureTestCase, curl, get, request_bytes,
                     wait_until)


def http_date_to_epoch(value: str) -> float:
    return email.utils.parsedate_to_datetime(value).timestamp()


class GetHeadTest(FixtureTestCase):

    def test_get_index_has_all_headers(self):
        r = get(self.port, "/", host="a.test")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.version, "HTTP/1.1")
        self.assertEqual(r.body, self.fx.files["/index.html"])
        self.assertEqual(int(r.header("content-length")), len(r.body))
        self.assertTrue(r.header("content-type", "").startswith("text/html"), r)
        self.assertTrue(r.header("server"), r)
        self.assertEqual(r.header("accept-ranges"), "bytes")
        # Date is a valid IMF-fixdate close to now.
        self.assertLess(abs(http_date_to_epoch(r.header("date")) - time.time()), 60, r)
        self.assertTrue(r.header("date").endswith(" GMT"), r)
        # Last-Modified is the file's mtime (to the second).
        mtime = os.stat(self.fx.path("index.html")).st_mtime
        self.assertLessEqual(abs(http_date_to_epoch(r.header("last-modified")) - int(mtime)), 1)
        etag = r.header("etag")
        self.assertIsNotNone(etag, r)
        self.assertFalse(etag.startswith("W/"), f"ETag should be strong: {etag}")
        self.assertRegex(etag, r'^"[^"]+"$')
        self.assertEqual(len(r.headers_named("content-length")), 1)

    def test_get_binary_file_exact_bytes(self):
        r = get(self.port, "/1k.bin")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, self.fx.files["/1k.bin"])
        self.assertEqual(r.header("content-length"), "1024")

    def test_head_same_headers_no_body(self):
        g = get(self.port, "/1k.bin")
        with Conn(self.port) as c:
            c.send(request_bytes("/1k.bin", method="HEAD"))
            h = c.read_response(head=True)
            # No body bytes may follow a HEAD response: the next request's response comes next.
            c.send(request_bytes("/index.html", headers={"Connection": "close"}))
            nxt = c.read_response()
        self.assertEqual(h.status, 200, h)
        self.assertEqual(nxt.status, 200, nxt)
        self.assertEqual(nxt.body, self.fx.files["/index.html"])
        for name in ("content-length", "content-type", "etag", "last-modified", "accept-ranges"):
            self.assertEqual(h.header(name), g.header(name), name)
        self.assertEqual(h.header("content-length"), "1024")

    def test_head_body_absent_by_close(self):
        # With Connection: close, anything after the head would show up before EOF.
        with Conn(self.port) as c:
            c.send(request_bytes("/index.html", method="HEAD", headers={"Connection": "close"}))
            h = c.read_response(head=True)
            self.assertTrue(c.wait_closed(3), "server kept the connection open")
        self.assertEqual(int(h.header("content-length")), len(self.fx.files["/index.html"]))

    def test_curl_get(self):
        r = curl(self.srv.url("/dir/page.html"))
        self.assertEqual(r.returncode, 0, r)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, self.fx.files["/dir/page.html"])

    def test_query_string_ignored_for_file_lookup(self):
        r = get(self.port, "/1k.bin?v=123&x")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, self.fx.files["/1k.bin"])

    def test_percent_encoded_path_decoded(self):
        r = get(self.port, "/%64ir/page%2Ehtml")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, self.fx.files["/dir/page.html"])

    def test_modified_file_served_fresh_within_cache_ttl(self):
        # The open-file cache may serve a stale copy for up to ~2 s, never longer.
        first = get(self.port, "/mutable.txt")
        self.assertEqual(first.body, b"version-1\n")
        p = self.fx.path("mutable.txt")
        with open(p, "wb") as f:
            f.write(b"version-2 is longer\n")
        os.utime(p, (time.time() + 5, time.time() + 5))
        t0 = time.monotonic()
        r = wait_until(lambda: (x := get(self.port, "/mutable.txt")).body ==
                       b"version-2 is longer\n" and x, timeout=4.0, interval=0.1)
        self.assertTrue(r, "modified file still served stale after 4 s")
        self.assertLess(time.monotonic() - t0, 3.5)
        self.assertEqual(r.header("content-length"), str(len(b"version-2 is longer\n")))
        self.assertNotEqual(r.header("etag"), first.header("etag"))


class ConditionalTest(FixtureTestCase):

    def test_if_none_match_304(self):
        first = get(self.port, "/1k.bin")
        etag = first.header("etag")
        r = get(self.port, "/1k.bin", headers={"If-None-Match": etag})
        self.assertEqual(r.status, 304, r)
        self.assertEqual(r.body, b"")
        self.assertEqual(r.header("etag"), etag)
        # 304 must not carry a body even though the connection stays usable.
        with Conn(self.port) as c:
            c.send(request_bytes("/1k.bin", headers={"If-None-Match": etag}))
            r1 = c.read_response()
            c.send(request_bytes("/index.html", headers={"Connection": "close"}))
            r2 = c.read_response()
        self.assertEqual(r1.status, 304, r1)
        self.assertEqual(r2.status, 200, r2)
        self.assertEqual(r2.body, self.fx.files["/index.html"])

    def test_if_none_match_list_and_star(self):
        etag = get(self.port, "/1k.bin").header("etag")
        r = get(self.port, "/1k.bin", headers={"If-None-Match": f'"nope", {etag}'})
        self.assertEqual(r.status, 304, r)
        r = get(self.port, "/1k.bin", headers={"If-None-Match": "*"})
        self.assertEqual(r.status, 304, r)

    def test_if_none_match_other_etag_200(self):
        r = get(self.port, "/1k.bin", headers={"If-None-Match": '"something-else"'})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, self.fx.files["/1k.bin"])

    def test_if_modified_since_304(self):
        lm = get(self.port, "/1k.bin").header("last-modified")
        r = get(self.port, "/1k.bin", headers={"If-Modified-Since": lm})
        self.assertEqual(r.status, 304, r)
        self.assertEqual(r.body, b"")

    def test_if_modified_since_old_date_200(self):
        r = get(self.port, "/1k.bin",
                headers={"If-Modified-Since": "Mon, 01 Jan 1990 00:00:00 GMT"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, self.fx.files["/1k.bin"])

    def test_if_none_match_takes_precedence_over_if_modified_since(self):
        lm = get(self.port, "/1k.bin").header("last-modified")
        r = get(self.port, "/1k.bin", headers={"If-None-Match": '"other"',
                                              "If-Modified-Since": lm})
        self.assertEqual(r.status, 200, r)

    def test_curl_etag_roundtrip(self):
        etag = curl(self.srv.url("/index.html")).header("etag")
        r = curl(self.srv.url("/index.html"), headers={"If-None-Match": etag})
        self.assertEqual(r.status, 304, r)
        self.assertEqual(r.body, b"")


class RangeTest(FixtureTestCase):
    SIZE = 1024

    def data(self):
        return self.fx.files["/1k.bin"]

    def test_first_ten_bytes(self):
        r = get(self.port, "/1k.bin", headers={"Range": "bytes=0-9"})
        self.assertEqual(r.status, 206, r)
        self.assertEqual(r.body, self.data()[0:10])
        self.assertEqual(r.header("content-range"), f"bytes 0-9/{self.SIZE}")
        self.assertEqual(r.header("content-length"), "10")

    def test_suffix_range(self):
        r = get(self.port, "/1k.bin", headers={"Range": "bytes=-10"})
        self.assertEqual(r.status, 206, r)
        self.assertEqual(r.body, self.data()[-10:])
        self.assertEqual(r.header("content-range"), f"bytes 1014-1023/{self.SIZE}")

    def test_open_ended_range(self):
        r = get(self.port, "/1k.bin", headers={"Range": "bytes=1000-"})
        self.assertEqual(r.status, 206, r)
        self.assertEqual(r.body, self.data()[1000:])
        self.assertEqual(r.header("content-range"), f"bytes 1000-1023/{self.SIZE}")
        self.assertEqual(r.header("content-length"), "24")

    def test_range_end_past_size_is_clamped(self):
        r = get(self.port, "/1k.bin", headers={"Range": "bytes=1020-5000"})
        self.assertEqual(r.status, 206, r)
        self.assertEqual(r.body, self.data()[1020:])
        self.assertEqual(r.header("content-range"), f"bytes 1020-1023/{self.SIZE}")

    def test_unsatisfiable_416(self):
        for spec in ("bytes=2000-3000", "bytes=1024-"):
            with self.subTest(spec=spec):
                r = get(self.port, "/1k.bin", headers={"Range": spec})
                self.assertEqual(r.status, 416, r)
                self.assertEqual(r.header("content-range"), f"bytes */{self.SIZE}")

    def test_multi_range_gives_full_200(self):
        r = get(self.port, "/1k.bin", headers={"Range": "bytes=0-1,5-6"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, self.data())
        self.assertIsNone(r.header("content-range"))

    def test_head_with_range(self):
        r = get(self.port, "/1k.bin", method="HEAD", headers={"Range": "bytes=0-9"})
        self.assertEqual(r.status, 206, r)
        self.assertEqual(r.header("content-length"), "10")
        self.assertEqual(r.body, b"")

    def test_curl_range(self):
        r = curl("-r", "100-199", self.srv.url("/1k.bin"))
        self.assertEqual(r.status, 206, r)
        self.assertEqual(r.body, self.data()[100:200])


class NotFoundAndFoldersTest(FixtureTestCase):

    def test_404_default_page(self):
        # Site B has no 404.html.
        r = get(self.port, "/does-not-exist.html", host="b.test")
        self.assertEqual(r.status, 404, r)
        self.assertIn(b"404", r.body)
        self.assertNotIn(b"CUSTOM-404-PAGE-A", r.body)
        self.assertTrue(r.header("content-type", "").startswith("text/html"), r)
        self.assertEqual(int(r.header("content-length")), len(r.body))

    def test_404_site_page(self):
        r = get(self.port, "/does-not-exist.html", host="a.test")
        self.assertEqual(r.status, 404, r)
        self.assertEqual(r.body, self.fx.files["/404.html"])
        self.assertTrue(r.header("content-type", "").startswith("text/html"), r)

    def test_head_404_has_no_body(self):
        with Conn(self.port) as c:
            c.send(request_bytes("/nope", method="HEAD", host="a.test",
                                 headers={"Connection": "close"}))
            r = c.read_response(head=True)
            self.assertTrue(c.wait_closed(3))
        self.assertEqual(r.status, 404, r)

    def test_folder_redirect(self):
        r = get(self.port, "/dir")
        self.assertEqual(r.status, 301, r)
        self.assertEqual(r.header("location"), "/dir/")

    def test_folder_redirect_keeps_query(self):
        r = get(self.port, "/dir?x=1&y=two")
        self.assertEqual(r.status, 301, r)
        self.assertEqual(r.header("location"), "/dir/?x=1&y=two")

    def test_folder_index(self):
        r = get(self.port, "/dir/")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, self.fx.files["/dir/index.html"])
        self.assertTrue(r.header("content-type", "").startswith("text/html"), r)

    def test_root_index(self):
        r = get(self.port, "/", host="a.test")
        self.assertEqual(r.body, self.fx.files["/index.html"])

    def test_folder_without_index_404(self):
        r = get(self.port, "/noindex/", host="a.test")
        self.assertEqual(r.status, 404, r)
        self.assertNotIn(b"file.txt", r.body, "folder listing must not be produced")
        # The file inside is still served.
        r = get(self.port, "/noindex/file.txt")
        self.assertEqual(r.status, 200, r)

    def test_curl_follows_folder_redirect(self):
        r = curl("-L", self.srv.url("/dir"))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, self.fx.files["/dir/index.html"])


class PathSafetyTest(FixtureTestCase):
    """Nothing outside the root is ever served: base/outside/secret.txt sits next to base/root."""

    TRAVERSALS = [
        "/../outside/secret.txt",
        "/%2e%2e/outside/secret.txt",
        "/%2E%2E/outside/secret.txt",
        "/a/%2e%2e/%2e%2e/outside/secret.txt",
        "/dir/../../outside/secret.txt",
        "/%2F../outside/secret.txt",
        "/%2f%2e%2e%2foutside%2fsecret.txt",
        "/..%2Foutside%2Fsecret.txt",
        "/.%2e/outside/secret.txt",
        "/dir/..%2F..%2Foutside/secret.txt",
        "//../outside/secret.txt",
        "/..\\outside\\secret.txt",
        "/%5C..%5Coutside%5Csecret.txt",
        "/../../../../../../../../etc/passwd",
        "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/..",
        "/%2e%2e",
        "/dir/%2e%2e/%2e%2e/root2/index.html",
        "/%00/../outside/secret.txt",
        "/dir%00/../../outside/secret.txt",
    ]

    def assert_not_leaked(self, r, what):
        self.assertNotIn(CANARY.strip(), r.body, f"{what} leaked the canary")
        self.assertNotIn(PASSWD_MARK, r.body, f"{what} leaked /etc/passwd")
        self.assertNotIn(b"SITE-B-INDEX", r.body, f"{what} leaked site B")

    def test_traversal_table(self):
        for target in self.TRAVERSALS:
            with self.subTest(target=target):
                r = get(self.port, target, host="a.test")
                self.assertIn(r.status, (400, 404), r)
                self.assert_not_leaked(r, target)

    def test_traversal_rejected_with_400(self):
        # The brief's canonical forms must be rejected outright, not just missed.
        for target in ("/../x", "/%2e%2e/x", "/a/%2e%2e/%2e%2e/x", "/%2F.."):
            with self.subTest(target=target):
                r = get(self.port, target)
                self.assertEqual(r.status, 400, r)

    def test_absolute_form_traversal(self):
        r = get(self.port, "http://a.test/../outside/secret.txt")
        self.assertIn(r.status, (400, 404), r)
        self.assert_not_leaked(r, "absolute-form")

    def test_dot_segment_inside_root_is_harmless(self):
        # dir/../1k.bin stays inside the root: either normalised and served, or rejected.
        r = get(self.port, "/dir/../1k.bin")
        self.assertIn(r.status, (200, 400), r)
        if r.status == 200:
            self.assertEqual(r.body, self.fx.files["/1k.bin"])

    def test_symlink_inside_root_served(self):
        r = get(self.port, "/link-inside.html")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, self.fx.files["/index.html"])
        r = get(self.port, "/linkdir/page.html")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, self.fx.files["/dir/page.html"])

    def test_symlink_escape_404(self):
        for target in ("/passwd-link", "/escape-link.txt", "/escape-dir/secret.txt"):
            with self.subTest(target=target):
                r = get(self.port, target)
                self.assertEqual(r.status, 404, r)
                self.assert_not_leaked(r, target)

    def test_dotfiles_404(self):
        for target in ("/.git/config", "/.env", "/.git/", "/.git", "/dir/../.env",
                       "/%2egit/config", "/%2eenv"):
            with self.subTest(target=target):
                r = get(self.port, target, host="a.test")
                self.assertIn(r.status, (400, 404) if "%" in target or ".." in target
                              else (404,), r)
                self.assertNotIn(b"GIT-CONFIG-SECRET", r.body)
                self.assertNotIn(b"DOTENV_SECRET", r.body)

    def test_dotfiles_via_curl_404(self):
        for target in ("/.git/config", "/.env"):
            with self.subTest(target=target):
                r = curl("--path-as-is", self.srv.url(target))
                self.assertEqual(r.status, 404, r)

    def test_curl_path_as_is_traversal(self):
        r = curl("--path-as-is", self.srv.url("/../outside/secret.txt"))
        self.assertEqual(r.status, 400, r)
        self.assert_not_leaked(r, "curl --path-as-is")


class EncodingTest(FixtureTestCase):

    def test_br_preferred_when_both_accepted(self):
        r = get(self.port, "/comp.txt", headers={"Accept-Encoding": "gzip, deflate, br"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("content-encoding"), "br")
        self.assertEqual(r.body, self.fx.files["/comp.txt.br"])
        self.assertIn("accept-encoding", r.header("vary", "").lower())
        self.assertTrue(r.header("content-type", "").startswith("text/plain"), r)

    def test_gzip_when_only_gzip(self):
        r = get(self.port, "/comp.txt", headers={"Accept-Encoding": "gzip"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("content-encoding"), "gzip")
        self.assertEqual(r.body, self.fx.files["/comp.txt.gz"])
        self.assertEqual(int(r.header("content-length")), len(self.fx.files["/comp.txt.gz"]))
        self.assertIn("accept-encoding", r.header("vary", "").lower())

    def test_identity_without_accept_encoding(self):
        r = get(self.port, "/comp.txt")
        self.assertEqual(r.status, 200, r)
        self.assertIsNone(r.header("content-encoding"), r)
        self.assertEqual(r.body, self.fx.files["/comp.txt"])
        self.assertIn("accept-encoding", r.header("vary", "").lower())

    def test_q_zero_excludes_encoding(self):
        r = get(self.port, "/comp.txt", headers={"Accept-Encoding": "br;q=0, gzip"})
        self.assertEqual(r.header("content-encoding"), "gzip", r)
        self.assertEqual(r.body, self.fx.files["/comp.txt.gz"])

    def test_unsupported_encoding_gives_identity(self):
        r = get(self.port, "/comp.txt", headers={"Accept-Encoding": "deflate, compress"})
        self.assertIsNone(r.header("content-encoding"), r)
        self.assertEqual(r.body, self.fx.files["/comp.txt"])

    def test_variants_have_distinct_etags(self):
        tags = {ae: get(self.port, "/comp.txt", headers={"Accept-Encoding": ae}).header("etag")
                for ae in ("identity", "gzip", "br")}
        self.assertEqual(len(set(tags.values())), 3, f"strong ETags must differ per coding: {tags}")

    def test_no_vary_without_sidecars(self):
        r = get(self.port, "/1k.bin", headers={"Accept-Encoding": "gzip, br"})
        self.assertIsNone(r.header("content-encoding"), r)
        self.assertEqual(r.body, self.fx.files["/1k.bin"])

    def test_sidecar_conditional_304(self):
        r = get(self.port, "/comp.txt", headers={"Accept-Encoding": "gzip"})
        r2 = get(self.port, "/comp.txt", headers={"Accept-Encoding": "gzip",
                                                  "If-None-Match": r.header("etag")})
        self.assertEqual(r2.status, 304, r2)

    def test_curl_sends_accept_encoding(self):
        # The sidecar bytes are fake, so curl must not decode them (no --compressed): check the
        # raw body and headers.
        r = curl(self.srv.url("/comp.txt"), headers={"Accept-Encoding": "br, gzip"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("content-encoding"), "br")
        self.assertEqual(r.body, self.fx.files["/comp.txt.br"])


class MimeTest(FixtureTestCase):

    def test_mime_types(self):
        table = {
            "/index.html": ("text/html",),
            "/style.css": ("text/css",),
            "/app.js": ("text/javascript", "application/javascript"),
            "/img.png": ("image/png",),
            "/data.json": ("application/json",),
            "/blob.zzunknown": ("application/octet-stream",),
        }
        for path, allowed in table.items():
            with self.subTest(path=path):
                r = get(self.port, path)
                self.assertEqual(r.status, 200, r)
                ctype = r.header("content-type", "")
                self.assertIn(ctype.split(";")[0].strip().lower(), allowed, r)
                self.assertEqual(r.body, self.fx.files[path])

    def test_text_types_have_charset(self):
        for path in ("/index.html", "/style.css"):
            with self.subTest(path=path):
                self.assertIn("charset=utf-8", get(self.port, path).header("content-type").lower())


class HostSelectionTest(FixtureTestCase):

    def index_of(self, host):
        r = get(self.port, "/", host=host)
        self.assertEqual(r.status, 200, r)
        return r.body

    def test_named_hosts(self):
        self.assertIn(b"SITE-A-INDEX", self.index_of("a.test"))
        self.assertIn(b"SITE-A-INDEX", self.index_of("www.a.test"))
        self.assertIn(b"SITE-B-INDEX", self.index_of("b.test"))

    def test_unknown_host_uses_first_site(self):
        self.assertIn(b"SITE-A-INDEX", self.index_of("unknown.example"))
        self.assertIn(b"SITE-A-INDEX", self.index_of(f"127.0.0.1:{self.port}"))

    def test_host_with_port_and_upper_case(self):
        self.assertIn(b"SITE-B-INDEX", self.index_of(f"b.test:{self.port}"))
        self.assertIn(b"SITE-B-INDEX", self.index_of("B.TEST"))
        self.assertIn(b"SITE-B-INDEX", self.index_of("B.Test:8080"))

    def test_host_trailing_dot(self):
        # "b.test." names the same host as "b.test" (absolute FQDN).
        self.assertIn(b"SITE-B-INDEX", self.index_of("b.test."))

    def test_sites_are_isolated(self):
        r = get(self.port, "/only-b.txt", host="b.test")
        self.assertEqual(r.status, 200, r)
        r = get(self.port, "/only-b.txt", host="a.test")
        self.assertEqual(r.status, 404, r)
        r = get(self.port, "/1k.bin", host="b.test")
        self.assertEqual(r.status, 404, r)

    def test_http10_without_host_uses_first_site(self):
        r = get(self.port, "/", host=None, version="HTTP/1.0")
        self.assertEqual(r.status, 200, r)
        self.assertIn(b"SITE-A-INDEX", r.body)

    def test_curl_resolve_picks_site(self):
        r = curl("--resolve", f"b.test:{self.port}:127.0.0.1",
                 f"http://b.test:{self.port}/")
        self.assertEqual(r.status, 200, r)
        self.assertIn(b"SITE-B-INDEX", r.body)


if __name__ == "__main__":
    unittest.main()
