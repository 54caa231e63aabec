// challenge_board (acme_jobs.hpp): the challenges the reactors answer, this process's and those
// of other processes sharing the storage folder.
#include "server/acme_jobs.hpp"
#include "server/wall_clock.hpp"

#include "ringlet/base/base64.hpp"
#include "ringlet/base/json_writer.hpp"
#include "ringlet/base/log.hpp"
#include "ringlet/certs/acme/challenge_cert.hpp"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <simdjson.h>

#include <algorithm>
#include <ctime>
#include <set>

namespace ringlet::server::detail {

using certs::acme::challenge_type;

namespace {

// Shared challenges live this long: far beyond any order's polling budget.
constexpr std::int64_t shared_lifetime = 3600;

std::string shared_path(std::string_view token) {
    return "challenges/" + certs::safe_key(token) + ".json";
}

} // namespace

result<void> challenge_board::present(challenge_type type, const certs::acme::identifier& id,
                                      std::string_view token, std::string_view key_authorization,
                                      std::string& error) {
    if (type == challenge_type::http_01) {
        http_.push_back({id.value, std::string(token), std::string(key_authorization)});
        if (auto p = publish(error); !p) {
            http_.pop_back(); // never leave an entry the next publication would trip over
            return p;
        }
        share(type, id.value, token, key_authorization);
        return {};
    }
    if (type != challenge_type::tls_alpn_01) {
        error = "ringlet cannot answer the " + std::string(to_string(type)) + " challenge";
        return fail_errno(ENOTSUP);
    }
    auto c = certs::acme::make_tls_alpn_certificate(id.value, key_authorization, unix_now(), error);
    if (!c) return unexpected{c.error()};
    alpn_.push_back({id.value, std::move(c->cert_pem), std::move(c->key_pem)});
    alpn_tokens_.emplace_back(token);
    if (auto p = publish(error); !p) {
        alpn_.pop_back();
        alpn_tokens_.pop_back();
        return p;
    }
    share(type, id.value, token, key_authorization);
    return {};
}

void challenge_board::withdraw(challenge_type type, const certs::acme::identifier& id,
                               std::string_view token) {
    if (type == challenge_type::http_01) {
        std::erase_if(http_, [&](const tls::http_challenge& c) {
            return c.token == token && c.host == id.value;
        });
    } else {
        for (std::size_t i = 0; i < alpn_.size(); ++i) {
            if (alpn_tokens_[i] == token && alpn_[i].host == id.value) {
                alpn_.erase(alpn_.begin() + static_cast<std::ptrdiff_t>(i));
                alpn_tokens_.erase(alpn_tokens_.begin() + static_cast<std::ptrdiff_t>(i));
                break;
            }
        }
    }
    if (storage_) ::unlink(storage_->path(shared_path(token)).c_str());
    std::string error;
    if (!publish(error)) {
        RINGLET_LOG(warn) << "acme: withdrawing a challenge: " << error;
    }
}

void challenge_board::share(challenge_type type, std::string_view host, std::string_view token,
                            std::string_view key_authorization) {
    if (!storage_) return;
    json_object o;
    o.add("type", to_string(type))
        .add("host", host)
        .add("token", token)
        .add("key_authorization", key_authorization)
        .add_number("expires", unix_now() + shared_lifetime);
    std::string error;
    if (!storage_->store_file(shared_path(token), o.str(), 0644, error)) {
        RINGLET_LOG(warn) << "acme: cannot share a challenge with other processes: " << error;
    }
}

void challenge_board::sync(std::int64_t now) {
    if (!storage_) return;
    std::string dir = storage_->path("challenges");
    struct stat st {};
    bool expiring = std::any_of(foreign_.begin(), foreign_.end(),
                                [&](const auto& f) { return f.second.expires <= now; });
    if (::stat(dir.c_str(), &st) != 0) {
        if (foreign_.empty()) return;
        st = {};
    }
    std::int64_t mtime = st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec;
    if (mtime == scanned_mtime_ns && !expiring) return;
    scanned_mtime_ns = mtime;

    std::map<std::string, foreign_entry> next;
    std::set<std::string> mine;
    for (const auto& h : http_) mine.insert(h.token);
    mine.insert(alpn_tokens_.begin(), alpn_tokens_.end());
    std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(dir.c_str()), ::closedir);
    simdjson::dom::parser parser;
    for (dirent* e; d && (e = ::readdir(d.get()));) {
        std::string_view name = e->d_name;
        if (name.starts_with(".") || !name.ends_with(".json")) continue;
        std::string rel = "challenges/" + std::string(name), error;
        auto text = storage_->load_file(rel, error);
        if (!text) continue;
        simdjson::dom::element doc;
        std::string_view type, host, token, key_auth;
        std::int64_t expires = 0;
        if (parser.parse(*text).get(doc) || doc["type"].get(type) || doc["host"].get(host) ||
            doc["token"].get(token) || doc["key_authorization"].get(key_auth) ||
            doc["expires"].get(expires) || !ringlet::is_base64url_token(token)) {
            continue;
        }
        if (expires <= now) {
            ::unlink(storage_->path(rel).c_str()); // a crashed process's leftover
            continue;
        }
        if (mine.count(std::string(token))) continue;
        foreign_entry f{std::string(type), std::string(host), std::string(key_auth), expires, {}};
        if (auto old = foreign_.find(std::string(token)); old != foreign_.end()) {
            f.alpn = old->second.alpn;
        }
        if (f.type == "tls-alpn-01" && !f.alpn) {
            auto c =
                certs::acme::make_tls_alpn_certificate(f.host, f.key_authorization, now, error);
            if (!c) continue;
            f.alpn = tls::alpn_challenge{f.host, std::move(c->cert_pem), std::move(c->key_pem)};
        }
        next.emplace(std::string(token), std::move(f));
    }
    bool same = next.size() == foreign_.size() &&
                std::equal(next.begin(), next.end(), foreign_.begin(),
                           [](const auto& a, const auto& b) { return a.first == b.first; });
    foreign_ = std::move(next);
    if (same) return;
    std::string error;
    if (!publish(error)) {
        RINGLET_LOG(warn) << "acme: shared challenges: " << error;
    }
}

result<void> challenge_board::publish(std::string& error) {
    std::vector<tls::http_challenge> http = http_;
    std::vector<tls::alpn_challenge> alpn = alpn_;
    for (const auto& [token, f] : foreign_) {
        if (f.type == "http-01") http.push_back({f.host, token, f.key_authorization});
        if (f.alpn) alpn.push_back(*f.alpn);
    }
    auto t =
        tls::challenge_table::build(std::move(http), std::move(alpn), reactors_, unix_now(), error);
    if (!t) return unexpected{t.error()};
    publish_(std::move(*t));
    return {};
}

} // namespace ringlet::server::detail
