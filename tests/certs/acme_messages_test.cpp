#include "ringlet/certs/acme/messages.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <functional>
#include <string>
#include <utility>
#include <vector>

using namespace ringlet;
using namespace ringlet::certs::acme;

namespace {

// Documents as an ACME server sends them (RFC 8555 section 7 examples, Pebble, Let's Encrypt).

constexpr std::string_view pebble_directory = R"({
   "keyChange": "https://localhost:14000/rollover-account-key",
   "meta": {
      "externalAccountRequired": false,
      "termsOfService": "data:text/plain,Do%20what%20thou%20wilt",
      "profiles": {
         "default": "The profile you know and love",
         "shortlived": "A short-lived cert profile, without actual enforcement"
      }
   },
   "newAccount": "https://localhost:14000/sign-me-up",
   "newNonce": "https://localhost:14000/nonce-plz",
   "newOrder": "https://localhost:14000/order-plz",
   "renewalInfo": "https://localhost:14000/draft-ietf-acme-ari-03/renewalInfo",
   "revokeCert": "https://localhost:14000/revoke-cert"
})";

constexpr std::string_view letsencrypt_directory = R"({
  "SPW4hQ-5nTA": "https://community.letsencrypt.org/t/adding-random-entries-to-the-directory/33417",
  "keyChange": "https://acme-v02.api.letsencrypt.org/acme/key-change",
  "meta": {
    "caaIdentities": ["letsencrypt.org"],
    "profiles": {
      "classic": "https://letsencrypt.org/docs/profiles#classic",
      "shortlived": "https://letsencrypt.org/docs/profiles#shortlived",
      "tlsserver": "https://letsencrypt.org/docs/profiles#tlsserver"
    },
    "termsOfService": "https://letsencrypt.org/documents/LE-SA-v1.5-February-24-2025.pdf",
    "website": "https://letsencrypt.org"
  },
  "newAccount": "https://acme-v02.api.letsencrypt.org/acme/new-acct",
  "newNonce": "https://acme-v02.api.letsencrypt.org/acme/new-nonce",
  "newOrder": "https://acme-v02.api.letsencrypt.org/acme/new-order",
  "renewalInfo": "https://acme-v02.api.letsencrypt.org/acme/renewal-info",
  "revokeCert": "https://acme-v02.api.letsencrypt.org/acme/revoke-cert"
})";

constexpr std::string_view rfc_account = R"({
  "status": "valid",
  "contact": ["mailto:cert-admin@example.org", "mailto:admin@example.org"],
  "termsOfServiceAgreed": true,
  "orders": "https://example.com/acme/orders/rzGoeA"
})";

constexpr std::string_view letsencrypt_account = R"({
  "key": {"kty": "EC", "crv": "P-256", "x": "jWbPYB9ImCq0SYWqWVr2UCaB4R0Ej4Q7mHh6Fqqx6Fk",
          "y": "K2eh6p0n0NwkD8nHDQ_g0yVyqzC-X5g2QBHkKzPT2vE"},
  "contact": ["mailto:ops@example.org"],
  "initialIp": "2001:db8::1",
  "createdAt": "2025-03-14T09:26:53.589793238Z",
  "status": "valid"
})";

constexpr std::string_view rfc_order = R"({
  "status": "valid",
  "expires": "2016-01-20T14:09:07.99Z",
  "identifiers": [
    { "type": "dns", "value": "www.example.org" },
    { "type": "dns", "value": "example.org" }
  ],
  "notBefore": "2016-01-01T00:00:00Z",
  "notAfter": "2016-01-08T00:00:00Z",
  "authorizations": [
    "https://example.com/acme/authz/PAniVnsZcis",
    "https://example.com/acme/authz/r4HqLzrSrpI"
  ],
  "finalize": "https://example.com/acme/order/TOlocE8rfgo/finalize",
  "certificate": "https://example.com/acme/cert/mAt3xBGaobw"
})";

constexpr std::string_view pebble_pending_order = R"({
   "status": "pending",
   "expires": "2026-11-28T20:00:00Z",
   "identifiers": [{"type": "dns", "value": "a.example"}, {"type": "ip", "value": "192.0.2.7"}],
   "finalize": "https://localhost:14000/finalize-order/Xb1Gf4cQ7k",
   "authorizations": ["https://localhost:14000/authZ/p7T1", "https://localhost:14000/authZ/q2W9"],
   "replaces": "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE",
   "profile": "shortlived"
})";

constexpr std::string_view invalid_order = R"({
  "status": "invalid",
  "identifiers": [{"type": "dns", "value": "a.example"}],
  "authorizations": ["https://ca.example/authz/1"],
  "finalize": "https://ca.example/order/1/finalize",
  "error": {"type": "urn:ietf:params:acme:error:unauthorized", "status": 403,
            "detail": "Incorrect TXT record found at _acme-challenge.a.example"},
  "certificate": null
})";

constexpr std::string_view rfc_authorization = R"({
  "status": "valid",
  "expires": "2015-03-01T14:09:07.99Z",
  "identifier": {
    "type": "dns",
    "value": "www.example.org"
  },
  "challenges": [
    {
      "url": "https://example.com/acme/chall/prV_B7yEyA4",
      "type": "http-01",
      "status": "valid",
      "token": "DGyRejmCefe7v4NfDGDKfA",
      "validated": "2014-12-01T12:05:58.16Z"
    }
  ],
  "wildcard": false
})";

