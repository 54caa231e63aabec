"""ACME against a real CA (Pebble): certificates obtained with HTTP-01 and TLS-ALPN-01 and served
without a restart, several names and sites, a CA that rejects half the nonces, reused
authorizations, Pebble's random validation delay, two processes sharing one storage folder
ordering once, a restart loading from storage, an order finalized but not downloaded picked up
again, and a CA that cannot be reached.

Each test runs its own Pebble (pebble.py) validating against this test's ringlet listeners."""

import glob
import json
import os
import re
import shutil
import tempfile
import time
import unittest

import pebble
from pebble import Pebble
from support import (HOST, ConfigServer, curl, free_port, s_client, wait_until, write_config)

BODY = b"<p>served with a certificate from an ACME CA</p>\n"


@unittest.skipUnless(pebble.AVAILABLE, pebble.SKIP_REASON)
class AcmeTestCase(unittest.TestCase):

    def setUp(self):
        super().setUp()
        tmp = tempfile.TemporaryDirectory(prefix="ringlet-acme-")
        self.addCleanup(tmp.cleanup)
        self.dir = tmp.name
        self.root = os.path.join(self.dir, "site")
        os.makedirs(self.root)
        with open(os.path.join(self.root, "index.html"), "wb") as f:
            f.write(BODY)
        self.https, self.http = free_port(), free_port()
        self.storage = os.path.join(self.dir, "storage")

    def pebble(self, **kw) -> Pebble:
        return self.enterContext(Pebble(self.http, self.https, **kw))

    def config(self, ca: Pebble, sites: list[dict], *, acme: dict | None = None,
               http: bool = True, storage: str | None = None) -> dict:
        top = {"directory": ca.directory, "trusted_roots": ca.tls_roots,
               "email": "ops@example.com"}
        top.update(acme or {})
        listen = {"https": f"{HOST}:{self.https}",
                  "http": f"{HOST}:{self.http}" if http else "off"}
        return {"storage": storage or self.storage, "workers": 2, "listen": listen,
                "acme": top, "sites": sites, "timeouts": {"drain": 2}}

    def site(self, hosts: list[str], **acme) -> dict:
        tls = {"issuer": "acme"}
        if acme:
            tls["acme"] = acme
        return {"hosts": hosts, "root": self.root, "tls": tls}

    def serve(self, cfg: dict, name: str = "ringlet.json") -> ConfigServer:
        path = write_config(os.path.join(self.dir, name), cfg)
        return self.enterContext(ConfigServer(path))

    def wait_obtained(self, srv: ConfigServer, hosts: list[str], timeout: float = 60):
        pattern = re.escape("acme: obtained the certificate for " + ", ".join(hosts))
        return srv.wait_for_log(pattern, timeout=timeout)

    def wait_published(self, srv: ConfigServer, ca: Pebble, name: str, timeout: float = 10):
        """Until the certificate served for SNI `name` verifies against Pebble's root."""
        def verified():
            s = s_client(self.https, "-servername", name, "-CAfile", ca.root,
                         "-verify_return_error", "-verify_hostname", name)
            return s if s.returncode == 0 and "Verify return code: 0 (ok)" in s.out else None
        return wait_until(verified, timeout)

    def assert_served(self, ca: Pebble, name: str):
        """The chain verifies with openssl s_client and curl, both against Pebble's root."""
        s = s_client(self.https, "-servername", name, "-CAfile", ca.root,
                     "-verify_return_error", "-verify_hostname", name)
        self.assertEqual(s.returncode, 0, s.out)
        self.assertIn("Verify return code: 0 (ok)", s.out)
        r = curl("--cacert", ca.root, "--resolve", f"{name}:{self.https}:{HOST}",
                 f"https://{name}:{self.https}/")
        self.assertEqual((r.returncode, r.status, r.body), (0, 200, BODY), r)


