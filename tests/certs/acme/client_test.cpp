// acme::client against a misbehaving CA: a python3 server on loopback answering with what no
// real CA sends on purpose (a missing field, an HTML page, a 404, an oversized body, a problem
// document, badNonce forever, an account status the client must refuse). Each must end in one
// clear error line, never a crash or a hang. The happy paths run against a real Pebble
// (tests/integration/test_acme.py).
#include "ringlet/certs/acme/client.hpp"
#include "ringlet/runtime/reactor.hpp"
#include "support/peer.hpp"
#include "support/uring.hpp"

#include <gtest/gtest.h>

using namespace ringlet;
using namespace ringlet::certs;

namespace {

// Paths choose the misbehaviour; every directory points back at this server.
constexpr const char* fake_ca = R"PY(
import json, sys, http.server
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def base(self):
        return "http://127.0.0.1:%d" % self.server.server_address[1]
    def send(self, status, body, ctype="application/json", extra=()):
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Replay-Nonce", "nonce-%d" % id(data))
        for k, v in extra: self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
    def directory(self, account_path, **meta):
        b = self.base()
        d = {"newNonce": b + "/nonce", "newAccount": b + account_path, "newOrder": b + "/order"}
        if meta: d["meta"] = meta
        return json.dumps(d)
    def do_HEAD(self):
        self.send_response(200)
        self.send_header("Replay-Nonce", "fresh")
        self.send_header("Content-Length", "0")
        self.end_headers()
    def do_GET(self):
        p = self.path
        if p == "/dir-missing":
            self.send(200, json.dumps({"newNonce": self.base() + "/nonce",
                                       "newAccount": self.base() + "/acct"}))
        elif p == "/dir-html":
            self.send(200, "<html><body>Service Unavailable</body></html>", "text/html")
        elif p == "/dir-404":
            self.send(404, "not here", "text/plain")
        elif p == "/dir-big":
            self.send(200, "{" + " " * (2 * 1024 * 1024) + "}")
        elif p == "/dir-problem":
            self.send(200, self.directory("/acct-problem"))
        elif p == "/dir-badnonce":
            self.send(200, self.directory("/acct-badnonce"))
        elif p == "/dir-eab":
            self.send(200, self.directory("/acct", externalAccountRequired=True))
        elif p == "/dir-revoked":
            self.send(200, self.directory("/acct-revoked"))
        elif p == "/dir-ok":
            self.send(200, self.directory("/acct-ok"))
        elif p == "/dir-deactivated":
            self.send(200, self.directory("/acct-deactivated"))
        else:
            self.send(404, "?", "text/plain")
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        p = self.path
        prob = "application/problem+json"
        if p == "/acct-problem":
            self.send(400, json.dumps({"type": "urn:ietf:params:acme:error:invalidContact",
                "detail": "contact rejected", "subproblems": [{
                    "type": "urn:ietf:params:acme:error:invalidContact", "detail": "bad domain",
                    "identifier": {"type": "dns", "value": "example.invalid"}}]}), prob)
        elif p == "/acct-badnonce":
            self.send(400, json.dumps({"type": "urn:ietf:params:acme:error:badNonce",
                                       "detail": "nope"}), prob)
        elif p == "/acct-revoked":
            self.send(200, json.dumps({"status": "revoked"}), extra=[("Location", "/acct/1")])
        elif p == "/acct-deactivated":
            self.send(403, json.dumps({"type": "urn:ietf:params:acme:error:unauthorized",
                "detail": "An account with the provided public key exists but is deactivated"}),
                prob)
        elif p == "/acct-ok":
            self.send(200, json.dumps({"status": "valid"}),
                      extra=[("Location", self.base() + "/acct/1")])
        elif p.startswith("/order-"):
            # /order-<status>[-<what the certificate URL does>]: an order already finalized
            kind = p[len("/order-"):].split("-")
            if kind[0] == "gone":
                self.send(404, json.dumps({"type": "urn:ietf:params:acme:error:malformed",
                                           "detail": "no such order"}), prob)
                return
            if kind[0] == "down":
                self.send(503, json.dumps({"type": "urn:ietf:params:acme:error:serverInternal",
                                           "detail": "maintenance"}), prob)
                return
            o = {"status": kind[0], "identifiers": [{"type": "dns", "value": "a.test"}],
                 "authorizations": [], "finalize": self.base() + "/finalize"}
            if kind[0] == "valid":
                o["certificate"] = self.base() + "/cert-" + (kind[1] if len(kind) > 1 else "ok")
            self.send(200, json.dumps(o))
        elif p == "/cert-ok":
            self.send(200, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
                      "application/pem-certificate-chain")
        elif p == "/cert-down":
            self.send(503, json.dumps({"type": "urn:ietf:params:acme:error:serverInternal",
                                       "detail": "maintenance"}), prob)
        elif p == "/cert-gone":
            self.send(404, json.dumps({"type": "urn:ietf:params:acme:error:malformed",
                                       "detail": "no such certificate"}), prob)
        else:
            self.send(404, "?", "text/plain")
srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
print(srv.server_address[1], flush=True)
srv.serve_forever()
)PY";