constexpr std::string_view pebble_authorization = R"({
   "status": "pending",
   "identifier": {"type": "dns", "value": "a.example"},
   "challenges": [
      {"type": "tls-alpn-01", "url": "https://localhost:14000/chalZ/a1", "status": "pending",
       "token": "yF4QWpbRhuJ9xD1c2JxVH2a6XnJYqf-Lw3e-B6yXOZ8"},
      {"type": "http-01", "url": "https://localhost:14000/chalZ/a2", "status": "pending",
       "token": "7vS1aXW3h_qGsd0Lxkq9oQ6q1EoJrQ2UMOn5m9xgG3E"},
      {"type": "dns-01", "url": "https://localhost:14000/chalZ/a3", "status": "invalid",
       "token": "kq9oQ6q1EoJrQ2UMOn5m9xgG3E7vS1aXW3h_qGsd0Lx",
       "error": {"type": "urn:ietf:params:acme:error:dns", "detail": "NXDOMAIN", "status": 400}},
      {"type": "dns-account-01", "url": "https://localhost:14000/chalZ/a4", "status": "pending",
       "token": "not checked: ../x"}
   ],
   "expires": "2026-11-28T20:00:00+00:00",
   "wildcard": true
})";

constexpr std::string_view rfc_problem = R"({
  "type": "urn:ietf:params:acme:error:malformed",
  "detail": "Some of the identifiers requested were rejected",
  "status": 400,
  "subproblems": [
    {
      "type": "urn:ietf:params:acme:error:malformed",
      "detail": "Invalid underscore in DNS name \"_example.org\"",
      "identifier": {
        "type": "dns",
        "value": "_example.org"
      }
    },
    {
      "type": "urn:ietf:params:acme:error:rejectedIdentifier",
      "detail": "This CA will not issue for \"example.net\"",
      "identifier": {
        "type": "dns",
        "value": "example.net"
      }
    }
  ]
})";

constexpr std::string_view bad_nonce_problem = R"({
  "type": "urn:ietf:params:acme:error:badNonce",
  "detail": "JWS has an invalid anti-replay nonce: \"zincvxIGX6yR3hbIMgkPLg\"",
  "status": 400
})";

constexpr std::string_view ari = R"({
  "suggestedWindow": {
    "start": "2025-01-02T04:00:00Z",
    "end": "2025-01-03T04:00:00Z"
  },
  "explanationURL": "https://acme.example.com/docs/ari"
})";

using parse_fn = std::function<bool(std::string_view, std::string&, std::error_code&)>;

template <class F>
parse_fn wrap(F f) {
    return [f](std::string_view json, std::string& error, std::error_code& ec) {
        auto r = f(json, error);
        if (!r) ec = r.error();
        return r.has_value();
    };
}

struct named_doc {
    const char* name;
    std::string_view json;
    parse_fn parse;
};

std::vector<named_doc> all_documents() {
    return {
        {"pebble_directory", pebble_directory, wrap(parse_directory)},
        {"letsencrypt_directory", letsencrypt_directory, wrap(parse_directory)},
        {"rfc_account", rfc_account, wrap(parse_account)},
        {"letsencrypt_account", letsencrypt_account, wrap(parse_account)},
        {"rfc_order", rfc_order, wrap(parse_order)},
        {"pebble_pending_order", pebble_pending_order, wrap(parse_order)},
        {"invalid_order", invalid_order, wrap(parse_order)},
        {"rfc_authorization", rfc_authorization, wrap(parse_authorization)},
        {"pebble_authorization", pebble_authorization, wrap(parse_authorization)},
        {"rfc_problem", rfc_problem, wrap(parse_problem)},
        {"bad_nonce_problem", bad_nonce_problem, wrap(parse_problem)},
        {"ari", ari, wrap(parse_renewal_info)},
    };
}

// A top-level member of a flat document, for omission and type tests: "key": value.
struct member {
    std::string key;
    std::string value; // raw JSON
};

std::string render(const std::vector<member>& members) {
    std::string out = "{";
    for (const member& m : members) {
        if (out.size() > 1) out += ",";
        out += "\"" + m.key + "\":" + m.value;
    }
    return out + "}";
}

bool contains(const std::string& haystack, std::string_view needle) {
    return haystack.find(needle) != std::string::npos;
}

} // namespace

// --- Realistic documents -----------------------------------------------------------------------

TEST(AcmeMessages, ParsesEveryRealisticDocument) {
    for (const named_doc& d : all_documents()) {
        std::string error;
        std::error_code ec;
        EXPECT_TRUE(d.parse(d.json, error, ec)) << d.name << ": " << error;
    }
}

TEST(AcmeMessages, PebbleDirectory) {
    std::string error;
    auto d = parse_directory(pebble_directory, error);
    ASSERT_TRUE(d) << error;
    EXPECT_EQ(d->new_nonce, "https://localhost:14000/nonce-plz");
    EXPECT_EQ(d->new_account, "https://localhost:14000/sign-me-up");
    EXPECT_EQ(d->new_order, "https://localhost:14000/order-plz");
    EXPECT_EQ(d->revoke_cert, "https://localhost:14000/revoke-cert");
    EXPECT_EQ(d->key_change, "https://localhost:14000/rollover-account-key");
    EXPECT_EQ(d->renewal_info, "https://localhost:14000/draft-ietf-acme-ari-03/renewalInfo");
    EXPECT_EQ(d->new_authz, "");
    EXPECT_EQ(d->meta.terms_of_service, "data:text/plain,Do%20what%20thou%20wilt");
    EXPECT_FALSE(d->meta.external_account_required);
    ASSERT_EQ(d->meta.profiles.size(), 2u);
    EXPECT_EQ(d->meta.profiles.at("default"), "The profile you know and love");
    EXPECT_TRUE(d->meta.caa_identities.empty());
}

TEST(AcmeMessages, LetsEncryptDirectoryIgnoresUnknownKeys) {
    std::string error;
    auto d = parse_directory(letsencrypt_directory, error);
    ASSERT_TRUE(d) << error;
    EXPECT_EQ(d->new_order, "https://acme-v02.api.letsencrypt.org/acme/new-order");
    EXPECT_EQ(d->meta.website, "https://letsencrypt.org");
    ASSERT_EQ(d->meta.caa_identities.size(), 1u);
    EXPECT_EQ(d->meta.caa_identities[0], "letsencrypt.org");
    EXPECT_EQ(d->meta.profiles.size(), 3u);
    EXPECT_EQ(d->meta.profiles.count("shortlived"), 1u);
}