class ObtainTest(AcmeTestCase):

    def test_one_name_is_served_without_a_restart(self):
        ca = self.pebble()
        srv = self.serve(self.config(ca, [self.site(["a.test"])]))
        # Until the CA answers, a stand-in from the internal CA: a warning, not a dead site.
        self.assertIn("serving an internal-CA certificate until the CA issues one", srv.log())
        self.wait_obtained(srv, ["a.test"])
        self.assertTrue(self.wait_published(srv, ca, "a.test"), srv.log())
        self.assert_served(ca, "a.test")
        # Stored with private keys, folders 0700.
        certs = os.path.join(self.storage, "certificates")
        keys = [os.path.join(d, f) for d, _, fs in os.walk(certs) for f in fs if f == "key.pem"]
        self.assertTrue(keys)
        for k in keys:
            self.assertEqual(os.stat(k).st_mode & 0o777, 0o600, k)
        self.assertEqual(os.stat(certs).st_mode & 0o777, 0o700)

    def test_several_names_in_one_certificate_and_two_sites(self):
        ca = self.pebble()
        cfg = self.config(ca, [self.site(["a.test", "www.a.test"]), self.site(["b.test"])])
        srv = self.serve(cfg)
        self.wait_obtained(srv, ["a.test", "www.a.test"])
        self.wait_obtained(srv, ["b.test"])
        for name in ("a.test", "www.a.test", "b.test"):
            self.assertTrue(self.wait_published(srv, ca, name), srv.log())
            self.assert_served(ca, name)
        # One certificate for the first site: both names in its SAN.
        s = s_client(self.https, "-servername", "www.a.test", "-showcerts")
        leaf = s.certs[0]
        text = pebble.openssl("x509", "-noout", "-ext", "subjectAltName",
                              input=leaf.encode()).stdout.decode()
        self.assertIn("DNS:a.test", text)
        self.assertIn("DNS:www.a.test", text)

    def test_http_01_only(self):
        ca = self.pebble()
        srv = self.serve(self.config(ca, [self.site(["h.test"], challenges=["http-01"])]))
        self.wait_obtained(srv, ["h.test"])
        self.assertIn("(http-01)", srv.log())
        self.assertNotIn("tls-alpn-01", srv.log())
        self.assertTrue(self.wait_published(srv, ca, "h.test"), srv.log())
        self.assert_served(ca, "h.test")

    def test_tls_alpn_01_only_without_a_plain_listener(self):
        ca = self.pebble()
        cfg = self.config(ca, [self.site(["t.test"], challenges=["tls-alpn-01"])], http=False)
        srv = self.serve(cfg)
        self.wait_obtained(srv, ["t.test"])
        self.assertIn("answered a tls-alpn-01 validation for t.test", srv.log())
        self.assertTrue(self.wait_published(srv, ca, "t.test"), srv.log())
        self.assert_served(ca, "t.test")
        # After the order, acme-tls/1 gets no certificate at all (never the site's own).
        s = s_client(self.https, "-servername", "t.test", "-alpn", "acme-tls/1")
        self.assertNotEqual(s.returncode, 0, s.out)

    def test_challenge_answers_are_only_for_pending_tokens(self):
        ca = self.pebble()
        srv = self.serve(self.config(ca, [self.site(["a.test"])]))
        self.wait_obtained(srv, ["a.test"])
        # Unknown token on the plain listener: 404 (not the redirect to HTTPS).
        r = curl("--resolve", f"a.test:{self.http}:{HOST}",
                 f"http://a.test:{self.http}/.well-known/acme-challenge/unknown-token")
        self.assertEqual(r.status, 404, r)
        r = curl("--resolve", f"a.test:{self.http}:{HOST}", f"http://a.test:{self.http}/x")
        self.assertEqual(r.status, 308, r)


