"""A real ACME CA for the tests: Debian's `pebble` and `pebble-challtestsrv`, started per test.

pebble-challtestsrv runs only as a DNS server that answers 127.0.0.1 for every name (its own
challenge servers are off), so Pebble's validation authority resolves the test names (a.test, ...)
to ringlet's listeners: Pebble's httpPort / tlsPort are ringlet's plain and TLS ports. Pebble's own
HTTPS certificate comes from a throwaway CA made with the openssl CLI (the file ringlet's
acme.trusted_roots points at); the root Pebble signs certificates with is read from its management
port. Nothing is installed here: .ci/run installs the packages (tests skip without them)."""

import base64
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

from support import HOST, _die_with_parent, _live, free_port, openssl

PEBBLE = shutil.which("pebble")
CHALLTESTSRV = shutil.which("pebble-challtestsrv")
AVAILABLE = bool(PEBBLE and CHALLTESTSRV)
SKIP_REASON = "pebble and pebble-challtestsrv are not installed (apt-get install pebble)"


class Pebble:
    """`with Pebble(http_port, tls_port, env={...}) as ca:` runs Pebble validating against
    127.0.0.1:http_port (HTTP-01) and :tls_port (TLS-ALPN-01). ca.directory is the directory URL,
    ca.tls_roots the file that verifies Pebble's HTTPS server, ca.root the PEM file of the root
    that issued the test certificates (after start)."""

    def __init__(self, http_port: int, tls_port: int, *, env: dict | None = None,
                 nosleep: bool = True, eab: dict | None = None):
        self.http_port, self.tls_port = http_port, tls_port
        self.env = dict(env or {})
        self.nosleep = nosleep
        self.eab = eab
        self.procs: list[subprocess.Popen] = []

    def __enter__(self) -> "Pebble":
        self.dir = tempfile.mkdtemp(prefix="ringlet-pebble-")
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _pki(self) -> None:
        d = self.dir
        self.tls_roots = os.path.join(d, "pebble-tls-ca.pem")
        ca_key, cert, key = (os.path.join(d, n) for n in ("ca.key", "cert.pem", "key.pem"))
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        openssl("req", "-x509", *ec, "-keyout", ca_key, "-out", self.tls_roots, "-days", "2",
                "-subj", "/CN=ringlet test: pebble TLS CA")
        csr = os.path.join(d, "req.csr")
        openssl("req", *ec, "-keyout", key, "-out", csr, "-subj", "/CN=localhost")
        ext = os.path.join(d, "ext.cnf")
        with open(ext, "w") as f:
            f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
        openssl("x509", "-req", "-in", csr, "-CA", self.tls_roots, "-CAkey", ca_key,
                "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext)
        self.cert, self.key = cert, key

    def _spawn(self, name: str, argv: list[str], env: dict) -> subprocess.Popen:
        log = open(os.path.join(self.dir, name + ".log"), "wb")
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                             preexec_fn=_die_with_parent)
        log.close()
        _live.add(p)
        self.procs.append(p)
        return p

    def _start(self) -> None:
        self._pki()
        dns, dns_mgmt = free_port(), free_port()
        self.port, mgmt = free_port(), free_port()
        config = {"pebble": {
            "listenAddress": f"{HOST}:{self.port}",
            "managementListenAddress": f"{HOST}:{mgmt}",
            "certificate": self.cert, "privateKey": self.key,
            "httpPort": self.http_port, "tlsPort": self.tls_port,
            "ocspResponderURL": "", "externalAccountBindingRequired": bool(self.eab)}}
        if self.eab:
            config["pebble"]["externalAccountMACKeys"] = self.eab
        import json
        cfg = os.path.join(self.dir, "pebble.json")
        with open(cfg, "w") as f:
            json.dump(config, f)
        base = {k: v for k, v in os.environ.items() if not k.startswith("PEBBLE_")}
        self._spawn("challtestsrv", [CHALLTESTSRV, "-http01", "", "-https01", "", "-tlsalpn01",
                                     "", "-dns01", f"{HOST}:{dns}", "-management",
                                     f"{HOST}:{dns_mgmt}", "-defaultIPv4", HOST,
                                     "-defaultIPv6", ""], base)
        env = dict(base, **self.env)
        if self.nosleep:
            env["PEBBLE_VA_NOSLEEP"] = "1"
        self._spawn("pebble", [PEBBLE, "-config", cfg, "-dnsserver", f"{HOST}:{dns}"], env)
        self.directory = f"https://{HOST}:{self.port}/dir"
        ctx = ssl.create_default_context(cafile=self.tls_roots)
        deadline = time.monotonic() + 15
        while True:
            try:
                with urllib.request.urlopen(self.directory, context=ctx, timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            for p in self.procs:
                if p.poll() is not None:
                    raise AssertionError(f"pebble exited early:\n{self.log()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"pebble did not start:\n{self.log()}")
            time.sleep(0.1)
        self._mgmt, self._ctx = mgmt, ctx
        self.root = self.root_file(0)

    def root_file(self, index: int) -> str:
        """The issuing root number `index` (0: the default chain's; more with
        PEBBLE_ALTERNATE_ROOTS) as a PEM file."""
        with urllib.request.urlopen(f"https://{HOST}:{self._mgmt}/roots/{index}",
                                    context=self._ctx, timeout=5) as r:
            pem = r.read()
        path = os.path.join(self.dir, f"pebble-root-{index}.pem")
        with open(path, "wb") as f:
            f.write(pem)
        return path

    def log(self) -> str:
        try:
            with open(os.path.join(self.dir, "pebble.log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def orders(self) -> int:
        """How many orders Pebble has created."""
        return len(re.findall(r"Added order \"", self.log()))

    def deactivate_account(self, key_pem: str, account_url: str) -> str:
        """Deactivates an account as its holder would (RFC 8555 7.3.6): a JWS signed with the
        account key (ES256, by the openssl CLI). Returns the status Pebble answers with. Pebble
        rejects some nonces on purpose (badNonce): those are retried with a fresh one."""
        ctx = ssl.create_default_context(cafile=self.tls_roots)
        with urllib.request.urlopen(self.directory, context=ctx, timeout=5) as r:
            new_nonce = json.load(r)["newNonce"]
        for attempt in range(10):
            head = urllib.request.Request(new_nonce, method="HEAD")
            with urllib.request.urlopen(head, context=ctx, timeout=5) as r:
                nonce = r.headers["Replay-Nonce"]
            protected = _b64url(json.dumps({"alg": "ES256", "kid": account_url, "nonce": nonce,
                                            "url": account_url}).encode())
            payload = _b64url(b'{"status":"deactivated"}')
            signature = _b64url(_es256(key_pem, f"{protected}.{payload}".encode()))
            body = json.dumps({"protected": protected, "payload": payload,
                               "signature": signature}).encode()
            post = urllib.request.Request(account_url, data=body,
                                          headers={"Content-Type": "application/jose+json"})
            try:
                with urllib.request.urlopen(post, context=ctx, timeout=5) as r:
                    return json.load(r)["status"]
            except urllib.error.HTTPError as e:
                problem = e.read().decode(errors="replace")
                if attempt == 9 or "badNonce" not in problem:
                    raise AssertionError(f"deactivating {account_url}: HTTP {e.code} {problem}")

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
            _live.discard(p)
        self.procs = []
        shutil.rmtree(self.dir, ignore_errors=True)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _es256(key_pem: str, data: bytes) -> bytes:
    """An ES256 JWS signature: openssl's DER ECDSA signature as r || s, 32 bytes each."""
    der = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key_pem], input=data,
                         capture_output=True, check=True).stdout
    i = 3 if der[1] & 0x80 else 2  # past the SEQUENCE header
    parts = []
    for _ in range(2):
        assert der[i] == 0x02, der.hex()  # INTEGER
        n = der[i + 1]
        parts.append(int.from_bytes(der[i + 2:i + 2 + n], "big").to_bytes(32, "big"))
        i += 2 + n
    return parts[0] + parts[1]