TEST(AcmeMessages, DirectoryExternalAccountRequired) {
    std::string error;
    auto d = parse_directory(R"({"newNonce":"https://ca/n","newAccount":"http://ca/a",
        "newOrder":"https://ca/o","meta":{"externalAccountRequired":true}})",
                             error);
    ASSERT_TRUE(d) << error;
    EXPECT_TRUE(d->meta.external_account_required);
    EXPECT_EQ(d->new_account, "http://ca/a");
}

TEST(AcmeMessages, Accounts) {
    std::string error;
    auto a = parse_account(rfc_account, error);
    ASSERT_TRUE(a) << error;
    EXPECT_EQ(a->status, account_status::valid);
    ASSERT_EQ(a->contact.size(), 2u);
    EXPECT_EQ(a->contact[1], "mailto:admin@example.org");
    EXPECT_EQ(a->orders, "https://example.com/acme/orders/rzGoeA");

    auto le = parse_account(letsencrypt_account, error);
    ASSERT_TRUE(le) << error;
    EXPECT_EQ(le->orders, "");
    auto revoked = parse_account(R"({"status":"revoked"})", error);
    ASSERT_TRUE(revoked) << error;
    EXPECT_EQ(revoked->status, account_status::revoked);
    EXPECT_TRUE(revoked->contact.empty());
}

TEST(AcmeMessages, RfcOrder) {
    std::string error;
    auto o = parse_order(rfc_order, error);
    ASSERT_TRUE(o) << error;
    EXPECT_EQ(o->status, order_status::valid);
    EXPECT_EQ(o->expires, 1453298947); // .99 dropped
    EXPECT_EQ(o->not_before, 1451606400);
    EXPECT_EQ(o->not_after, 1452211200);
    ASSERT_EQ(o->identifiers.size(), 2u);
    EXPECT_EQ(o->identifiers[0].type, identifier_type::dns);
    EXPECT_EQ(o->identifiers[0].value, "www.example.org");
    ASSERT_EQ(o->authorizations.size(), 2u);
    EXPECT_EQ(o->authorizations[1], "https://example.com/acme/authz/r4HqLzrSrpI");
    EXPECT_EQ(o->finalize, "https://example.com/acme/order/TOlocE8rfgo/finalize");
    EXPECT_EQ(o->certificate, "https://example.com/acme/cert/mAt3xBGaobw");
    EXPECT_FALSE(o->error);
}

TEST(AcmeMessages, PendingAndInvalidOrders) {
    std::string error;
    auto p = parse_order(pebble_pending_order, error);
    ASSERT_TRUE(p) << error;
    EXPECT_EQ(p->status, order_status::pending);
    EXPECT_EQ(p->expires, 1795896000);
    EXPECT_FALSE(p->not_before);
    ASSERT_EQ(p->identifiers.size(), 2u);
    EXPECT_EQ(p->identifiers[1].type, identifier_type::ip);
    EXPECT_EQ(p->identifiers[1].value, "192.0.2.7");
    EXPECT_EQ(p->certificate, "");
    EXPECT_EQ(p->replaces, "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE");
    EXPECT_EQ(p->profile, "shortlived");

    auto i = parse_order(invalid_order, error);
    ASSERT_TRUE(i) << error;
    EXPECT_EQ(i->status, order_status::invalid);
    EXPECT_FALSE(i->expires);
    EXPECT_EQ(i->certificate, ""); // null is absent
    ASSERT_TRUE(i->error);
    EXPECT_EQ(i->error->type, "urn:ietf:params:acme:error:unauthorized");
    EXPECT_EQ(i->error->status, 403);
}

TEST(AcmeMessages, ValidOrderNeedsCertificate) {
    std::string json(rfc_order);
    json.replace(json.find("\"certificate\""), 13, "\"certificat\"");
    std::string error;
    auto o = parse_order(json, error);
    ASSERT_FALSE(o);
    EXPECT_EQ(o.error().value(), EBADMSG);
    EXPECT_TRUE(contains(error, "\"certificate\"")) << error;
}

TEST(AcmeMessages, RfcAuthorization) {
    std::string error;
    auto a = parse_authorization(rfc_authorization, error);
    ASSERT_TRUE(a) << error;
    EXPECT_EQ(a->status, authorization_status::valid);
    EXPECT_EQ(a->expires, 1425218947);
    EXPECT_EQ(a->identifier.value, "www.example.org");
    EXPECT_FALSE(a->wildcard);
    ASSERT_EQ(a->challenges.size(), 1u);
    const challenge& c = a->challenges[0];
    EXPECT_EQ(c.kind, challenge_type::http_01);
    EXPECT_EQ(c.type, "http-01");
    EXPECT_EQ(c.status, challenge_status::valid);
    EXPECT_EQ(c.token, "DGyRejmCefe7v4NfDGDKfA");
    EXPECT_EQ(c.url, "https://example.com/acme/chall/prV_B7yEyA4");
    EXPECT_EQ(c.validated, 1417435558);
    EXPECT_FALSE(c.error);
}

TEST(AcmeMessages, PebbleAuthorizationKeepsUnknownChallengeTypes) {
    std::string error;
    auto a = parse_authorization(pebble_authorization, error);
    ASSERT_TRUE(a) << error;
    EXPECT_TRUE(a->wildcard);
    EXPECT_EQ(a->expires, 1795896000);
    ASSERT_EQ(a->challenges.size(), 4u);
    EXPECT_EQ(a->challenges[0].kind, challenge_type::tls_alpn_01);
    EXPECT_EQ(a->challenges[1].kind, challenge_type::http_01);
    EXPECT_EQ(a->challenges[2].kind, challenge_type::dns_01);
    EXPECT_EQ(a->challenges[2].status, challenge_status::invalid);
    ASSERT_TRUE(a->challenges[2].error);
    EXPECT_EQ(a->challenges[2].error->detail, "NXDOMAIN");
    EXPECT_EQ(a->challenges[3].kind, challenge_type::unknown);
    EXPECT_EQ(a->challenges[3].type, "dns-account-01");
    EXPECT_EQ(a->challenges[3].token, "not checked: ../x");
}