class FlakyCaTest(AcmeTestCase):

    def test_half_the_nonces_rejected(self):
        ca = self.pebble(env={"PEBBLE_WFE_NONCEREJECT": "50"})
        cfg = self.config(ca, [self.site(["n.test"])])
        cfg["log"] = {"level": "debug"}
        srv = self.serve(cfg)
        self.wait_obtained(srv, ["n.test"])
        self.assertTrue(self.wait_published(srv, ca, "n.test"), srv.log())
        self.assert_served(ca, "n.test")
        # About 15 signed requests, each rejected with probability 1/2: retries happened.
        self.assertIn("badNonce, retrying", srv.log())

    def test_authorizations_reused(self):
        ca = self.pebble(env={"PEBBLE_AUTHZREUSE": "100"})
        srv = self.serve(self.config(ca, [self.site(["r.test"])]))
        self.wait_obtained(srv, ["r.test"])
        srv.stop()
        # A new storage folder but the same account key: the valid authorization is reused,
        # so the second order needs no challenge at all.
        other = os.path.join(self.dir, "storage2")
        os.makedirs(os.path.join(other, "accounts"), mode=0o700)
        import shutil
        shutil.copytree(os.path.join(self.storage, "accounts"), os.path.join(other, "accounts"),
                        dirs_exist_ok=True)
        srv2 = self.serve(self.config(ca, [self.site(["r.test"])], storage=other), "two.json")
        self.wait_obtained(srv2, ["r.test"])
        self.assertNotIn("acme-challenge", srv2.log())
        self.assertTrue(self.wait_published(srv2, ca, "r.test"), srv2.log())

    def test_random_validation_delay(self):
        ca = self.pebble(nosleep=False)
        srv = self.serve(self.config(ca, [self.site(["slow.test"])]))
        self.wait_obtained(srv, ["slow.test"], timeout=120)
        self.assertTrue(self.wait_published(srv, ca, "slow.test"), srv.log())

    def test_unreachable_ca_keeps_the_site_up_and_says_why(self):
        ca = self.pebble()
        cfg = self.config(ca, [self.site(["down.test"])],
                          acme={"directory": f"https://{HOST}:{free_port()}/dir"})
        srv = self.serve(cfg)
        m = srv.wait_for_log(r"acme: could not obtain a certificate for down\.test "
                             r"\(attempt 1, next in \d+ s\): (.*)", timeout=20)
        self.assertRegex(m.group(1), r"ACME directory https://127\.0\.0\.1:\d+/dir: connect to "
                                     r"127\.0\.0\.1:\d+: Connection refused")
        # Still served (with the internal stand-in).
        s = s_client(self.https, "-servername", "down.test")
        self.assertEqual(s.returncode, 0, s.out)


class AccountAndChainTest(AcmeTestCase):

    KID = "kid-ringlet"
    HMAC = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"

    def test_external_account_binding(self):
        ca = self.pebble(eab={self.KID: self.HMAC})
        cfg = self.config(ca, [self.site(["eab.test"])],
                          acme={"eab": {"key_id": self.KID, "hmac_key": self.HMAC}})
        srv = self.serve(cfg)
        self.wait_obtained(srv, ["eab.test"])
        self.assertTrue(self.wait_published(srv, ca, "eab.test"), srv.log())

    def test_missing_external_account_binding_is_named(self):
        ca = self.pebble(eab={self.KID: self.HMAC})
        srv = self.serve(self.config(ca, [self.site(["eab.test"])]))
        srv.wait_for_log(r"could not obtain a certificate for eab\.test .*requires external "
                         r"account binding: set acme\.eab", timeout=20)

    def test_preferred_chain_picks_the_alternate_root(self):
        ca = self.pebble(env={"PEBBLE_ALTERNATE_ROOTS": "1"})
        alternate = ca.root_file(1)
        cn = pebble.openssl("x509", "-noout", "-subject", "-nameopt", "multiline", "-in",
                            alternate).stdout.decode()
        name = re.search(r"commonName\s*=\s*(.+)", cn).group(1).strip()
        srv = self.serve(self.config(ca, [self.site(["chain.test"], preferred_chain=name)]))
        self.wait_obtained(srv, ["chain.test"])
        def verifies(root):
            s = s_client(self.https, "-servername", "chain.test", "-CAfile", root,
                         "-verify_return_error")
            return s.returncode == 0
        self.assertTrue(wait_until(lambda: verifies(alternate), 10), srv.log())
        self.assertFalse(verifies(ca.root))


class LifecycleTest(AcmeTestCase):

    def test_a_reload_adds_an_acme_site(self):
        ca = self.pebble()
        cfg = self.config(ca, [{"hosts": ["localhost"], "root": self.root}])
        srv = self.serve(cfg)
        self.assertNotIn("acme:", srv.log())
        cfg["sites"].append(self.site(["new.test"]))
        write_config(srv.config, cfg)
        p = srv.reload()
        self.assertEqual(p.returncode, 0, p)
        self.wait_obtained(srv, ["new.test"])
        self.assertTrue(self.wait_published(srv, ca, "new.test"), srv.log())

    def test_stop_during_an_order_is_prompt(self):
        ca = self.pebble(nosleep=False)  # validations wait 0..15 s: the order is in flight
        srv = self.serve(self.config(ca, [self.site(["stop.test"])]))
        srv.wait_for_log(r"acme: ordering a certificate for stop\.test", timeout=20)
        started = time.monotonic()
        self.assertEqual(srv.stop(), 0, srv.log())
        self.assertLess(time.monotonic() - started, 8, srv.log())


