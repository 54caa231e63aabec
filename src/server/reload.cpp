// Reloading the configuration (SIGUSR1) on the control thread: the new sites, certificates and
// listeners are built completely before anything switches, so a bad config changes nothing and
// the running one keeps serving; then the new generation is published to every reactor.
#include "server/control.hpp"

#include "ringlet/base/log.hpp"
#include "ringlet/net/listener.hpp"
#include "server/wall_clock.hpp"

#include <cstdio>
#include <fstream>

namespace ringlet::server::detail {

namespace {

// ", +site a.test, -site b.test, ~site c.test" for the reload log: sites are told apart by
// their host lists; "~" means the same hosts with another root, certificate or TLS mode.
std::string describe_site_changes(const std::vector<site_spec>& before,
                                  const std::vector<site_spec>& after) {
    auto name = [](const site_spec& s) {
        std::string n;
        for (const auto& h : s.hosts) n += (n.empty() ? "" : ",") + h;
        return n.empty() ? std::string("(default)") : n;
    };
    auto find = [&](const std::vector<site_spec>& in, const site_spec& s) {
        return std::find_if(in.begin(), in.end(),
                            [&](const site_spec& o) { return o.hosts == s.hosts; });
    };
    std::string out;
    for (const site_spec& s : after) {
        auto old = find(before, s);
        if (old == before.end()) {
            out += ", +site " + name(s);
        } else if (old->root != s.root || old->cert_file != s.cert_file ||
                   old->key_file != s.key_file || old->plain != s.plain ||
                   old->allow_dotfiles != s.allow_dotfiles) {
            out += ", ~site " + name(s);
        }
    }
    for (const site_spec& s : before) {
        if (find(after, s) == after.end()) out += ", -site " + name(s);
    }
    return out;
}

// SIGUSR1: build everything the new configuration needs first; publish only if all of it
// worked, so a bad config changes nothing. Returns the message for the log and status file.

} // namespace

std::string listener_key(bool secure, const std::string& address) {
    return (secure ? "https://" : "http://") + address;
}
std::string address_of(const std::string& key) {
    return key.substr(key.find("//") + 2);
}

std::map<std::string, bool> wanted_listeners(const server_options& o) {
    std::map<std::string, bool> out;
    if (o.tls) out[listener_key(true, o.https_listen)] = true;
    if (!o.http_listen.empty()) out[listener_key(false, o.http_listen)] = false;
    return out;
}

result<std::vector<unique_fd>> open_address(const std::string& text, unsigned n,
                                            std::string& error) {
    auto where = net::endpoint::parse(text);
    if (!where) {
        error = "invalid listen address '" + text +
                "' (expected ADDR:PORT, e.g. 127.0.0.1:8443 or [::1]:8443)";
        return fail_errno(EINVAL);
    }
    auto fds = net::open_listeners(*where, n);
    if (!fds) error = "cannot listen on " + text + ": " + fds.error().message();
    return fds;
}

std::uint16_t https_port_of(const control& c) {
    auto it = c.bound.find(listener_key(true, c.opts.https_listen));
    return it == c.bound.end() ? 443 : it->second;
}

void write_status(const control& c, bool ok, const std::string& message) {
    if (c.status_path.empty()) return;
    std::string tmp = c.status_path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << "seq=" << c.reload_seq << " " << (ok ? "ok" : "failed")
            << " generation=" << c.generation << " " << message << "\n";
    }
    std::rename(tmp.c_str(), c.status_path.c_str());
}