TEST(AcmeMessages, ProblemWithSubproblems) {
    std::string error;
    auto p = parse_problem(rfc_problem, error);
    ASSERT_TRUE(p) << error;
    EXPECT_EQ(p->type, "urn:ietf:params:acme:error:malformed");
    EXPECT_EQ(p->status, 400);
    ASSERT_EQ(p->subproblems.size(), 2u);
    ASSERT_TRUE(p->subproblems[1].identifier);
    EXPECT_EQ(p->subproblems[1].identifier->value, "example.net");
    EXPECT_EQ(p->subproblems[1].type, "urn:ietf:params:acme:error:rejectedIdentifier");
    EXPECT_FALSE(is_bad_nonce(*p));
    EXPECT_EQ(describe(*p),
              "urn:ietf:params:acme:error:malformed: Some of the identifiers requested were "
              "rejected (HTTP 400); subproblems: dns _example.org: "
              "urn:ietf:params:acme:error:malformed: Invalid underscore in DNS name "
              "\"_example.org\"; dns example.net: urn:ietf:params:acme:error:rejectedIdentifier: "
              "This CA will not issue for \"example.net\"");
}

TEST(AcmeMessages, BadNonceAndMinimalProblems) {
    std::string error;
    auto p = parse_problem(bad_nonce_problem, error);
    ASSERT_TRUE(p) << error;
    EXPECT_TRUE(is_bad_nonce(*p));

    auto bare = parse_problem(R"({"detail":"line one\nline two"})", error);
    ASSERT_TRUE(bare) << error;
    EXPECT_EQ(bare->type, "about:blank");
    EXPECT_EQ(bare->status, 0);
    EXPECT_FALSE(is_bad_nonce(*bare));
    EXPECT_EQ(describe(*bare), "about:blank: line one line two"); // one line

    problem sub_without_type;
    sub_without_type.type = "urn:ietf:params:acme:error:compound";
    sub_without_type.subproblems.push_back(
        {"", "no A record", identifier{identifier_type::ip, "192.0.2.1"}});
    EXPECT_EQ(describe(sub_without_type), "urn:ietf:params:acme:error:compound; subproblems: ip "
                                          "192.0.2.1: urn:ietf:params:acme:error:compound: no A "
                                          "record");
}

TEST(AcmeMessages, ProblemStatusMustBeAnHttpStatus) {
    std::string error;
    EXPECT_FALSE(parse_problem(R"({"type":"x","status":"400"})", error));
    EXPECT_TRUE(contains(error, "\"status\" must be an integer, not a string")) << error;
    EXPECT_FALSE(parse_problem(R"({"type":"x","status":400.5})", error));
    EXPECT_TRUE(contains(error, "\"status\" must be an integer")) << error;
    EXPECT_FALSE(parse_problem(R"({"type":"x","status":99})", error));
    EXPECT_TRUE(contains(error, "not an HTTP status")) << error;
    EXPECT_FALSE(parse_problem(R"({"type":"x","status":18446744073709551615})", error));
    EXPECT_FALSE(parse_problem(R"({"subproblems":[{"identifier":{"type":"dns"}}]})", error));
    EXPECT_EQ(error, "ACME problem document is missing \"subproblems[0].identifier.value\"");
}

TEST(AcmeMessages, RenewalInfo) {
    std::string error;
    auto r = parse_renewal_info(ari, error);
    ASSERT_TRUE(r) << error;
    EXPECT_EQ(r->window_start, 1735790400);
    EXPECT_EQ(r->window_end, 1735876800);
    EXPECT_EQ(r->explanation_url, "https://acme.example.com/docs/ari");

    auto inverted = parse_renewal_info(
        R"({"suggestedWindow":{"start":"2025-01-03T04:00:00Z","end":"2025-01-03T04:00:00Z"}})",
        error);
    ASSERT_FALSE(inverted);
    EXPECT_TRUE(contains(error, "\"suggestedWindow\" does not end after it starts")) << error;
    EXPECT_FALSE(parse_renewal_info(
        R"({"suggestedWindow":{"start":"2025-01-03T04:00:00Z","end":"2025-01-03T05:59:59+02:00"}})",
        error));
    EXPECT_TRUE(parse_renewal_info(
        R"({"suggestedWindow":{"start":"2025-01-03T04:00:00Z","end":"2025-01-03T06:00:01+02:00"}})",
        error))
        << error;
    EXPECT_FALSE(
        parse_renewal_info(R"({"suggestedWindow":{"start":"2025-01-03T04:00:00Z"}})", error));
    EXPECT_EQ(error, "ACME renewal info is missing \"suggestedWindow.end\"");
    EXPECT_FALSE(parse_renewal_info(R"({"suggestedWindow":"soon"})", error));
    EXPECT_EQ(error, "ACME renewal info: \"suggestedWindow\" must be an object, not a string");
}

// --- Required fields and types -----------------------------------------------------------------

TEST(AcmeMessages, DirectoryMissingRequiredUrl) {
    std::vector<member> base = {{"newNonce", "\"https://ca.example/nonce\""},
                                {"newAccount", "\"https://ca.example/acct\""},
                                {"newOrder", "\"https://ca.example/order\""}};
    for (std::size_t skip = 0; skip < base.size(); ++skip) {
        std::vector<member> m = base;
        m.erase(m.begin() + static_cast<std::ptrdiff_t>(skip));
        std::string error;
        auto d = parse_directory(render(m), error);
        ASSERT_FALSE(d);
        EXPECT_EQ(d.error().value(), EBADMSG);
        EXPECT_EQ(error, "ACME directory is missing \"" + base[skip].key + "\"");
    }
    std::string error;
    EXPECT_TRUE(parse_directory(render(base), error)) << error;
}

