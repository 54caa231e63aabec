#include "ringlet/server/certificates.hpp"

#include "server/acme_jobs.hpp"

#include "ringlet/base/json_writer.hpp"
#include "ringlet/base/log.hpp"
#include "ringlet/http/date.hpp"
#include "ringlet/runtime/reactor.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>

namespace ringlet::server {

std::vector<std::string> internal_names(const std::vector<std::string>& hosts) {
    if (!hosts.empty()) return hosts;
    return {"localhost", "*.localhost", "127.0.0.1", "::1"};
}

std::string default_storage_dir() {
    if (::geteuid() == 0) return "/var/lib/ringlet";
    if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x) return std::string(x) + "/ringlet";
    if (const char* h = std::getenv("HOME"); h && *h)
        return std::string(h) + "/.local/share/ringlet";
    return "ringlet-data";
}

result<std::unique_ptr<certificate_manager>>
certificate_manager::create(const std::vector<site_spec>& sites, const std::string& storage,
                            unsigned reactors, std::int64_t now, std::string& error,
                            bool strict_sni) {
    auto m = std::unique_ptr<certificate_manager>(new certificate_manager());
    m->storage_ = storage;
    m->strict_sni_ = strict_sni;
    m->reactors_ = reactors;
    for (const site_spec& s : sites) {
        if (s.plain) continue; // served over plain HTTP only: no certificate
        auto c = m->make_managed(s, now, error);
        if (!c) return unexpected{c.error()};
        m->certs_.push_back(std::move(*c));
    }
    m->keys_ = std::make_shared<const tls::ticket_keys>(tls::ticket_keys::generate(now));
    if (!m->rebuild(error)) return fail_errno(EINVAL);
    return m;
}

result<certificate_manager::managed>
certificate_manager::make_managed(const site_spec& s, std::int64_t now, std::string& error) {
    if (s.acme) return make_acme(s, now, error);
    managed c;
    if (!s.cert_file.empty()) {
        auto cert = tls::load_certificate_files(s.cert_file, s.key_file, now, error);
        if (!cert) return unexpected{cert.error()};
        auto missing = tls::uncovered_hosts(*cert, s.hosts);
        if (!missing.empty()) {
            std::string list;
            for (const auto& h : missing) list += (list.empty() ? "" : ", ") + h;
            error = s.cert_file + ": certificate does not cover " + list;
            return fail_errno(EINVAL);
        }
        if (cert->not_after - now < expiry_warning) {
            RINGLET_LOG(warn) << s.cert_file << ": certificate expires in "
                              << (cert->not_after - now) / 3600 << " hours";
        }
        c.cert = std::move(*cert);
        c.names = s.hosts;
        return c;
    }
    c.internal = true;
    c.names = internal_names(s.hosts);
    if (!ca_) {
        auto ca = certs::internal_ca::open(storage_, now, error);
        if (!ca) return unexpected{ca.error()};
        ca_.emplace(std::move(*ca));
    }
    if (!load_stored(c, now) && !issue_internal(c, now, error)) return fail_errno(EINVAL);
    return c;
}

result<std::shared_ptr<const tls::cert_table>>
certificate_manager::reconfigure(const std::vector<site_spec>& sites, std::int64_t now,
                                 bool strict_sni, std::string& error) {
    std::vector<managed> next;
    for (const site_spec& s : sites) {
        if (s.plain) continue;
        // An internal certificate for the same names carries over (unless it is due anyway).
        auto names = s.cert_file.empty() && !s.acme ? internal_names(s.hosts) : s.hosts;
        auto same = std::find_if(certs_.begin(), certs_.end(), [&](const managed& m) {
            if (s.acme || m.acme) { // the same order state: same names, same CA settings
                return s.acme && m.acme && m.names == names && m.acme->settings == *s.acme;
            }
            return m.internal && s.cert_file.empty() && m.names == names &&
                   !certs::renewal_due(m.cert.not_before, m.cert.not_after, now);
        });
        if (same != certs_.end()) {
            next.push_back(*same);
            continue;
        }
        auto c = make_managed(s, now, error);
        if (!c) return unexpected{c.error()};
        next.push_back(std::move(*c));
    }
    auto old = std::move(certs_);
    bool old_strict = strict_sni_;
    certs_ = std::move(next);
    strict_sni_ = strict_sni;
    if (!rebuild(error)) {
        certs_ = std::move(old);
        strict_sni_ = old_strict;
        return fail_errno(EINVAL);
    }
    // Orders for sites that are gone stop at their next step.
    for (const managed& m : old) {
        if (!m.acme) continue;
        bool kept = std::any_of(certs_.begin(), certs_.end(),
                                [&](const managed& n) { return n.acme == m.acme; });
        if (!kept) m.acme->cancelled = true;
    }
    return table_;
}

// Internal leaves are kept like every other certificate (certs/storage bundles, issuer
// "internal"), so a restart serves the same certificate instead of issuing a new one.
constexpr std::string_view internal_issuer = "internal";

