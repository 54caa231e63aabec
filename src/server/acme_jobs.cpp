#include "server/acme_jobs.hpp"
#include "server/wall_clock.hpp"

#include "ringlet/base/json_writer.hpp"
#include "ringlet/base/log.hpp"
#include "ringlet/certs/acme/csr.hpp"
#include "ringlet/certs/internal_ca.hpp"
#include "ringlet/certs/keys.hpp"
#include "ringlet/certs/policy.hpp"
#include "ringlet/certs/storage_lock.hpp"
#include "ringlet/runtime/ops.hpp"
#include "ringlet/tls/client_context.hpp"

#include <simdjson.h>

#include <algorithm>
#include <ctime>
#include <random>

namespace ringlet::server::detail {

using certs::acme::challenge_type;

namespace {

std::string joined(const std::vector<std::string>& names) {
    std::string s;
    for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
    return s;
}

// Checks `stop` between steps: a job ends early on shutdown or when its site is gone.
bool abandoned(const acme_slot& slot, const acme_env& env) {
    return slot.cancelled || env.stopping;
}

rt::task<bool> pause(const acme_slot& slot, const acme_env& env, std::int64_t seconds) {
    for (std::int64_t i = 0; i < seconds * 4; ++i) {
        if (abandoned(slot, env)) co_return false;
        co_await rt::sleep_for(250'000'000);
    }
    co_return !abandoned(slot, env);
}

// The account key for this CA and contact: loaded, or created and stored (under a lock, so two
// processes sharing the storage register one account, not two). With `refused_pem`, that key was
// refused by the CA for good (its account is deactivated or revoked): it is moved aside to
// key.pem.retired-<time> (kept: the account may matter to someone) and a new key is made, unless
// another process has replaced it already.
rt::task<result<certs::acme::account_key>>
account_key_for(const certs::storage& st, const acme_slot& slot, const acme_env& env,
                std::string& error, const std::string* refused_pem = nullptr) {
    std::string account =
        certs::safe_key(slot.settings.email.empty() ? "default" : slot.settings.email);
    std::string rel = certs::account_path(slot.issuer_key, account) + "/key.pem";
    for (int attempt = 0; attempt < 120; ++attempt) {
        if (!refused_pem) {
            auto pem = st.load_file(rel, error);
            if (pem) co_return certs::acme::account_key::from_pem(*pem, error);
            if (pem.error() != std::errc::no_such_file_or_directory) {
                co_return unexpected{pem.error()};
            }
        }
        auto lock = certs::try_acquire(st, "account_" + slot.issuer_key + "_" + account, unix_now(),
                                       120, error);
        if (!lock) co_return unexpected{lock.error()};
        if (!lock->acquired()) {
            if (!co_await pause(slot, env, 1)) break;
            continue;
        }
        auto again = st.load_file(rel, error);
        if (again && (!refused_pem || *again != *refused_pem)) {
            co_return certs::acme::account_key::from_pem(*again, error);
        }
        if (again) {
            std::string retired = rel + ".retired-" + std::to_string(unix_now());
            if (!st.store_file(retired, *again, 0600, error) || !st.remove_file(rel, error)) {
                co_return unexpected{std::make_error_code(std::errc::io_error)};
            }
            RINGLET_LOG(warn) << "acme: moved the refused account key to " << st.path(retired);
        }
        auto key = certs::acme::account_key::generate(error);
        if (!key) co_return unexpected{key.error()};
        auto text = key->to_pem(error);
        if (!text) co_return unexpected{text.error()};
        auto stored = st.store_file(rel, *text, 0600, error);
        if (!stored) co_return unexpected{stored.error()};
        RINGLET_LOG(info) << "acme: created an account key in " << st.path(rel);
        co_return std::move(*key);
    }
    error = "stopped while waiting for the account lock";
    co_return unexpected{std::make_error_code(std::errc::operation_canceled)};
}

std::string meta_json(const acme_slot& slot, const certs::acme::order_result& o,
                      const tls::certificate& c) {
    std::string names = "[";
    for (const auto& n : slot.names) {
        if (names.size() > 1) names += ",";
        append_json_string(names, n);
    }
    json_object m;
    m.add_raw("names", names + "]")
        .add("directory", slot.settings.directory)
        .add("order", o.order_url)
        .add("certificate", o.certificate_url)
        .add_number("not_before", c.not_before)
        .add_number("not_after", c.not_after);
    return m.str();
}

// ---- orders finalized but not downloaded --------------------------------------------------
// Recorded just before finalize (the key first, then order.json), removed once the certificate is
// stored. A later attempt downloads from the same order instead of ordering again: a network
// failure between finalize and download must not cost a second certificate, and repeated ones
// must not exhaust the CA's duplicate-certificate limit and strand the site for days.

// Orders expire within days at every CA; past this age a record is dropped unasked.
constexpr std::int64_t pending_max_age = 2 * 86400;

struct pending_order {
    std::string order_url;
    std::string key_pem;
};

std::string pending_dir(const acme_slot& slot) {
    return certs::pending_order_path(slot.issuer_key, slot.name_key);
}

void save_pending(const certs::storage& st, const acme_slot& slot, const std::string& order_url,
                  const std::string& key_pem) {
    std::string error;
    json_object o;
    o.add("order", order_url)
        .add("directory", slot.settings.directory)
        .add_number("created", unix_now());
    const std::string dir = pending_dir(slot);
    if (!st.store_file(dir + "/key.pem", key_pem, 0600, error) ||
        !st.store_file(dir + "/order.json", o.str(), 0600, error)) {
        RINGLET_LOG(warn) << "acme: cannot record order " << order_url
                          << " for a retry of its download: " << error;
    }
}

void drop_pending(const certs::storage& st, const acme_slot& slot) {
    std::string error;
    const std::string dir = pending_dir(slot);
    if (!st.remove_file(dir + "/order.json", error) || !st.remove_file(dir + "/key.pem", error)) {
        RINGLET_LOG(warn) << "acme: " << error;
    }
}

std::optional<pending_order> load_pending(const certs::storage& st, const acme_slot& slot) {
    std::string error;
    const std::string dir = pending_dir(slot);
    auto text = st.load_file(dir + "/order.json", error);
    if (!text) {
        if (text.error() != std::errc::no_such_file_or_directory) {
            RINGLET_LOG(warn) << "acme: " << error;
        }
        return std::nullopt;
    }
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    std::string_view url, directory;
    std::int64_t created = 0;
    const std::int64_t now = unix_now();
    const char* why = nullptr;
    if (parser.parse(*text).get(doc) || doc["order"].get(url) || doc["directory"].get(directory) ||
        doc["created"].get(created)) {
        why = "unreadable";
    } else if (directory != slot.settings.directory) {
        why = "for another CA";
    } else if (now - created > pending_max_age || created > now + 86400) {
        why = "too old";
    }
    std::optional<std::string> key;
    if (!why) {
        if (auto k = st.load_file(dir + "/key.pem", error)) {
            key = std::move(*k);
        } else {
            why = "without its key";
        }
    }
    if (why) {
        RINGLET_LOG(warn) << "acme: dropping the recorded order in " << st.path(dir) << " (" << why
                          << ")";
        drop_pending(st, slot);
        return std::nullopt;
    }
    return pending_order{std::string(url), std::move(*key)};
}

// The CA's certificate and its key: stored first (an issued certificate is never thrown away: a
// new order would count against the CA's duplicate-certificate limit), then checked.
result<tls::certificate> finish(const certs::storage& st, const acme_slot& slot,
                                const certs::acme::order_result& got, const std::string& key_pem,
                                std::string& error) {
    certs::cert_bundle b{got.chain_pem, key_pem, "{}"};
    // Checked a few minutes ahead: a CA that does not backdate plus a clock a little behind
    // would otherwise make a good certificate "not valid yet".
    auto cert =
        tls::parse_certificate(got.chain_pem, key_pem, unix_now() + 300,
                               "certificate from " + slot.settings.directory, "its key", error);
    if (cert) b.meta_json = meta_json(slot, got, *cert);
    if (auto stored = st.store_bundle(slot.issuer_key, slot.name_key, b, error); !stored) {
        RINGLET_LOG(error) << "acme: cannot store the new certificate for " << joined(slot.names)
                           << ": " << error;
    } else {
        drop_pending(st, slot);
    }
    if (!cert) return unexpected{cert.error()};
    auto missing = tls::uncovered_hosts(*cert, slot.names);
    if (!missing.empty()) {
        error = "the CA's certificate does not cover " + joined(missing);
        return unexpected{std::make_error_code(std::errc::protocol_error)};
    }
    return std::move(*cert);
}

// The challenge type that last worked with a CA is kept in storage too: after a restart, a type
// that cannot work here (port 80 closed, say) is not tried first again, which would spend one of
// the CA's failed-validation allowance per name on every restart.
void remember_preferred(acme_env& env, const acme_slot& slot, challenge_type type) {
    auto [it, added] = env.preferred.try_emplace(slot.issuer_key, type);
    if (!added && it->second == type) return;
    it->second = type;
    std::string error;
    if (!env.storage->store_file(certs::challenge_choice_path(slot.issuer_key), to_string(type),
                                 0644, error)) {
        RINGLET_LOG(warn) << "acme: cannot remember the challenge type that worked: " << error;
    }
}

// The challenge types to try, in order: the one that last worked with this CA first.
std::vector<challenge_type> attempt_order(const acme_slot& slot, acme_env& env) {
    std::vector<challenge_type> order = slot.settings.challenges;
    auto it = env.preferred.find(slot.issuer_key);
    if (it == env.preferred.end()) {
        std::string error;
        auto text = env.storage->load_file(certs::challenge_choice_path(slot.issuer_key), error);
        auto type = text ? certs::acme::from_string<challenge_type>(*text) : std::nullopt;
        if (type) it = env.preferred.emplace(slot.issuer_key, *type).first;
    }
    if (it != env.preferred.end()) {
        auto pos = std::find(order.begin(), order.end(), it->second);
        if (pos != order.end()) std::rotate(order.begin(), pos, pos + 1);
    }
    return order;
}

// Keeps the issue lock's lease fresh while an order runs (orders can outlast one lease: polls,
// slow CAs). Ends when `done` is set; `lock` is valid until then.
struct lease_keeper {
    bool done = false;
};

rt::task<void> keep_lease(certs::storage_lock* lock, std::shared_ptr<lease_keeper> k,
                          std::int64_t lease) {
    std::int64_t last = unix_now();
    while (!k->done) {
        co_await rt::sleep_for(250'000'000);
        if (k->done || unix_now() - last < lease / 3) continue;
        last = unix_now();
        std::string error;
        if (!lock->refresh(last, lease, error)) {
            RINGLET_LOG(warn) << "acme: cannot refresh " << lock->path() << ": " << error;
        }
    }
}

// One complete attempt: returns the certificate or an error message.
rt::task<result<tls::certificate>> obtain(acme_slot& slot, acme_env& env, std::string& error) {
    const certs::storage& st = *env.storage;
    // Another process may be ordering this very certificate: wait for it, then use its result.
    std::string lock_name = "issue_cert_" + slot.issuer_key + "_" + slot.name_key;
    std::optional<certs::storage_lock> lock;
    bool waited = false;
    while (!lock) {
        auto a = certs::try_acquire(st, lock_name, unix_now(), 600, error);
        if (!a) co_return unexpected{a.error()};
        if (a->acquired()) {
            lock = std::move(a->lock);
            break;
        }
        if (!waited) {
            RINGLET_LOG(info) << "acme: another ringlet (pid " << a->holder.pid << " on "
                              << a->holder.host << ") is ordering the certificate for "
                              << joined(slot.names) << "; waiting for it";
            waited = true;
        }
        if (!co_await pause(slot, env, 2)) {
            error = "stopped";
            co_return unexpected{std::make_error_code(std::errc::operation_canceled)};
        }
    }
    // The lock is released when this frame ends; the keeper stops first (declared after).
    constexpr std::int64_t lease = 600;
    auto keeper = std::make_shared<lease_keeper>();
    struct stop_keeper {
        std::shared_ptr<lease_keeper> k;
        ~stop_keeper() { k->done = true; }
    } stop_on_exit{keeper};
    rt::this_reactor().spawn(keep_lease(&*lock, keeper, lease));

    if (auto stored = load_acme_certificate(st, slot, unix_now());
        stored && !certs::renewal_due(stored->not_before, stored->not_after, unix_now())) {
        RINGLET_LOG(info) << "acme: the certificate for " << joined(slot.names)
                          << " was renewed by another process; loaded it from storage";
        co_return std::move(*stored);
    }

    tls::client_options copts;
    copts.ca_file = slot.settings.trusted_roots;
    auto ctx = tls::make_client_context(copts, error);
    if (!ctx) co_return unexpected{ctx.error()};
    auto key = co_await account_key_for(st, slot, env, error);
    if (!key) co_return unexpected{key.error()};
    certs::acme::client_options o;
    o.directory_url = slot.settings.directory;
    o.tls = ctx->get();
    o.cancelled = [&slot, &env] { return abandoned(slot, env); };
    // Time for other processes sharing the storage to pick the challenges up (they look every
    // 250 ms), in case the CA's validation reaches one of them.
    o.present_delay_ns = 1'000'000'000;
    std::string key_pem; // of the order being finalized
    o.on_finalize = [&st, &slot, &key_pem](const std::string& url) {
        save_pending(st, slot, url, key_pem);
    };
    certs::acme::client client(o);
    auto opened = co_await client.open(*key, slot.settings.email, slot.settings.eab, error);
    if (!opened && client.account_unusable() && !abandoned(slot, env)) {
        // Never strand the site on an account the CA has closed: a new key, a new account.
        RINGLET_LOG(error) << "acme: " << error << "; registering a new account with a new key";
        auto refused = key->to_pem(error);
        if (!refused) co_return unexpected{refused.error()};
        auto fresh = co_await account_key_for(st, slot, env, error, &*refused);
        if (!fresh) co_return unexpected{fresh.error()};
        *key = std::move(*fresh);
        opened = co_await client.open(*key, slot.settings.email, slot.settings.eab, error);
    }
    if (!opened) co_return unexpected{opened.error()};
    RINGLET_LOG(info) << "acme: account " << client.account_url() << " at "
                      << slot.settings.directory;
    if (abandoned(slot, env)) {
        error = "stopped";
        co_return unexpected{std::make_error_code(std::errc::operation_canceled)};
    }

    if (auto p = load_pending(st, slot)) {
        RINGLET_LOG(info) << "acme: downloading the certificate for " << joined(slot.names)
                          << " from order " << p->order_url << ", finalized earlier";
        bool gone = false;
        auto got = co_await client.resume(p->order_url, slot.settings.preferred_chain, error, gone);
        if (got) co_return finish(st, slot, *got, p->key_pem, error);
        if (!gone || abandoned(slot, env)) co_return unexpected{got.error()}; // same order later
        RINGLET_LOG(warn) << "acme: " << error << "; placing a new order";
        drop_pending(st, slot);
    }

    std::string last_error = "no challenge type is enabled";
    for (challenge_type type : attempt_order(slot, env)) {
        auto rng = certs::new_rng(error);
        if (!rng) co_return unexpected{rng.error()};
        auto cert_key = certs::p256_key::generate(**rng, error);
        if (!cert_key) co_return unexpected{cert_key.error()};
        auto csr = certs::acme::make_csr_der(slot.names, *cert_key, **rng, error);
        if (!csr) co_return unexpected{csr.error()};
        auto pem = cert_key->to_pem(error);
        if (!pem) co_return unexpected{pem.error()};
        key_pem = std::move(*pem);
        bool challenge_failed = false;
        RINGLET_LOG(info) << "acme: ordering a certificate for " << joined(slot.names) << " from "
                          << slot.settings.directory << " (" << to_string(type) << ")";
        auto got = co_await client.order(slot.names, type, *csr, slot.settings.preferred_chain,
                                         *env.board, error, challenge_failed);
        if (!got) {
            last_error = error;
            if (challenge_failed && !abandoned(slot, env)) {
                RINGLET_LOG(warn) << "acme: " << error << "; trying the next challenge type";
                continue;
            }
            co_return unexpected{got.error()};
        }
        auto cert = finish(st, slot, *got, key_pem, error);
        if (cert) remember_preferred(env, slot, type);
        co_return cert;
    }
    error = last_error;
    co_return unexpected{std::make_error_code(std::errc::protocol_error)};
}

} // namespace

std::optional<tls::certificate> load_acme_certificate(const certs::storage& st,
                                                      const acme_slot& slot, std::int64_t now) {
    std::string error;
    auto b = st.load_bundle(slot.issuer_key, slot.name_key, error);
    if (!b) {
        if (b.error() != std::errc::no_such_file_or_directory) {
            RINGLET_LOG(warn) << "acme: stored certificate for " << joined(slot.names) << ": "
                              << error;
        }
        return std::nullopt;
    }
    std::string dir = st.path(certs::certificate_path(slot.issuer_key, slot.name_key));
    auto cert = tls::parse_certificate(b->cert_pem, b->key_pem, now, dir + "/cert.pem",
                                       dir + "/key.pem", error);
    if (!cert) {
        RINGLET_LOG(warn) << "acme: stored certificate not usable: " << error;
        return std::nullopt;
    }
    if (!tls::uncovered_hosts(*cert, slot.names).empty()) return std::nullopt;
    return std::move(*cert);
}

rt::task<void> run_acme_job(std::shared_ptr<acme_slot> slot, std::shared_ptr<acme_env> env) {
    slot->running = true;
    std::string error;
    auto cert = co_await obtain(*slot, *env, error);
    slot->running = false;
    if (abandoned(*slot, *env)) co_return;
    if (cert) {
        slot->failures = 0;
        slot->last_error.clear();
        slot->next_attempt = 0;
        slot->issued = std::move(*cert);
        RINGLET_LOG(info) << "acme: obtained the certificate for " << joined(slot->names);
        co_return;
    }
    ++slot->failures;
    static thread_local std::mt19937_64 jitter{std::random_device{}()};
    std::int64_t delay =
        certs::retry_delay(slot->failures, std::uniform_real_distribution<>(0, 1)(jitter));
    slot->next_attempt = unix_now() + delay;
    slot->last_error = error;
    RINGLET_LOG(error) << "acme: could not obtain a certificate for " << joined(slot->names)
                       << " (attempt " << slot->failures << ", next in " << delay
                       << " s): " << error;
}

} // namespace ringlet::server::detail