// Each document, written as members: dropping a required one, or giving any one a value of the
// wrong type, is an error that names the key.
struct flat_case {
    const char* what;
    std::vector<member> members;
    std::vector<std::string> required;
    parse_fn parse;
};

std::vector<flat_case> flat_cases() {
    return {
        {"directory",
         {{"newNonce", "\"https://ca/n\""},
          {"newAccount", "\"https://ca/a\""},
          {"newOrder", "\"https://ca/o\""},
          {"revokeCert", "\"https://ca/r\""},
          {"keyChange", "\"https://ca/k\""},
          {"newAuthz", "\"https://ca/z\""},
          {"renewalInfo", "\"https://ca/ri\""},
          {"meta", R"({"termsOfService":"https://ca/tos","caaIdentities":["ca"]})"}},
         {"newNonce", "newAccount", "newOrder"},
         wrap(parse_directory)},
        {"account",
         {{"status", "\"valid\""}, {"contact", "[\"mailto:a@b\"]"}, {"orders", "\"https://ca/l\""}},
         {"status"},
         wrap(parse_account)},
        {"order",
         {{"status", "\"ready\""},
          {"expires", "\"2026-11-28T20:00:00Z\""},
          {"identifiers", R"([{"type":"dns","value":"a.example"}])"},
          {"notBefore", "\"2026-11-28T20:00:00Z\""},
          {"notAfter", "\"2026-12-28T20:00:00Z\""},
          {"authorizations", "[\"https://ca/authz/1\"]"},
          {"finalize", "\"https://ca/finalize/1\""},
          {"certificate", "\"https://ca/cert/1\""},
          {"error", R"({"type":"urn:ietf:params:acme:error:serverInternal"})"},
          {"replaces", "\"abc.def\""},
          {"profile", "\"classic\""}},
         {"status", "identifiers", "authorizations", "finalize"},
         wrap(parse_order)},
        {"authorization",
         {{"status", "\"pending\""},
          {"identifier", R"({"type":"dns","value":"a.example"})"},
          {"expires", "\"2026-11-28T20:00:00Z\""},
          {"wildcard", "true"},
          {"challenges",
           R"([{"type":"http-01","url":"https://ca/c/1","status":"pending","token":"abc"}])"}},
         {"status", "identifier", "challenges"},
         wrap(parse_authorization)},
        {"problem",
         {{"type", "\"urn:ietf:params:acme:error:malformed\""},
          {"detail", "\"bad\""},
          {"status", "400"},
          {"subproblems", R"([{"type":"t","detail":"d"}])"}},
         {},
         wrap(parse_problem)},
        {"renewal info",
         {{"suggestedWindow", R"({"start":"2025-01-02T04:00:00Z","end":"2025-01-03T04:00:00Z"})"},
          {"explanationURL", "\"https://ca/why\""}},
         {"suggestedWindow"},
         wrap(parse_renewal_info)},
    };
}

TEST(AcmeMessages, EveryRequiredFieldOmittedAndEveryFieldMistyped) {
    for (const flat_case& c : flat_cases()) {
        std::string error;
        std::error_code ec;
        ASSERT_TRUE(c.parse(render(c.members), error, ec)) << c.what << ": " << error;
        for (std::size_t i = 0; i < c.members.size(); ++i) {
            const std::string& key = c.members[i].key;
            bool required =
                std::find(c.required.begin(), c.required.end(), key) != c.required.end();
            std::vector<member> dropped = c.members;
            dropped.erase(dropped.begin() + static_cast<std::ptrdiff_t>(i));
            error.clear();
            bool ok = c.parse(render(dropped), error, ec);
            EXPECT_EQ(ok, !required) << c.what << " without " << key << ": " << error;
            if (required) {
                EXPECT_TRUE(contains(error, "is missing \"" + key + "\"")) << error;
                EXPECT_EQ(ec.value(), EBADMSG);
            }

            std::vector<member> mistyped = c.members;
            bool numeric = c.members[i].value[0] >= '0' && c.members[i].value[0] <= '9';
            mistyped[i].value = numeric ? "\"42\"" : "42";
            error.clear();
            EXPECT_FALSE(c.parse(render(mistyped), error, ec)) << c.what << " " << key;
            EXPECT_TRUE(contains(error, "\"" + key + "\" must be ")) << error;
            EXPECT_TRUE(contains(error, numeric ? ", not a string" : ", not a number")) << error;

            // null is absent: fine for optional members, "missing" for required ones.
            std::vector<member> nulled = c.members;
            nulled[i].value = "null";
            EXPECT_EQ(c.parse(render(nulled), error, ec), !required) << c.what << " " << key;
        }
    }
}

TEST(AcmeMessages, NestedFieldsAreCheckedWithTheirPath) {
    std::string error;
    const std::string head = R"({"status":"pending","identifier":{"type":"dns","value":"a"},)";
    auto authz = [&](std::string_view challenges) {
        return parse_authorization(head + R"("challenges":)" + std::string(challenges) + "}",
                                   error);
    };
    EXPECT_FALSE(authz(R"([{"type":"http-01","status":"pending","token":"t"}])"));
    EXPECT_EQ(error, "ACME authorization is missing \"challenges[0].url\"");
    EXPECT_FALSE(authz(R"([{"type":"dns-01","url":"https://c/1","status":"pending","token":"t"},
                          {"url":"https://c/2","status":"pending","token":"t"}])"));
    EXPECT_EQ(error, "ACME authorization is missing \"challenges[1].type\"");
    EXPECT_FALSE(authz(R"([{"type":"http-01","url":"https://c/1","status":"pending"}])"));
    EXPECT_EQ(error, "ACME authorization is missing \"challenges[0].token\"");
    EXPECT_FALSE(authz(R"([{"type":"http-01","url":"https://c/1","status":"done","token":"t"}])"));
    EXPECT_EQ(error, "ACME authorization: \"challenges[0].status\" is \"done\", expected "
                     "pending, processing, valid or invalid");
    EXPECT_FALSE(authz(R"([{"type":"http-01","url":"/c/1","status":"pending","token":"t"}])"));
    EXPECT_EQ(error, "ACME authorization: \"challenges[0].url\" must be an absolute http(s) URL, "
                     "not \"/c/1\"");
    EXPECT_FALSE(authz(R"([{"type":"http-01","url":"https://c/1","status":"valid","token":"t",
                           "validated":"yesterday"}])"));
    EXPECT_TRUE(contains(error, "\"challenges[0].validated\" is not an RFC 3339 timestamp"))
        << error;
    EXPECT_FALSE(authz(R"(["http-01"])"));
    EXPECT_EQ(error, "ACME authorization: \"challenges[0]\" must be an object, not a string");
    EXPECT_FALSE(authz(R"([{"type":"http-01","url":"https://c/1","status":"invalid","token":"t",
                           "error":{"type":7}}])"));
    EXPECT_EQ(error, "ACME authorization: \"challenges[0].error.type\" must be a string, not a "
                     "number");
    EXPECT_TRUE(authz("[]")) << error;

    EXPECT_FALSE(parse_authorization(R"({"status":"pending","identifier":{"type":"email",
        "value":"a@b"},"challenges":[]})",
                                     error));
    EXPECT_EQ(error, "ACME authorization: \"identifier.type\" is \"email\", expected dns or ip");
    EXPECT_FALSE(parse_authorization(R"({"status":"pending","identifier":{"type":"dns",
        "value":""},"challenges":[]})",
                                     error));
    EXPECT_EQ(error, "ACME authorization: \"identifier.value\" is empty");

    EXPECT_FALSE(parse_order(R"({"status":"pending","identifiers":[],"authorizations":[],
        "finalize":"https://ca/f"})",
                             error));
    EXPECT_EQ(error, "ACME order: \"identifiers\" is empty");
    EXPECT_FALSE(parse_order(R"({"status":"pending","identifiers":[{"type":"dns","value":"a"}],
        "authorizations":["https://ca/a/1", 2],"finalize":"https://ca/f"})",
                             error));
    EXPECT_EQ(error, "ACME order: \"authorizations[1]\" must be a string, not a number");
    EXPECT_FALSE(parse_directory(R"({"newNonce":"https://n","newAccount":"https://a",
        "newOrder":"https://o","meta":{"profiles":{"classic":"ok","odd":{}}}})",
                                 error));
    EXPECT_EQ(error, "ACME directory: \"meta.profiles.odd\" must be a string, not an object");
    EXPECT_FALSE(parse_directory(R"({"newNonce":"https://n","newAccount":"https://a",
        "newOrder":"https://o","meta":{"externalAccountRequired":"false"}})",
                                 error));
    EXPECT_EQ(error, "ACME directory: \"meta.externalAccountRequired\" must be a boolean, not a "
                     "string");
}