certs::storage* certificate_manager::store(std::string& error) {
    if (!store_) {
        auto st = certs::storage::open(storage_, error);
        if (!st) return nullptr;
        store_.emplace(std::move(*st));
    }
    return &*store_;
}

bool certificate_manager::load_stored(managed& m, std::int64_t now) {
    std::string error;
    certs::storage* st = store(error);
    if (!st) return false;
    std::string key = certs::name_key(m.names);
    auto b = st->load_bundle(internal_issuer, key, error);
    if (!b) return false;
    std::string dir = st->path(certs::certificate_path(internal_issuer, key));
    auto cert = tls::parse_certificate(b->cert_pem, b->key_pem, now, dir + "/cert.pem",
                                       dir + "/key.pem", error);
    if (!cert || certs::renewal_due(cert->not_before, cert->not_after, now) ||
        !tls::uncovered_hosts(*cert, m.names).empty()) {
        return false;
    }
    m.cert = std::move(*cert);
    RINGLET_LOG(info) << "internal certificate for " << m.names.front() << " loaded from " << dir;
    return true;
}

bool certificate_manager::issue_internal(managed& m, std::int64_t now, std::string& error) {
    auto issued = ca_->issue(m.names, now, internal_lifetime, error);
    if (!issued) return false;
    auto cert = tls::parse_certificate(issued->chain_pem, issued->key_pem, now, "internal CA leaf",
                                       "internal CA key", error);
    if (!cert) return false;
    m.cert = std::move(*cert);
    std::string names = "[";
    for (const auto& n : m.names) {
        if (names.size() > 1) names += ",";
        append_json_string(names, n);
    }
    json_object meta;
    meta.add_raw("names", names + "]").add_number("not_after", m.cert.not_after);
    std::string store_error;
    certs::storage* st = store(store_error);
    if (!st || !st->store_bundle(internal_issuer, certs::name_key(m.names),
                                 {issued->chain_pem, issued->key_pem, meta.str()}, store_error)) {
        RINGLET_LOG(warn) << "cannot store the internal certificate for " << m.names.front() << ": "
                          << store_error << " (it is served anyway)";
    }
    char until[http::http_date_size];
    http::format_http_date(m.cert.not_after, until);
    RINGLET_LOG(info) << "internal CA issued a certificate for " << m.names.front()
                      << (m.names.size() > 1 ? " and others" : "") << ", valid until "
                      << std::string_view(until, sizeof until);
    return true;
}

bool certificate_manager::rebuild(std::string& error) {
    std::vector<tls::cert_source> sources;
    for (const managed& m : certs_) sources.push_back({m.cert, m.names});
    auto t = tls::cert_table::build(std::move(sources), reactors_, keys_, strict_sni_,
                                    ++generation_, error);
    if (!t) return false;
    table_ = std::move(*t);
    return true;
}

std::shared_ptr<const tls::cert_table> certificate_manager::maintain(std::int64_t now) {
    // Work on copies: state changes only once the new table is built, so a failure leaves the
    // published certificates and the schedule as they were (and is retried after a pause).
    std::vector<managed> next = certs_;
    auto keys = keys_;
    bool changed = false, failed = false;
    std::string error;
    changed = run_acme(next, now);
    for (managed& m : next) {
        if (!m.internal || !certs::renewal_due(m.cert.not_before, m.cert.not_after, now)) continue;
        if (issue_internal(m, now, error)) {
            changed = true;
        } else {
            failed = true;
            RINGLET_LOG(error) << "renewing the internal certificate for " << m.names.front()
                               << " failed (keeping the current one, retrying in " << retry_pause
                               << " s): " << error;
        }
    }
    if (keys->rotation_due(now)) {
        keys = std::make_shared<const tls::ticket_keys>(keys->rotated(now));
        changed = true;
    }
    retry_at_ = failed ? now + retry_pause : 0;
    if (!changed) return nullptr;
    auto old_certs = std::move(certs_);
    auto old_keys = std::move(keys_);
    certs_ = std::move(next);
    keys_ = std::move(keys);
    if (!rebuild(error)) {
        RINGLET_LOG(error) << "cannot build the new certificate table (retrying in " << retry_pause
                           << " s): " << error;
        certs_ = std::move(old_certs);
        keys_ = std::move(old_keys);
        retry_at_ = now + retry_pause;
        return nullptr;
    }
    for (const managed& m : certs_) {
        if (m.acme) m.acme->issued.reset(); // published now
    }
    return table_;
}

