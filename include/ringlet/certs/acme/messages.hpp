// messages: the JSON bodies an ACME server (RFC 8555, ARI RFC 9773) sends back, parsed into
// plain structs. The client (protocol) code only ever sees these structs, never JSON.
//
// The server is remote and not trusted to be well-behaved: a proxy may answer with an HTML error
// page, a connection may cut a body short, a CA may add fields or change a type. So:
//   - every bad input is an error value, never a crash, never an exception (simdjson's
//     error-code API); `error` then holds one line naming the document and the field
//     ("ACME order: \"finalize\" must be a string, not a number"), fit for a log;
//   - types are strict (a number where a string belongs is an error, with its key path);
//     unknown keys are ignored, so CA extensions don't break us; JSON null counts as absent;
//   - documents over max_message_bytes are refused before parsing (errc EMSGSIZE); every other
//     failure is EBADMSG;
//   - URLs we will later request (directory endpoints, order, authorization and challenge URLs)
//     must be absolute http:// or https:// URLs; URLs we only show a human (meta.termsOfService,
//     meta.website) need only be strings: Pebble's terms of service are a data: URL;
//   - challenge tokens end up in file paths and TLS certificates, so the token of every
//     challenge type ringlet knows must pass is_base64url_token(). Challenges of other types are
//     kept with kind == challenge_type::unknown (their token is not checked: we never use it).
//
// Times are unix seconds (RFC 3339 parsed strictly: fractions dropped, offsets applied). Optional
// URLs and strings are empty when absent. Nothing here reads a clock or does I/O. Pure and
// reentrant: call from any thread.
//
//   std::string err;
//   auto o = acme::parse_order(body, err);
//   if (!o) return fail(err);
//   if (o->status == acme::order_status::ready) finalize(o->finalize);
#pragma once

#include "ringlet/base/result.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ringlet::certs::acme {

// Real ACME documents are a few kilobytes; anything near this is not an ACME response.
inline constexpr std::size_t max_message_bytes = 1024 * 1024;

enum class account_status { valid, deactivated, revoked };
enum class order_status { pending, ready, processing, valid, invalid };
enum class authorization_status { pending, valid, invalid, deactivated, expired, revoked };
enum class challenge_status { pending, processing, valid, invalid };
enum class identifier_type { dns, ip };
enum class challenge_type { http_01, dns_01, tls_alpn_01, unknown };

// The protocol spelling: "valid", "http-01", "dns". challenge_type::unknown is "unknown".
std::string_view to_string(account_status s) noexcept;
std::string_view to_string(order_status s) noexcept;
std::string_view to_string(authorization_status s) noexcept;
std::string_view to_string(challenge_status s) noexcept;
std::string_view to_string(identifier_type t) noexcept;
std::string_view to_string(challenge_type t) noexcept;

// The inverse of to_string: exact, case-sensitive (as RFC 8555 spells them); nullopt for
// anything else, including "unknown" for challenge_type.
template <class E>
std::optional<E> from_string(std::string_view s) noexcept;
template <>
std::optional<account_status> from_string<account_status>(std::string_view s) noexcept;
template <>
std::optional<order_status> from_string<order_status>(std::string_view s) noexcept;
template <>
std::optional<authorization_status> from_string<authorization_status>(std::string_view) noexcept;
template <>
std::optional<challenge_status> from_string<challenge_status>(std::string_view s) noexcept;
template <>
std::optional<identifier_type> from_string<identifier_type>(std::string_view s) noexcept;
template <>
std::optional<challenge_type> from_string<challenge_type>(std::string_view s) noexcept;

struct identifier {
    identifier_type type = identifier_type::dns;
    std::string value; // non-empty; for a wildcard authorization, the name without "*."
};

// RFC 7807 problem details, as ACME uses them (RFC 8555 section 6.7).
struct subproblem {
    std::string type;
    std::string detail;
    std::optional<acme::identifier> identifier;
};

struct problem {
    std::string type = "about:blank"; // RFC 7807's default when the member is absent
    std::string detail;
    int status = 0; // the HTTP status the server meant; 0 when absent
    std::vector<subproblem> subproblems;
};

inline constexpr std::string_view acme_error_prefix = "urn:ietf:params:acme:error:";

// True for urn:ietf:params:acme:error:badNonce: retry the request with the fresh nonce from the
// response's Replay-Nonce header (RFC 8555 section 6.5).
bool is_bad_nonce(const problem& p) noexcept;