TEST(AcmeMessages, EndpointUrlsMustBeAbsoluteHttp) {
    for (std::string_view url : {"/acme/new-nonce", "ftp://ca/n", "https://", "https:///path",
                                 "https://ca/a b", "https//ca/n", "", "javascript:alert(1)"}) {
        std::string json = R"({"newNonce":")" + std::string(url) +
                           R"(","newAccount":"https://a","newOrder":"https://o"})";
        std::string error;
        EXPECT_FALSE(parse_directory(json, error)) << url;
        EXPECT_TRUE(contains(error, "\"newNonce\" must be an absolute http(s) URL")) << error;
    }
    std::string error;
    EXPECT_TRUE(parse_directory(R"({"newNonce":"HTTPS://CA.example:8443/n?x=1",
        "newAccount":"http://[2001:db8::1]/a","newOrder":"https://o"})",
                                error))
        << error;
}

// --- Tokens ------------------------------------------------------------------------------------

TEST(AcmeMessages, IllegalTokensNameTheChallengeType) {
    std::string long_token(300, 'a');
    for (std::string_view token :
         std::initializer_list<std::string_view>{"../x", "a b", "", "abc=", "a/b", "a.b",
                                                 "\\u00e9t\\u00e9", std::string_view(long_token)}) {
        for (std::string_view type : {"http-01", "dns-01", "tls-alpn-01"}) {
            std::string json = R"({"status":"pending","identifier":{"type":"dns","value":"a"},
                "challenges":[{"type":")" +
                               std::string(type) +
                               R"(","url":"https://ca/c","status":"pending","token":")" +
                               std::string(token) + R"("}]})";
            std::string error;
            auto a = parse_authorization(json, error);
            ASSERT_FALSE(a) << type << " " << token;
            EXPECT_EQ(a.error().value(), EBADMSG);
            EXPECT_TRUE(contains(error, "challenge " + std::string(type) + " has an invalid token"))
                << error;
            EXPECT_LT(error.size(), 200u) << "the message clips long tokens";
        }
    }
}

TEST(AcmeMessages, TokenCheck) {
    EXPECT_TRUE(is_base64url_token("DGyRejmCefe7v4NfDGDKfA"));
    EXPECT_TRUE(is_base64url_token("-_09azAZ"));
    EXPECT_TRUE(is_base64url_token(std::string(256, 'x')));
    EXPECT_FALSE(is_base64url_token(std::string(257, 'x')));
    EXPECT_FALSE(is_base64url_token(""));
    EXPECT_FALSE(is_base64url_token("../x"));
    EXPECT_FALSE(is_base64url_token("a b"));
    EXPECT_FALSE(is_base64url_token("abc="));
    EXPECT_FALSE(is_base64url_token("a+b"));
    EXPECT_FALSE(is_base64url_token(std::string_view("a\0b", 3)));
}