bool reload(control& c, std::string& message) {
    ++c.reload_seq;
    if (!c.opts.reload_source) {
        message = "started without --config: nothing to reload";
        return false;
    }
    std::string error;
    auto reject = [&](const std::string& why) {
        message = "new config rejected, still serving generation " + std::to_string(c.generation) +
                  ": " + why;
        return false;
    };
    auto next = c.opts.reload_source(error);
    if (!next) return reject(error);
    if (next->workers && next->workers != c.workers) {
        RINGLET_LOG(warn) << "reload: changing workers needs a restart; keeping " << c.workers;
    }
    auto sites = site_table::build(next->sites, error);
    if (!sites) return reject(error);

    // Listeners: open the new ones now (a taken port rejects the config); unchanged ones are
    // never touched, so no connection is refused during a reload. Opened before the
    // certificates, whose manager keeps state: a failure here must leave it untouched.
    auto wanted = wanted_listeners(*next);
    std::vector<std::string> removed;
    std::map<std::string, std::vector<unique_fd>> added;
    for (const auto& [addr, secure] : c.listeners) {
        auto it = wanted.find(addr);
        if (it == wanted.end() || it->second != secure) removed.push_back(addr);
    }
    for (const auto& [addr, secure] : wanted) {
        auto it = c.listeners.find(addr);
        if (it != c.listeners.end() && it->second == secure) continue;
        auto fds = open_address(address_of(addr), c.workers, error);
        if (!fds) return reject(error);
        added.emplace(addr, std::move(*fds));
    }

    // Certificates last: reconfigure() commits only on success.
    std::shared_ptr<const tls::cert_table> table;
    std::unique_ptr<certificate_manager> fresh_certs;
    std::int64_t now = unix_now();
    if (next->tls) {
        if (c.certs) {
            auto t = c.certs->reconfigure(next->sites, now, next->strict_sni, error);
            if (!t) return reject(error);
            table = std::move(*t);
        } else {
            std::string storage = next->storage.empty() ? default_storage_dir() : next->storage;
            auto m = certificate_manager::create(next->sites, storage, c.workers, now, error,
                                                 next->strict_sni);
            if (!m) return reject(error);
            fresh_certs = std::move(*m);
            fresh_certs->set_challenge_publisher(
                [&c](std::shared_ptr<const tls::challenge_table> t) { c.challenges.publish(t); });
            table = fresh_certs->table();
        }
    }

    // Apply: nothing below can fail.
    c.sites.publish(std::make_shared<const site_table>(std::move(*sites)));
    if (fresh_certs) c.certs = std::move(fresh_certs);
    if (!next->tls) c.certs.reset();
    c.certificates.publish(std::move(table));
    // Removed listeners are closed by their reactors; wait (briefly) until every fd is gone, so
    // the port is free again by the time anyone could ask for it back.
    auto closing =
        std::make_shared<std::atomic<int>>(static_cast<int>(removed.size() * c.reactors.size()));
    for (const std::string& addr : removed) {
        for (auto& w : c.reactors) {
            w->reactor->post([addr, closing] { detail::remove_listener_current(addr, closing); });
        }
        c.listeners.erase(addr);
        c.bound.erase(addr);
    }
    for (int i = 0; i < 2000 && closing->load(std::memory_order_acquire) > 0; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    for (auto& [addr, fds] : added) {
        c.bound[addr] = net::endpoint::of_socket(fds[0].get()).port();
        c.listeners[addr] = wanted[addr];
        for (std::size_t i = 0; i < c.reactors.size(); ++i) {
            auto l = std::make_shared<detail::listener_fd>(
                detail::listener_fd{addr, wanted[addr], std::move(fds[i])});
            c.reactors[i]->reactor->post([l] { detail::add_listener_current(l); });
        }
    }
    std::string site_changes = describe_site_changes(c.opts.sites, next->sites);
    auto source = std::move(c.opts.reload_source);
    c.opts = std::move(*next);
    c.opts.reload_source = std::move(source);
    std::uint16_t port = https_port_of(c);
    for (auto& w : c.reactors) {
        w->reactor->post([tls = c.opts.tls, port, limits = c.opts.limits] {
            detail::set_redirect_current(tls, port);
            detail::set_limits_current(limits); // new timeouts apply to what starts from now
        });
    }
    if (c.opts.log_level) log::set_level(*c.opts.log_level);
    ++c.generation;
    message = "generation " + std::to_string(c.generation) + ": " +
              std::to_string(c.opts.sites.size()) + " site(s)" + site_changes;
    for (const auto& [key, fds] : added) message += ", +listener " + key;
    for (const std::string& key : removed) message += ", -listener " + key;
    return true;
}

} // namespace ringlet::server::detail