struct acme_client : ::testing::Test {
    test::temp_dir dir{"acme-client"};
    std::unique_ptr<test::child_server> ca;
    std::optional<acme::account_key> key;

    void SetUp() override {
        if (!test::have_python_ssl()) GTEST_SKIP() << "no python3";
        std::ofstream(dir.path / "ca.py") << fake_ca;
        ca = std::make_unique<test::child_server>(
            std::vector<std::string>{"python3", (dir.path / "ca.py").string()});
        ASSERT_NE(ca->port(), 0);
        std::string err;
        auto k = acme::account_key::generate(err);
        ASSERT_TRUE(k) << err;
        key.emplace(std::move(*k));
    }

    // Runs open() against `path`; returns the error line ("" on success).
    std::size_t requests = 0;

    bool unusable = false;

    std::string open(const std::string& path, std::optional<acme::eab_settings> eab = {}) {
        auto r = rt::reactor::create(0);
        if (!r) return "io_uring unavailable";
        acme::client_options o;
        o.directory_url = "http://127.0.0.1:" + std::to_string(ca->port()) + path;
        o.bad_nonce_retries = 3;
        acme::client c(o);
        std::string err;
        auto ok = (*r)->run_until_done(c.open(*key, "ops@example.com", eab, err));
        requests = c.requests();
        unusable = c.account_unusable();
        return ok ? std::string() : err;
    }
};

} // namespace

TEST_F(acme_client, a_directory_missing_new_order) {
    EXPECT_NE(open("/dir-missing").find("ACME directory is missing \"newOrder\""),
              std::string::npos);
}

TEST_F(acme_client, an_html_page_instead_of_a_directory) {
    std::string e = open("/dir-html");
    EXPECT_NE(e.find("/dir-html"), std::string::npos) << e;
    EXPECT_NE(e.find("not JSON"), std::string::npos) << e;
}

TEST_F(acme_client, a_wrong_directory_url) {
    std::string e = open("/dir-404");
    EXPECT_NE(e.find("HTTP 404 (is this an ACME directory URL?)"), std::string::npos) << e;
}

TEST_F(acme_client, an_oversized_directory) {
    std::string e = open("/dir-big");
    EXPECT_NE(e.find("larger than"), std::string::npos) << e;
}

TEST_F(acme_client, a_problem_document_is_described_with_its_subproblems) {
    std::string e = open("/dir-problem");
    EXPECT_NE(e.find("ACME newAccount failed: urn:ietf:params:acme:error:invalidContact: "
                     "contact rejected"),
              std::string::npos)
        << e;
    EXPECT_NE(e.find("example.invalid"), std::string::npos) << e;
    EXPECT_NE(e.find("bad domain"), std::string::npos) << e;
}

TEST_F(acme_client, bad_nonce_is_retried_a_bounded_number_of_times) {
    std::string e = open("/dir-badnonce");
    EXPECT_NE(e.find("urn:ietf:params:acme:error:badNonce"), std::string::npos) << e;
    // The directory, one newNonce, then newAccount once and 3 retries, each with the nonce
    // of the previous error response.
    EXPECT_EQ(requests, 1u + 1u + 4u);
}

TEST_F(acme_client, external_account_binding_required_but_not_configured) {
    std::string e = open("/dir-eab");
    EXPECT_NE(e.find("requires external account binding: set acme.eab"), std::string::npos) << e;
}

TEST_F(acme_client, a_revoked_account_is_refused) {
    std::string e = open("/dir-revoked");
    EXPECT_NE(e.find("is revoked"), std::string::npos) << e;
    EXPECT_TRUE(unusable); // the caller needs a new key
}