// One line for a log, control characters replaced by spaces:
//   "urn:ietf:params:acme:error:rejectedIdentifier: Error creating new order (HTTP 400);
//    subproblems: dns a.example: urn:ietf:params:acme:error:rejectedIdentifier: forbidden name"
std::string describe(const problem& p);

struct directory_meta {
    std::string terms_of_service; // any string (Pebble: a data: URL)
    std::string website;
    std::vector<std::string> caa_identities;
    bool external_account_required = false;
    std::map<std::string, std::string, std::less<>> profiles; // name -> description
};

// The directory (RFC 8555 section 7.1.1). newNonce, newAccount and newOrder are required; the
// other URLs are empty when the CA does not offer them.
struct directory {
    std::string new_nonce;
    std::string new_account;
    std::string new_order;
    std::string revoke_cert;
    std::string key_change;
    std::string new_authz;
    std::string renewal_info; // ARI (RFC 9773)
    directory_meta meta;
};

// The account object (section 7.1.2). Its URL is the Location header of the newAccount
// response: the caller keeps it.
struct account {
    account_status status = account_status::valid;
    std::vector<std::string> contact; // as sent ("mailto:..."), not checked
    std::string orders;               // may be empty: Let's Encrypt does not send it
};

// The order object (section 7.1.3). A "valid" order always has a certificate URL.
struct order {
    order_status status = order_status::pending;
    std::optional<std::int64_t> expires;
    std::vector<identifier> identifiers; // at least one
    std::optional<std::int64_t> not_before;
    std::optional<std::int64_t> not_after;
    std::vector<std::string> authorizations;
    std::string finalize;
    std::string certificate;      // empty until the order is valid
    std::optional<problem> error; // why the order became invalid
    std::string replaces;         // ARI: the certificate ID this order replaces
    std::string profile;          // the profile the CA chose, when it supports profiles
};

struct challenge {
    std::string type;                              // as sent, e.g. "http-01", "dns-account-01"
    challenge_type kind = challenge_type::unknown; // unknown: a type ringlet does not implement
    std::string url;
    challenge_status status = challenge_status::pending;
    std::string token; // is_base64url_token() unless kind is unknown (then possibly empty)
    std::optional<std::int64_t> validated;
    std::optional<problem> error;
};

// The authorization object (section 7.1.4).
struct authorization {
    authorization_status status = authorization_status::pending;
    acme::identifier identifier;
    std::optional<std::int64_t> expires;
    bool wildcard = false;
    std::vector<challenge> challenges;
};

// ARI renewal information (RFC 9773 section 4.2). start < end (the RFC calls any other window
// malformed).
struct renewal_info {
    std::int64_t window_start = 0;
    std::int64_t window_end = 0;
    std::string explanation_url; // optional, for humans
};

// The parsers. On failure: EMSGSIZE (over max_message_bytes) or EBADMSG, `error` says why.
result<directory> parse_directory(std::string_view json, std::string& error);
result<account> parse_account(std::string_view json, std::string& error);
result<order> parse_order(std::string_view json, std::string& error);
result<authorization> parse_authorization(std::string_view json, std::string& error);
result<problem> parse_problem(std::string_view json, std::string& error);
result<renewal_info> parse_renewal_info(std::string_view json, std::string& error);

// RFC 3339 date-time (section 5.6): "2026-11-28T20:00:00Z", "2026-11-28t20:00:00.123456789z",
// "2026-11-28T22:00:00+02:00". Lowercase t/z are allowed (RFC 3339 allows them); a space for
// T, missing seconds, missing offset, impossible dates (2026-02-30) and hours of 24 are not.
// A leap second (:60) is accepted and lands on the next second. Fractions are dropped.
// Errors: EBADMSG, `error` gives the reason (without repeating the text).
result<std::int64_t> parse_rfc3339(std::string_view text, std::string& error);
// "2026-11-28T20:00:00Z" for the unix time `t`.
std::string format_rfc3339(std::int64_t t);

// 1 to 256 characters, each in A-Z a-z 0-9 - _ (base64url without padding).
bool is_base64url_token(std::string_view token) noexcept;

// True when the Content-Type header `ct` names the media type `expected` ("application/json",
// "application/problem+json"), ignoring case, surrounding whitespace and parameters:
// "Application/Problem+JSON; charset=utf-8" matches "application/problem+json".
bool is_json_content_type(std::string_view ct, std::string_view expected) noexcept;

} // namespace ringlet::certs::acme