std::int64_t certificate_manager::next_due() const {
    // ACME first: a finished order is published at the next step, and a pause after a failed
    // internal renewal must not delay it. A running order needs no steps until it finishes (it
    // then sets `issued`, or `next_attempt` after a failure).
    std::int64_t acme_due = std::numeric_limits<std::int64_t>::max();
    for (const managed& m : certs_) {
        if (!m.acme) continue;
        if (m.acme->issued) return 0;
        if (m.acme->next_attempt) acme_due = std::min(acme_due, m.acme->next_attempt);
    }
    if (retry_at_) return std::min(retry_at_, acme_due);
    std::int64_t due = keys_->created + tls::ticket_keys::rotation_seconds;
    for (const managed& m : certs_) {
        if (m.acme) {
            if (m.acme->next_attempt) due = std::min(due, m.acme->next_attempt);
            // A stand-in is replaced by the order, not renewed; a renewal under way is not due.
            if (m.internal || m.acme->running) continue;
        }
        if (m.internal || m.acme)
            due = std::min(due, certs::renewal_time(m.cert.not_before, m.cert.not_after));
    }
    return due;
}

certificate_manager::~certificate_manager() {
    for (const managed& m : certs_) {
        if (m.acme) m.acme->cancelled = true;
    }
}

void certificate_manager::sync_challenges(std::int64_t now) {
    if (acme_env_ && acme_env_->board && !stopping_) acme_env_->board->sync(now);
}

void certificate_manager::stop() noexcept {
    stopping_ = true;
    if (acme_env_) acme_env_->stopping = true;
}

void certificate_manager::set_challenge_publisher(
    std::function<void(std::shared_ptr<const tls::challenge_table>)> publish) {
    publish_challenges_ = std::move(publish);
    if (acme_env_) {
        acme_env_->board = std::make_shared<detail::challenge_board>(reactors_, publish_challenges_,
                                                                     &*acme_env_->storage);
    }
}

result<certificate_manager::managed>
certificate_manager::make_acme(const site_spec& s, std::int64_t now, std::string& error) {
    if (!acme_env_) {
        certs::storage* st = store(error);
        if (!st) return fail_errno(EIO);
        acme_env_ = std::make_shared<detail::acme_env>();
        acme_env_->storage.emplace(*st);
        if (publish_challenges_) {
            acme_env_->board = std::make_shared<detail::challenge_board>(
                reactors_, publish_challenges_, &*acme_env_->storage);
        }
    }
    managed c;
    c.names = s.hosts;
    c.acme = std::make_shared<detail::acme_slot>();
    c.acme->names = s.hosts;
    c.acme->settings = *s.acme;
    c.acme->issuer_key = certs::issuer_key(s.acme->directory);
    c.acme->name_key = certs::name_key(s.hosts);
    if (auto stored = detail::load_acme_certificate(*acme_env_->storage, *c.acme, now)) {
        c.cert = std::move(*stored);
        RINGLET_LOG(info) << "acme: certificate for " << s.hosts.front()
                          << (s.hosts.size() > 1 ? " and others" : "") << " loaded from storage";
        if (certs::renewal_due(c.cert.not_before, c.cert.not_after, now))
            c.acme->next_attempt = now;
        return c;
    }
    // Nothing stored yet: serve an internal-CA stand-in (a browser warning, not a dead site)
    // until the CA's certificate arrives, and order it at once.
    if (!ca_) {
        auto ca = certs::internal_ca::open(storage_, now, error);
        if (!ca) return unexpected{ca.error()};
        ca_.emplace(std::move(*ca));
    }
    c.internal = true;
    if (!load_stored(c, now) && !issue_internal(c, now, error)) return fail_errno(EINVAL);
    c.acme->next_attempt = now;
    RINGLET_LOG(warn) << "acme: no certificate for " << s.hosts.front()
                      << (s.hosts.size() > 1 ? " and others" : "")
                      << " yet; serving an internal-CA certificate until the CA issues one";
    return c;
}

bool certificate_manager::run_acme(std::vector<managed>& certs, std::int64_t now) {
    bool changed = false;
    for (managed& m : certs) {
        if (!m.acme) continue;
        detail::acme_slot& slot = *m.acme;
        if (slot.issued) {
            // A copy: the slot keeps it until the new table is built (maintain() clears it),
            // so a failed rebuild takes it again next time instead of losing it.
            m.cert = *slot.issued;
            m.internal = false;
            changed = true;
        } else if (!m.internal && now >= m.cert.not_after && now >= slot.expiry_logged + 3600) {
            slot.expiry_logged = now;
            RINGLET_LOG(error) << "acme: the certificate for " << m.names.front()
                               << " HAS EXPIRED and renewing it keeps failing: "
                               << (slot.last_error.empty() ? "(no attempt yet)" : slot.last_error);
        }
        if (slot.running || stopping_ || !acme_env_ || !acme_env_->board) continue;
        if (!slot.next_attempt && !m.internal &&
            certs::renewal_due(m.cert.not_before, m.cert.not_after, now)) {
            slot.next_attempt = now; // renewal window reached
        }
        if (slot.next_attempt && now >= slot.next_attempt) {
            slot.next_attempt = 0;
            rt::this_reactor().spawn(detail::run_acme_job(m.acme, acme_env_));
        }
    }
    return changed;
}

} // namespace ringlet::server