class StorageTest(AcmeTestCase):

    def stored(self, name: str) -> str:
        """The folder (a link) of the ACME certificate stored for `name`."""
        [link] = [p for p in glob.glob(os.path.join(self.storage, "certificates", "*", name))
                  if "/internal/" not in p]  # (not the internal CA's stand-in)
        return link

    def obtained_then_stopped(self, name: str) -> tuple[Pebble, dict, ConfigServer]:
        """A CA, a config with one ACME site for `name`, and a server that obtained its
        certificate (one order) and has stopped."""
        ca = self.pebble()
        cfg = self.config(ca, [self.site([name])])
        srv = self.serve(cfg)
        self.wait_obtained(srv, [name])
        srv.stop()
        self.assertEqual(ca.orders(), 1)
        return ca, cfg, srv

    def forget(self, link: str):
        """Deletes a stored certificate, as if it had never been downloaded."""
        shutil.rmtree(os.path.realpath(link))
        os.remove(link)

    def test_restart_loads_from_storage_without_a_new_order(self):
        ca, cfg, _ = self.obtained_then_stopped("s.test")
        srv2 = self.serve(cfg, "again.json")
        self.assertIn("acme: certificate for s.test loaded from storage", srv2.log())
        self.assert_served(ca, "s.test")
        time.sleep(1)
        self.assertEqual(ca.orders(), 1)

    def test_a_finalized_order_is_downloaded_not_ordered_again(self):
        # What a crash or a network failure between finalize and download leaves behind: the
        # order and its key recorded under pending/, and no certificate stored.
        ca, cfg, _ = self.obtained_then_stopped("resume.test")
        link = self.stored("resume.test")
        with open(os.path.join(link, "meta.json")) as f:
            order_url = json.load(f)["order"]
        with open(os.path.join(link, "cert.pem")) as f:
            issued = f.read()
        with open(os.path.join(link, "key.pem")) as f:
            key = f.read()
        issuer = os.path.basename(os.path.dirname(link))
        pending = os.path.join(self.storage, "pending", issuer, "resume.test")

        def leave_a_finalized_order(url: str):
            self.forget(link)
            os.makedirs(pending, mode=0o700, exist_ok=True)
            fd = os.open(os.path.join(pending, "key.pem"), os.O_WRONLY | os.O_CREAT, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(key)
            with open(os.path.join(pending, "order.json"), "w") as f:
                json.dump({"order": url, "directory": ca.directory,
                           "created": int(time.time())}, f)

        leave_a_finalized_order(order_url)
        srv = self.serve(cfg, "resume.json")
        self.wait_obtained(srv, ["resume.test"])
        self.assertIn("acme: downloading the certificate for resume.test from order " + order_url,
                      srv.log())
        self.assertTrue(self.wait_published(srv, ca, "resume.test"), srv.log())
        self.assert_served(ca, "resume.test")
        self.assertEqual(ca.orders(), 1, "resuming placed a new order")
        self.assertEqual(os.listdir(pending), [])
        with open(os.path.join(link, "cert.pem")) as f:
            self.assertEqual(f.read(), issued)
        srv.stop()

        # An order the CA does not know (any more): dropped, and a new order is placed.
        leave_a_finalized_order(order_url.rsplit("/", 1)[0] + "/no-such-order")
        srv = self.serve(cfg, "replace.json")
        self.wait_obtained(srv, ["resume.test"])
        self.assertRegex(srv.log(), r"acme: ACME order failed: .*; placing a new order")
        self.assertEqual(ca.orders(), 2)
        self.assertEqual(os.listdir(pending), [])
        self.assertTrue(self.wait_published(srv, ca, "resume.test"), srv.log())

    def test_a_deactivated_account_is_replaced_by_a_new_one(self):
        ca, cfg, srv = self.obtained_then_stopped("acct.test")
        old_url = re.search(r"acme: account (\S+) at ", srv.log()).group(1)
        [key] = glob.glob(os.path.join(self.storage, "accounts", "*", "*", "key.pem"))
        self.assertEqual(ca.deactivate_account(key, old_url), "deactivated")
        self.forget(self.stored("acct.test"))  # so a new certificate is needed

        srv = self.serve(cfg, "again.json")
        self.wait_obtained(srv, ["acct.test"])
        log = srv.log()
        self.assertIn("registering a new account with a new key", log)
        new_url = re.findall(r"acme: account (\S+) at ", log)[-1]
        self.assertNotEqual(new_url, old_url)
        self.assertEqual(len(glob.glob(key + ".retired-*")), 1, os.listdir(os.path.dirname(key)))
        self.assertTrue(self.wait_published(srv, ca, "acct.test"), log)

    def test_the_challenge_type_that_worked_is_tried_first_after_a_restart(self):
        # Pebble's HTTP-01 validation goes to a port where nothing listens: only TLS-ALPN-01 works.
        ca = self.enterContext(Pebble(free_port(), self.https))
        cfg = self.config(ca, [self.site(["pref.test"])])
        srv = self.serve(cfg)
        self.wait_obtained(srv, ["pref.test"])
        srv.stop()
        tried = re.findall(r"ordering a certificate for pref\.test from \S+ \((\S+)\)", srv.log())
        self.assertEqual(tried, ["http-01", "tls-alpn-01"])
        self.forget(self.stored("pref.test"))

        srv = self.serve(cfg, "again.json")
        self.wait_obtained(srv, ["pref.test"])
        tried = re.findall(r"ordering a certificate for pref\.test from \S+ \((\S+)\)", srv.log())
        self.assertEqual(tried, ["tls-alpn-01"])

    def test_a_peer_sharing_the_storage_answers_the_challenges(self):
        # Pebble validates against B's listeners only; A orders peer.test, and B (ordering
        # another name itself) answers A's challenges from the shared storage.
        https_b, http_b = free_port(), free_port()
        ca = self.enterContext(Pebble(http_b, https_b))
        a = self.serve(self.config(ca, [self.site(["peer.test"])]))
        cfg_b = self.config(ca, [self.site(["other.test"])])
        cfg_b["listen"] = {"https": f"{HOST}:{https_b}", "http": f"{HOST}:{http_b}"}
        cfg_b["log"] = {"access": "stderr"}
        b = self.serve(cfg_b, "b.json")
        self.wait_obtained(a, ["peer.test"])
        self.wait_obtained(b, ["other.test"])
        self.assertTrue(self.wait_published(a, ca, "peer.test"), a.log())
        # Answered challenges are withdrawn from the storage too.
        self.assertTrue(wait_until(lambda: not os.listdir(os.path.join(self.storage,
                                                                       "challenges")), 5))
        # B's access log (buffered per reactor, flushed at the latest on stop) shows it answered.
        self.assertEqual(b.stop(), 0)
        self.assertRegex(b.log(), r'"GET /\.well-known/acme-challenge/\S+ HTTP/1\.1" 200 .*'
                                  r'peer\.test:' + str(http_b))

    def test_two_processes_order_once(self):
        ca = self.pebble()
        cfg = self.config(ca, [self.site(["shared.test"])])
        one = self.serve(cfg)
        # The second process shares the storage folder but has its own listeners.
        https2, http2 = free_port(), free_port()
        cfg2 = dict(cfg, listen={"https": f"{HOST}:{https2}", "http": f"{HOST}:{http2}"})
        two = self.serve(cfg2, "two.json")
        self.wait_obtained(one, ["shared.test"])
        self.wait_obtained(two, ["shared.test"], timeout=60)
        self.assertEqual(ca.orders(), 1, ca.log())
        logs = one.log() + two.log()
        self.assertEqual(logs.count("acme: ordering a certificate for shared.test"), 1, logs)
        self.assertIn("renewed by another process; loaded it from storage", logs)
        # Each publishes it at its next maintenance step.
        for port in (self.https, https2):
            def verified():
                s = s_client(port, "-servername", "shared.test", "-CAfile", ca.root,
                             "-verify_return_error")
                return s.returncode == 0
            self.assertTrue(wait_until(verified, 10), logs)