// --- Broken input ------------------------------------------------------------------------------

TEST(AcmeMessages, EveryTruncationIsAnErrorNotACrash) {
    for (const named_doc& d : all_documents()) {
        for (std::size_t n = 0; n < d.json.size(); ++n) {
            std::string error;
            std::error_code ec;
            bool ok = d.parse(d.json.substr(0, n), error, ec);
            ASSERT_FALSE(ok) << d.name << " cut at " << n;
            ASSERT_FALSE(error.empty()) << d.name << " cut at " << n;
            ASSERT_EQ(ec.value(), EBADMSG);
        }
    }
}

TEST(AcmeMessages, EveryByteFlipParsesOrFails) {
    // Not a fuzzer, but every position sees a quote, a brace and a bad byte: only the outcome
    // matters (no crash, an error message whenever it fails).
    for (const named_doc& d : all_documents()) {
        for (std::size_t i = 0; i < d.json.size(); ++i) {
            for (char c : {'"', '}', '\xff', '1'}) {
                std::string mutated(d.json);
                mutated[i] = c;
                std::string error;
                std::error_code ec;
                if (!d.parse(mutated, error, ec)) {
                    ASSERT_FALSE(error.empty()) << d.name << i;
                }
            }
        }
    }
}

TEST(AcmeMessages, OversizedDocumentsAreRefused) {
    std::string big(rfc_problem);
    big.append(max_message_bytes - big.size(), ' ');
    std::string error;
    EXPECT_TRUE(parse_problem(big, error)) << error; // exactly at the limit
    big.push_back(' ');
    auto p = parse_problem(big, error);
    ASSERT_FALSE(p);
    EXPECT_EQ(p.error().value(), EMSGSIZE);
    EXPECT_EQ(error, "ACME problem document response is 1048577 bytes, over the limit of 1048576");
}