TEST_F(acme_client, a_deactivated_account_key_is_unusable_unless_a_binding_was_sent) {
    std::string e = open("/dir-deactivated");
    EXPECT_NE(e.find("exists but is deactivated"), std::string::npos) << e;
    EXPECT_TRUE(unusable);
    // With an external account binding, `unauthorized` may be the binding's fault.
    acme::eab_settings eab{"kid-1", "aGVsbG8gd29ybGQgaGVsbG8gd29ybGQ"};
    e = open("/dir-deactivated", eab);
    EXPECT_FALSE(e.empty());
    EXPECT_FALSE(unusable);
    // Other refusals say nothing about the key.
    open("/dir-problem");
    EXPECT_FALSE(unusable);
    EXPECT_EQ(open("/dir-ok"), "");
    EXPECT_FALSE(unusable);
}

// resume(): an order finalized by an earlier attempt, whose download must be picked up.
TEST_F(acme_client, resuming_a_finalized_order) {
    auto r = rt::reactor::create(0);
    if (!r) GTEST_SKIP() << "io_uring unavailable";
    const std::string base = "http://127.0.0.1:" + std::to_string(ca->port());
    struct outcome {
        bool ok;
        bool gone;
        std::string error, chain;
    };
    auto resume = [&](const std::string& order) {
        acme::client_options o;
        o.directory_url = base + "/dir-ok";
        o.poll_budget_ns = 3'000'000'000;
        acme::client c(o);
        std::string err;
        bool gone = true;
        if (!(*r)->run_until_done(c.open(*key, "", std::nullopt, err)))
            return outcome{0, 0, err, ""};
        auto got = (*r)->run_until_done(c.resume(base + order, "", err, gone));
        return outcome{bool(got), gone, err, got ? got->chain_pem : ""};
    };
    auto valid = resume("/order-valid");
    ASSERT_TRUE(valid.ok) << valid.error;
    EXPECT_NE(valid.chain.find("BEGIN CERTIFICATE"), std::string::npos);

    // The CA says the order cannot give a certificate: a new order is due.
    for (const char* order :
         {"/order-invalid", "/order-ready", "/order-gone", "/order-valid-gone"}) {
        auto o = resume(order);
        EXPECT_FALSE(o.ok) << order;
        EXPECT_TRUE(o.gone) << order << ": " << o.error;
    }
    auto invalid = resume("/order-invalid");
    EXPECT_NE(invalid.error.find("/order-invalid is invalid"), std::string::npos) << invalid.error;
    // The CA is down: the same order is worth asking again later.
    for (const char* order : {"/order-down", "/order-valid-down"}) {
        auto o = resume(order);
        EXPECT_FALSE(o.ok) << order;
        EXPECT_FALSE(o.gone) << order << ": " << o.error;
        EXPECT_NE(o.error.find("maintenance"), std::string::npos) << o.error;
    }
}

TEST_F(acme_client, nothing_listening) {
    ca.reset(); // the port is free now
    auto r = rt::reactor::create(0);
    if (!r) GTEST_SKIP() << "io_uring unavailable";
    acme::client_options o;
    o.directory_url = "http://127.0.0.1:1/dir";
    acme::client c(o);
    std::string err;
    EXPECT_FALSE((*r)->run_until_done(c.open(*key, "", std::nullopt, err)));
    EXPECT_NE(err.find("ACME directory http://127.0.0.1:1/dir: connect to 127.0.0.1:1"),
              std::string::npos)
        << err;
}

TEST(acme_poll, delays_follow_retry_after_within_bounds) {
    constexpr std::int64_t s = 1'000'000'000;
    EXPECT_EQ(acme::poll_delay_ns(3, 0), 3 * s);
    EXPECT_EQ(acme::poll_delay_ns(0, 0), 1 * s);     // "Retry-After: 0" is not a busy loop
    EXPECT_EQ(acme::poll_delay_ns(3600, 0), 10 * s); // nor an hour's stall inside an order
    EXPECT_EQ(acme::poll_delay_ns(std::nullopt, 0), 1 * s);
    EXPECT_EQ(acme::poll_delay_ns(std::nullopt, 4), 3 * s);
    EXPECT_EQ(acme::poll_delay_ns(std::nullopt, 100), 5 * s);
}
