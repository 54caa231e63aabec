#include "ringlet/certs/acme/client.hpp"

#include "ringlet/base/base64.hpp"
#include "ringlet/base/json_writer.hpp"
#include "ringlet/base/log.hpp"
#include "ringlet/http/response_parser.hpp"
#include "ringlet/runtime/ops.hpp"
#include "ringlet/runtime/reactor.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <ctime>

namespace ringlet::certs::acme {

namespace {

identifier identifier_for(const std::string& name) {
    in6_addr a6;
    in_addr a4;
    std::string bare = name;
    if (bare.size() > 2 && bare.front() == '[' && bare.back() == ']') {
        bare = bare.substr(1, bare.size() - 2);
    }
    if (inet_pton(AF_INET, bare.c_str(), &a4) == 1 || inet_pton(AF_INET6, bare.c_str(), &a6) == 1) {
        return {identifier_type::ip, bare};
    }
    return {identifier_type::dns, name};
}

// The problem document of an error response, or one made up from the status line when the body
// is something else (a proxy's HTML page).
problem problem_of(const http::client_response& r) {
    std::string ignored;
    auto ct = r.header("Content-Type");
    if (ct && is_json_content_type(*ct, "application/problem+json")) {
        if (auto p = parse_problem(r.body, ignored)) {
            if (p->status == 0) p->status = r.status;
            return *p;
        }
    }
    problem p;
    p.status = r.status;
    p.detail = "HTTP " + std::to_string(r.status) + " " + r.reason + " without a problem document";
    return p;
}

} // namespace

std::int64_t poll_delay_ns(std::optional<std::int64_t> retry_after_s, int attempt) noexcept {
    constexpr std::int64_t second = 1'000'000'000;
    if (retry_after_s) return std::clamp<std::int64_t>(*retry_after_s, 1, 10) * second;
    return std::min<std::int64_t>(1 + attempt / 2, 5) * second;
}

std::string top_issuer_name(std::string_view chain_pem) {
    std::size_t last = chain_pem.rfind("-----BEGIN CERTIFICATE-----");
    if (last == std::string_view::npos) return {};
    std::string_view pem = chain_pem.substr(last);
    WOLFSSL_X509* x =
        wolfSSL_X509_load_certificate_buffer(reinterpret_cast<const unsigned char*>(pem.data()),
                                             static_cast<int>(pem.size()), WOLFSSL_FILETYPE_PEM);
    if (!x) return {};
    char cn[256] = {};
    int n = wolfSSL_X509_NAME_get_text_by_NID(wolfSSL_X509_get_issuer_name(x), NID_commonName, cn,
                                              sizeof cn);
    wolfSSL_X509_free(x);
    return n > 0 ? std::string(cn, static_cast<std::size_t>(n)) : std::string();
}

bool client::stopped(std::string& error) const {
    if (!o_.cancelled || !o_.cancelled()) return false;
    error = "stopped";
    return true;
}

rt::task<bool> client::wait(std::int64_t ns) {
    std::int64_t end = rt::reactor::clock_now() + ns;
    for (;;) {
        std::string ignored;
        if (stopped(ignored)) co_return false;
        std::int64_t left = end - rt::reactor::clock_now();
        if (left <= 0) co_return true;
        co_await rt::sleep_for(std::min<std::int64_t>(left, 250'000'000));
    }
}

rt::task<result<http::client_response>> client::get(std::string_view url, std::string& error) {
    auto u = http::parse_url(url);
    if (!u)
        co_return fail_msg(std::errc::invalid_argument, error, "bad ACME URL " + std::string(url));
    if (stopped(error)) co_return unexpected{std::make_error_code(std::errc::operation_canceled)};
    http::client_request req;
    req.target = std::move(*u);
    ++requests_;
    co_return co_await http::fetch(req, o_.tls, o_.limits, error);
}

rt::task<result<void>> client::fresh_nonce(std::string& error) {
    auto u = http::parse_url(dir_.new_nonce);
    if (!u) co_return fail_msg(std::errc::invalid_argument, error, "bad newNonce URL");
    http::client_request req;
    req.method = "HEAD";
    req.target = std::move(*u);
    ++requests_;
    auto r = co_await http::fetch(req, o_.tls, o_.limits, error);
    if (!r) co_return unexpected{r.error()};
    auto n = r->header("Replay-Nonce");
    if (!n || n->empty()) {
        co_return fail_msg(std::errc::protocol_error, error,
                           "ACME newNonce: no Replay-Nonce in the response (HTTP " +
                               std::to_string(r->status) + ")");
    }
    nonce_ = std::string(*n);
    co_return result<void>{};
}

rt::task<result<http::client_response>> client::post(std::string_view what, std::string_view url,
                                                     std::string_view payload, bool use_jwk,
                                                     std::string& error) {
    auto u = http::parse_url(url);
    if (!u)
        co_return fail_msg(std::errc::invalid_argument, error, "bad ACME URL " + std::string(url));
    if (o_.directory_url.starts_with("https://") && !u->https()) {
        co_return fail_msg(std::errc::protocol_error, error,
                           "ACME " + std::string(what) + ": the CA sent a plain-http URL (" +
                               std::string(url) + ") for an https directory; refusing");
    }
    for (int attempt = 0;; ++attempt) {
        if (stopped(error)) {
            co_return unexpected{std::make_error_code(std::errc::operation_canceled)};
        }
        if (nonce_.empty()) {
            auto n = co_await fresh_nonce(error);
            if (!n) co_return unexpected{n.error()};
        }
        auto body = sign_jws(*key_, url, nonce_, use_jwk ? std::string_view() : account_url_,
                             payload, error);
        nonce_.clear();
        if (!body) co_return unexpected{body.error()};
        http::client_request req;
        req.method = "POST";
        req.target = *u;
        req.headers = {{"Content-Type", "application/jose+json"}};
        req.body = std::move(*body);
        ++requests_;
        last_status_ = 0;
        auto r = co_await http::fetch(req, o_.tls, o_.limits, error);
        if (!r) co_return unexpected{r.error()};
        last_status_ = r->status;
        if (auto n = r->header("Replay-Nonce"); n && !n->empty()) nonce_ = std::string(*n);
        if (r->status < 400) co_return std::move(*r);
        problem p = problem_of(*r);
        last_problem_ = p.type;
        if (is_bad_nonce(p) && attempt < o_.bad_nonce_retries) {
            RINGLET_LOG(debug) << "acme: " << what << ": badNonce, retrying";
            continue;
        }
        co_return fail_msg(std::errc::protocol_error, error,
                           "ACME " + std::string(what) + " failed: " + describe(p));
    }
}

rt::task<result<void>> client::open(const account_key& key, std::string_view email,
                                    const std::optional<eab_settings>& eab, std::string& error) {
    key_ = &key;
    auto r = co_await get(o_.directory_url, error);
    if (!r) {
        error = "ACME directory " + o_.directory_url + ": " + error;
        co_return unexpected{r.error()};
    }
    if (r->status != 200) {
        co_return fail_msg(std::errc::protocol_error, error,
                           "ACME directory " + o_.directory_url + ": HTTP " +
                               std::to_string(r->status) + " (is this an ACME directory URL?)");
    }
    auto d = parse_directory(r->body, error);
    if (!d) {
        error = o_.directory_url + ": " + error;
        co_return unexpected{d.error()};
    }
    dir_ = std::move(*d);
    if (dir_.meta.external_account_required && !eab) {
        co_return fail_msg(std::errc::invalid_argument, error,
                           "the CA at " + o_.directory_url +
                               " requires external account binding: set acme.eab (key_id and "
                               "hmac_key from the CA)");
    }
    json_object payload;
    payload.add("termsOfServiceAgreed", true);
    if (!email.empty()) {
        std::string contact = "[";
        append_json_string(contact, "mailto:" + std::string(email));
        payload.add_raw("contact", contact + "]");
    }
    if (eab) {
        auto binding = eab_jws(eab->key_id, eab->hmac_key, key, dir_.new_account, error);
        if (!binding) co_return unexpected{binding.error()};
        payload.add_raw("externalAccountBinding", *binding);
    }
    account_unusable_ = false;
    last_problem_.clear();
    auto a = co_await post("newAccount", dir_.new_account, payload.str(), true, error);
    if (!a) {
        // A deactivated account's key gets 403 unauthorized from newAccount (Boulder, Pebble).
        account_unusable_ = !eab && last_status_ == 403 &&
                            last_problem_ == "urn:ietf:params:acme:error:unauthorized";
        co_return unexpected{a.error()};
    }
    auto location = a->header("Location");
    if (!location || location->empty()) {
        co_return fail_msg(std::errc::protocol_error, error,
                           "ACME newAccount: no Location header (the account URL)");
    }
    auto acc = parse_account(a->body, error);
    if (!acc) co_return unexpected{acc.error()};
    if (acc->status != account_status::valid) {
        account_unusable_ = true;
        co_return fail_msg(std::errc::permission_denied, error,
                           "ACME account " + std::string(*location) + " is " +
                               std::string(to_string(acc->status)));
    }
    account_url_ = std::string(*location);
    co_return result<void>{};
}

rt::task<result<void>> client::before_next_poll(const http::client_response& r, int attempt,
                                                std::int64_t deadline, std::string still,
                                                std::string& error) {
    std::optional<std::int64_t> after;
    if (auto ra = r.header("Retry-After")) after = http::parse_retry_after(*ra, ::time(nullptr));
    std::int64_t pause = poll_delay_ns(after, attempt);
    if (rt::reactor::clock_now() + pause > deadline) {
        co_return fail_msg(std::errc::timed_out, error, still + " after the poll budget");
    }
    if (!co_await wait(pause)) co_return fail_msg(std::errc::operation_canceled, error, "stopped");
    co_return result<void>{};
}

rt::task<result<authorization>>
client::poll_authorization(const std::string& url, std::int64_t deadline, std::string& error) {
    for (int attempt = 0;; ++attempt) {
        auto r = co_await post("authorization", url, "", false, error);
        if (!r) co_return unexpected{r.error()};
        auto a = parse_authorization(r->body, error);
        if (!a) co_return unexpected{a.error()};
        if (a->status != authorization_status::pending) co_return std::move(*a);
        auto more = co_await before_next_poll(
            *r, attempt, deadline,
            "ACME authorization for " + a->identifier.value + " still pending", error);
        if (!more) co_return unexpected{more.error()};
    }
}

rt::task<result<order>> client::poll_order(const std::string& url, std::int64_t deadline,
                                           std::string& error) {
    for (int attempt = 0;; ++attempt) {
        auto r = co_await post("order", url, "", false, error);
        if (!r) co_return unexpected{r.error()};
        auto o = parse_order(r->body, error);
        if (!o) co_return unexpected{o.error()};
        if (o->status != order_status::pending && o->status != order_status::processing) {
            co_return std::move(*o);
        }
        auto more = co_await before_next_poll(
            *r, attempt, deadline,
            "ACME order " + url + " still " + std::string(to_string(o->status)), error);
        if (!more) co_return unexpected{more.error()};
    }
}

rt::task<result<std::string>>
client::download(const std::string& url, std::string_view preferred_chain, std::string& error) {
    auto r = co_await post("certificate download", url, "", false, error);
    if (!r) co_return unexpected{r.error()};
    if (r->body.find("-----BEGIN CERTIFICATE-----") == std::string::npos) {
        co_return fail_msg(std::errc::protocol_error, error,
                           "ACME certificate download: the response holds no PEM certificate");
    }
    if (preferred_chain.empty() || top_issuer_name(r->body) == preferred_chain) {
        co_return std::move(r->body);
    }
    std::vector<std::string> alternates;
    for (std::string_view v : r->headers_named("Link")) {
        auto links = http::parse_link_header(v);
        if (!links) continue;
        for (const auto& l : *links) {
            if (l.rel == "alternate") alternates.emplace_back(l.uri);
        }
    }
    std::string fallback = std::move(r->body);
    auto base = http::parse_url(url);
    for (std::size_t i = 0; i < alternates.size() && i < 8 && base; ++i) {
        auto target = http::resolve_url(*base, alternates[i]);
        if (!target) continue;
        std::string alt_error;
        auto alt = co_await post("alternate chain", target->to_string(), "", false, alt_error);
        if (!alt) {
            RINGLET_LOG(warn) << "acme: " << alt_error;
            continue;
        }
        if (top_issuer_name(alt->body) == preferred_chain) co_return std::move(alt->body);
    }
    RINGLET_LOG(info) << "acme: no chain issued by \"" << preferred_chain
                      << "\" offered; using the default chain";
    co_return fallback;
}

rt::task<result<order_result>> client::order(const std::vector<std::string>& names,
                                             challenge_type type, std::string_view csr_der,
                                             std::string_view preferred_chain,
                                             challenge_responder& responder, std::string& error,
                                             bool& challenge_failed) {
    challenge_failed = false;
    std::int64_t deadline = rt::reactor::clock_now() + o_.poll_budget_ns;
    std::string ids = "[";
    for (const std::string& n : names) {
        identifier id = identifier_for(n);
        json_object o;
        o.add("type", to_string(id.type)).add("value", id.value);
        ids += (ids.size() > 1 ? "," : "") + o.str();
    }
    ids += "]";
    json_object payload;
    payload.add_raw("identifiers", ids);
    auto r = co_await post("newOrder", dir_.new_order, payload.str(), false, error);
    if (!r) co_return unexpected{r.error()};
    auto location = r->header("Location");
    if (!location)
        co_return fail_msg(std::errc::protocol_error, error, "ACME newOrder: no Location");
    order_result out;
    out.order_url = std::string(*location);
    auto ord = parse_order(r->body, error);
    if (!ord) co_return unexpected{ord.error()};

    // Present every challenge first, then trigger them: the CA may validate at once.
    struct pending {
        std::string authz_url, challenge_url, token;
        identifier id;
    };
    std::vector<pending> started;
    struct cleanup {
        challenge_responder& r;
        challenge_type t;
        std::vector<pending>& list;
        ~cleanup() {
            for (const auto& p : list) r.withdraw(t, p.id, p.token);
        }
    } withdraw_all{responder, type, started};
    for (const std::string& url : ord->authorizations) {
        auto ar = co_await post("authorization", url, "", false, error);
        if (!ar) co_return unexpected{ar.error()};
        auto authz = parse_authorization(ar->body, error);
        if (!authz) co_return unexpected{authz.error()};
        if (authz->status == authorization_status::valid) continue; // reused
        if (authz->status != authorization_status::pending) {
            co_return fail_msg(std::errc::protocol_error, error,
                               "ACME authorization for " + authz->identifier.value + " is " +
                                   std::string(to_string(authz->status)));
        }
        auto ch = std::find_if(authz->challenges.begin(), authz->challenges.end(),
                               [&](const challenge& c) { return c.kind == type; });
        if (ch == authz->challenges.end()) {
            challenge_failed = true;
            co_return fail_msg(std::errc::not_supported, error,
                               "the CA offers no " + std::string(to_string(type)) +
                                   " challenge for " + authz->identifier.value);
        }
        std::string key_auth = key_authorization(ch->token, *key_);
        auto shown = responder.present(type, authz->identifier, ch->token, key_auth, error);
        if (!shown) co_return unexpected{shown.error()};
        started.push_back({url, ch->url, ch->token, authz->identifier});
    }
    if (!started.empty() && o_.present_delay_ns > 0 && !co_await wait(o_.present_delay_ns)) {
        co_return fail_msg(std::errc::operation_canceled, error, "stopped");
    }
    for (const pending& p : started) {
        auto cr = co_await post("challenge", p.challenge_url, "{}", false, error);
        if (!cr) co_return unexpected{cr.error()};
    }
    for (const pending& p : started) {
        auto authz = co_await poll_authorization(p.authz_url, deadline, error);
        if (!authz) co_return unexpected{authz.error()};
        if (authz->status == authorization_status::valid) continue;
        challenge_failed = true;
        std::string why;
        for (const challenge& c : authz->challenges) {
            if (c.kind == type && c.error) why = describe(*c.error);
        }
        co_return fail_msg(std::errc::permission_denied, error,
                           "ACME " + std::string(to_string(type)) + " validation of " +
                               authz->identifier.value + " failed" +
                               (why.empty() ? std::string() : ": " + why));
    }

    // Finalize once the order is ready.
    auto ready = co_await poll_order(out.order_url, deadline, error);
    if (!ready) co_return unexpected{ready.error()};
    if (ready->status == order_status::invalid) {
        co_return fail_msg(std::errc::protocol_error, error,
                           "ACME order " + out.order_url + " became invalid" +
                               (ready->error ? ": " + describe(*ready->error) : std::string()));
    }
    if (ready->status == order_status::ready) {
        json_object fin;
        fin.add("csr", base64url_encode(csr_der));
        if (o_.on_finalize) o_.on_finalize(out.order_url);
        auto fr = co_await post("finalize", ready->finalize, fin.str(), false, error);
        if (!fr) co_return unexpected{fr.error()};
        ready = co_await poll_order(out.order_url, deadline, error);
        if (!ready) co_return unexpected{ready.error()};
    }
    co_return co_await collect(out.order_url, *ready, "ended", preferred_chain, error);
}

rt::task<result<order_result>> client::collect(const std::string& order_url, const acme::order& o,
                                               std::string_view status_verb,
                                               std::string_view preferred_chain,
                                               std::string& error) {
    if (o.status != order_status::valid || o.certificate.empty()) {
        co_return fail_msg(std::errc::protocol_error, error,
                           "ACME order " + order_url + " " + std::string(status_verb) + " " +
                               std::string(to_string(o.status)) +
                               (o.error ? ": " + describe(*o.error) : std::string()));
    }
    order_result out;
    out.order_url = order_url;
    out.certificate_url = o.certificate;
    auto chain = co_await download(o.certificate, preferred_chain, error);
    if (!chain) co_return unexpected{chain.error()};
    out.chain_pem = std::move(*chain);
    co_return out;
}

bool client::refused_for_good() const noexcept {
    return last_status_ >= 400 && last_status_ < 500 && last_status_ != 429;
}

rt::task<result<order_result>> client::resume(const std::string& order_url,
                                              std::string_view preferred_chain, std::string& error,
                                              bool& order_gone) {
    order_gone = false;
    std::int64_t deadline = rt::reactor::clock_now() + o_.poll_budget_ns;
    auto o = co_await poll_order(order_url, deadline, error);
    if (!o) {
        order_gone = refused_for_good();
        co_return unexpected{o.error()};
    }
    auto got = co_await collect(order_url, *o, "is", preferred_chain, error);
    if (!got) {
        // Not valid (any more): nothing will come of this order. Else the download failed.
        order_gone =
            o->status != order_status::valid || o->certificate.empty() || refused_for_good();
    }
    co_return got;
}

} // namespace ringlet::certs::acme