TEST(AcmeMessages, WrongContentIsNamed) {
    std::string error;
    EXPECT_FALSE(parse_order("<html>\r\n<head><title>502 Bad Gateway</title></head>", error));
    EXPECT_EQ(error, "ACME order response is not JSON (an HTML or XML page?): starts with "
                     "\"<html>?\?<head><title>502 Bad Gateway</ti\"...");
    EXPECT_FALSE(parse_order("", error));
    EXPECT_EQ(error, "ACME order response is empty");
    EXPECT_FALSE(parse_order(" \r\n ", error));
    EXPECT_EQ(error, "ACME order response is empty");
    EXPECT_FALSE(parse_order("[1,2]", error));
    EXPECT_EQ(error, "ACME order response must be a JSON object, not an array");
    EXPECT_FALSE(parse_order("\"ok\"", error));
    EXPECT_EQ(error, "ACME order response must be a JSON object, not a string");
    EXPECT_FALSE(parse_order("null", error));
    EXPECT_EQ(error, "ACME order response must be a JSON object, not null");
    EXPECT_FALSE(parse_directory("Service Unavailable", error));
    EXPECT_EQ(error, "ACME directory response is not JSON: starts with \"Service Unavailable\"");
    EXPECT_FALSE(parse_directory(R"({"newNonce": "https://n",})", error));
    EXPECT_TRUE(contains(error, "ACME directory response is not JSON (")) << error;
    EXPECT_FALSE(parse_problem("{\"detail\":\"\xc3\x28\"}", error)); // invalid UTF-8
    EXPECT_TRUE(contains(error, "not JSON")) << error;
    EXPECT_FALSE(parse_problem(R"({"type":"a"} {"type":"b"})", error));
    EXPECT_TRUE(contains(error, "not JSON")) << error;
    std::string deep =
        R"({"detail":"x","extra":)" + std::string(100000, '[') + std::string(100000, ']') + "}";
    EXPECT_FALSE(parse_problem(deep, error));
    EXPECT_TRUE(contains(error, "not JSON")) << error;
}

// --- RFC 3339 ----------------------------------------------------------------------------------

TEST(AcmeMessages, Rfc3339Accepted) {
    struct ok_case {
        const char* text;
        std::int64_t expected;
    };
    for (const ok_case& c : std::initializer_list<ok_case>{
             {"2026-11-28T20:00:00Z", 1795896000},
             {"2026-11-28T20:00:00.123456789Z", 1795896000},
             {"2026-11-28T20:00:00.9Z", 1795896000},
             {"2026-11-28T22:00:00+02:00", 1795896000},
             {"2026-11-28T15:30:00-04:30", 1795896000},
             {"2026-11-28T20:00:00-00:00", 1795896000},
             {"2026-11-29T19:59:00+23:59", 1795896000},
             {"2026-11-28t20:00:00z", 1795896000},
             {"1970-01-01T00:00:00Z", 0},
             {"1970-01-01T00:00:00+00:01", -60},
             {"2024-02-29T00:00:00Z", 1709164800},
             {"2000-02-29T00:00:00Z", 951782400},
             {"2016-12-31T23:59:60Z", 1483228800},
             {"9999-12-31T23:59:59Z", 253402300799},
             {"0001-01-01T00:00:00Z", -62135596800},
         }) {
        std::string error;
        auto t = parse_rfc3339(c.text, error);
        ASSERT_TRUE(t) << c.text << ": " << error;
        EXPECT_EQ(*t, c.expected) << c.text;
    }
}

TEST(AcmeMessages, Rfc3339Rejected) {
    for (const char* text : {
             "",
             "2026-11-28",
             "2026-11-28T20:00:00",
             "2026-11-28 20:00:00Z",
             "2026-11-28T20:00Z",
             "2026-11-28T20:00:00.Z",
             "2026-11-28T20:00:00+0200",
             "2026-11-28T20:00:00+02",
             "2026-11-28T20:00:00+24:00",
             "2026-11-28T20:00:00+02:60",
             "2026-11-28T20:00:00ZZ",
             "2026-11-28T20:00:00Z ",
             " 2026-11-28T20:00:00Z",
             "2026-02-29T00:00:00Z",
             "2026-02-30T00:00:00Z",
             "1900-02-29T00:00:00Z",
             "2026-04-31T00:00:00Z",
             "2026-13-01T00:00:00Z",
             "2026-00-01T00:00:00Z",
             "2026-01-00T00:00:00Z",
             "2026-11-28T24:00:00Z",
             "2026-11-28T20:60:00Z",
             "2026-11-28T20:00:61Z",
             "+2026-11-28T20:00:00Z",
             "26-11-28T20:00:00Z",
             "2026-1-28T20:00:00Z",
             "2026-11-28T2:00:00Z",
             "2026/11/28T20:00:00Z",
             "2026-11-28T20:00:00UTC",
             "2026-11-28T20:00:00+02:00[Europe/Paris]",
             "２０２６-11-28T20:00:00Z",
         }) {
        std::string error;
        auto t = parse_rfc3339(text, error);
        EXPECT_FALSE(t) << text;
        EXPECT_FALSE(error.empty()) << text;
    }
    std::string error;
    EXPECT_FALSE(parse_rfc3339("2026-02-30T00:00:00Z", error));
    EXPECT_EQ(error, "day 30 does not exist in 2026-02");
    EXPECT_FALSE(parse_rfc3339("2026-11-28T20:00:00", error));
    EXPECT_EQ(error, "expected 'Z' or an offset like +02:00 after the time");
}

TEST(AcmeMessages, Rfc3339InADocumentNamesTheField) {
    std::string error;
    std::string json(pebble_pending_order);
    json.replace(json.find("2026-11-28T20:00:00Z"), 20, "2026-02-30T20:00:00Z");
    EXPECT_FALSE(parse_order(json, error));
    EXPECT_EQ(error, "ACME order: \"expires\" is not an RFC 3339 timestamp "
                     "(\"2026-02-30T20:00:00Z\"): day 30 does not exist in 2026-02");
}

TEST(AcmeMessages, FormatRfc3339RoundTrips) {
    EXPECT_EQ(format_rfc3339(1795896000), "2026-11-28T20:00:00Z");
    EXPECT_EQ(format_rfc3339(0), "1970-01-01T00:00:00Z");
    EXPECT_EQ(format_rfc3339(-1), "1969-12-31T23:59:59Z");
    EXPECT_EQ(format_rfc3339(951782400 + 86399), "2000-02-29T23:59:59Z");
    for (std::int64_t t = -100 * 86400; t < 60LL * 365 * 86400; t += 86400 * 7 + 3607) {
        std::string error;
        auto back = parse_rfc3339(format_rfc3339(t), error);
        ASSERT_TRUE(back) << t << " " << format_rfc3339(t) << ": " << error;
        ASSERT_EQ(*back, t);
    }
}

// --- Small helpers -----------------------------------------------------------------------------

TEST(AcmeMessages, JsonContentTypes) {
    EXPECT_TRUE(is_json_content_type("application/json", "application/json"));
    EXPECT_TRUE(is_json_content_type("Application/JSON", "application/json"));
    EXPECT_TRUE(is_json_content_type("application/json; charset=utf-8", "application/json"));
    EXPECT_TRUE(is_json_content_type(" application/problem+json ;charset=UTF-8",
                                     "application/problem+json"));
    EXPECT_TRUE(is_json_content_type("application/problem+json\t", "application/problem+json"));
    EXPECT_FALSE(is_json_content_type("application/problem+json", "application/json"));
    EXPECT_FALSE(is_json_content_type("application/json", "application/problem+json"));
    EXPECT_FALSE(is_json_content_type("text/html; charset=utf-8", "application/json"));
    EXPECT_FALSE(is_json_content_type("application/jsonx", "application/json"));
    EXPECT_FALSE(is_json_content_type("application/json x", "application/json"));
    EXPECT_FALSE(is_json_content_type("", "application/json"));
    EXPECT_FALSE(is_json_content_type("; charset=utf-8", "application/json"));
}

TEST(AcmeMessages, EnumNamesRoundTrip) {
    for (auto s : {account_status::valid, account_status::deactivated, account_status::revoked}) {
        EXPECT_EQ(from_string<account_status>(to_string(s)), s);
    }
    for (auto s : {order_status::pending, order_status::ready, order_status::processing,
                   order_status::valid, order_status::invalid}) {
        EXPECT_EQ(from_string<order_status>(to_string(s)), s);
    }
    for (auto s : {authorization_status::pending, authorization_status::valid,
                   authorization_status::invalid, authorization_status::deactivated,
                   authorization_status::expired, authorization_status::revoked}) {
        EXPECT_EQ(from_string<authorization_status>(to_string(s)), s);
    }
    for (auto s : {challenge_status::pending, challenge_status::processing, challenge_status::valid,
                   challenge_status::invalid}) {
        EXPECT_EQ(from_string<challenge_status>(to_string(s)), s);
    }
    EXPECT_EQ(to_string(order_status::processing), "processing");
    EXPECT_EQ(to_string(identifier_type::ip), "ip");
    EXPECT_EQ(from_string<identifier_type>("dns"), identifier_type::dns);
    EXPECT_EQ(to_string(challenge_type::tls_alpn_01), "tls-alpn-01");
    EXPECT_EQ(from_string<challenge_type>("dns-01"), challenge_type::dns_01);
    EXPECT_EQ(from_string<challenge_type>("unknown"), std::nullopt);
    EXPECT_EQ(from_string<order_status>("Ready"), std::nullopt);
    EXPECT_EQ(from_string<authorization_status>(""), std::nullopt);
}
