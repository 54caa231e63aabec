// client: the RFC 8555 protocol flow against one CA, driven as coroutines on the control thread's
// reactor (its HTTPS requests go through http::fetch; nothing here blocks the thread).
//
//   open():   the directory, then the account: newAccount with the stored key (a CA answers an
//             already registered key with that account, so "find or create" is one request),
//             the contact e-mail, agreement to the terms, and the external account binding when
//             configured (or an error naming it when the CA requires one and none is set).
//   order():  newOrder for the names; each authorization that is not valid yet gets the asked
//             challenge type presented through the responder (already-valid ones are reused),
//             the challenge is triggered, the authorization polled; then finalize with the CSR,
//             poll the order, download the chain and, when `preferred_chain` names an issuer,
//             the Link rel="alternate" chains too, keeping the first whose top certificate was
//             issued by that name.
//
// Every URL the client requests must use the directory's scheme: an https CA cannot steer a
// signed request or the certificate download to cleartext.
//
// Requests: a nonce pool of one (each response's Replay-Nonce feeds the next request; newNonce
// when empty); a badNonce error is retried with the nonce from the error response. Polls honour
// Retry-After (bounded to 1..10 s a wait) within a total budget per order. Errors are values:
// `error` is one line for the log, with the problem document's type, detail and subproblems.
// `challenge_failed` tells the caller that the CA rejected the validation itself (so another
// challenge type may do better), as opposed to a network or protocol failure.
#pragma once

#include "ringlet/base/result.hpp"
#include "ringlet/certs/acme/jws.hpp"
#include "ringlet/certs/acme/messages.hpp"
#include "ringlet/certs/acme/settings.hpp"
#include "ringlet/http/client.hpp"
#include "ringlet/runtime/task.hpp"
#include "ringlet/tls/wolfssl.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ringlet::certs::acme {

// Makes challenge answers visible to the CA (the server publishes them to its reactors) and
// takes them back.
class challenge_responder {
public:
    virtual ~challenge_responder() = default;
    virtual result<void> present(challenge_type type, const identifier& id, std::string_view token,
                                 std::string_view key_authorization, std::string& error) = 0;
    virtual void withdraw(challenge_type type, const identifier& id, std::string_view token) = 0;
};

struct client_options {
    std::string directory_url;
    WOLFSSL_CTX* tls = nullptr; // client context for https:// (trust roots); null: http only
    http::client_limits limits;
    std::int64_t poll_budget_ns = 180'000'000'000; // per order: authorizations, then the order
    int bad_nonce_retries = 10;
    // Waited between presenting an order's challenges and asking the CA to validate them.
    std::int64_t present_delay_ns = 0;
    // Asked before every request and during waits: true ends the call with operation_canceled
    // (shutdown, or the site was removed by a reload).
    std::function<bool()> cancelled;
    // Called with the order's URL just before the finalize request. From then on the CA may
    // issue, so the caller records the order and the certificate key, and if the polling or the
    // download fails, it picks the certificate up with resume() rather than ordering (and
    // spending the CA's duplicate-certificate allowance) again.
    std::function<void(const std::string& order_url)> on_finalize;
};

struct order_result {
    std::string chain_pem; // leaf first
    std::string order_url;
    std::string certificate_url;
};

class client {
public:
    explicit client(client_options o) : o_(std::move(o)) {}

    rt::task<result<void>> open(const account_key& key, std::string_view email,
                                const std::optional<eab_settings>& eab, std::string& error);
    const std::string& account_url() const noexcept { return account_url_; }
    // After open() failed: the CA will never take this account key again (its account is
    // deactivated or revoked, RFC 8555 7.3.6), so only a new key and account can go on. Not set
    // for an `unauthorized` answer when an external account binding was sent: that is the
    // binding's fault, not the key's.
    bool account_unusable() const noexcept { return account_unusable_; }
    const acme::directory& directory() const noexcept { return dir_; }

    rt::task<result<order_result>> order(const std::vector<std::string>& names, challenge_type type,
                                         std::string_view csr_der, std::string_view preferred_chain,
                                         challenge_responder& responder, std::string& error,
                                         bool& challenge_failed);

    // An order finalized earlier (open() first): polls it until valid and downloads the chain.
    // `order_gone`: the CA says this order will not give a certificate (it is invalid, was never
    // finalized, or the CA answers 4xx, e.g. not found), so a new order is due. It stays false
    // for network failures and 5xx/429, after which the same order is worth asking again.
    rt::task<result<order_result>> resume(const std::string& order_url,
                                          std::string_view preferred_chain, std::string& error,
                                          bool& order_gone);

    // Requests sent (for tests and logs).
    std::size_t requests() const noexcept { return requests_; }

private:
    rt::task<result<http::client_response>> get(std::string_view url, std::string& error);
    // A JWS-signed POST; `payload` empty = POST-as-GET; `use_jwk` for newAccount.
    rt::task<result<http::client_response>> post(std::string_view what, std::string_view url,
                                                 std::string_view payload, bool use_jwk,
                                                 std::string& error);
    rt::task<result<void>> fresh_nonce(std::string& error);
    // Sleeps `ns` in short steps; false when cancelled meanwhile.
    rt::task<bool> wait(std::int64_t ns);
    bool stopped(std::string& error) const;
    // After a poll that found the object unfinished: waits as Retry-After (or the default)
    // says, or fails with timed_out ("<still> after the poll budget") past `deadline`.
    rt::task<result<void>> before_next_poll(const http::client_response& r, int attempt,
                                            std::int64_t deadline, std::string still,
                                            std::string& error);
    rt::task<result<authorization>> poll_authorization(const std::string& url,
                                                       std::int64_t deadline, std::string& error);
    rt::task<result<acme::order>> poll_order(const std::string& url, std::int64_t deadline,
                                             std::string& error);
    rt::task<result<std::string>> download(const std::string& url, std::string_view preferred_chain,
                                           std::string& error);

    // A polled order that should be valid: its chain downloaded, or an error naming its status
    // ("ACME order URL <status_verb> <status>").
    rt::task<result<order_result>> collect(const std::string& order_url, const acme::order& o,
                                           std::string_view status_verb,
                                           std::string_view preferred_chain, std::string& error);
    // The last signed request got a 4xx other than 429: asking again will not help.
    bool refused_for_good() const noexcept;

    client_options o_;
    acme::directory dir_;
    const account_key* key_ = nullptr;
    std::string account_url_;
    std::string nonce_;
    std::size_t requests_ = 0;
    int last_status_ = 0;      // of the last signed request's response (0: none arrived)
    std::string last_problem_; // its problem type, when it failed with one
    bool account_unusable_ = false;
};

// The common name of the issuer of the last certificate of a PEM chain ("" if unreadable).
std::string top_issuer_name(std::string_view chain_pem);
// How long to wait before polling again: Retry-After when given (1..10 s), else 1 s at first and
// growing to 5 s.
std::int64_t poll_delay_ns(std::optional<std::int64_t> retry_after_s, int attempt) noexcept;

} // namespace ringlet::certs::acme
