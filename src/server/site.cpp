#include "ringlet/server/site.hpp"

#include "ringlet/base/ascii.hpp"

#include <fcntl.h>

#include <atomic>
#include <cstring>

namespace ringlet::server {

std::string_view normalize_host(std::string_view host, char (&buf)[256]) noexcept {
    if (!host.empty() && host.front() == '[') {
        std::size_t close = host.find(']');
        if (close != std::string_view::npos) host = host.substr(0, close + 1);
    } else if (std::size_t colon = host.rfind(':'); colon != std::string_view::npos) {
        host = host.substr(0, colon);
    }
    if (!host.empty() && host.back() == '.') host.remove_suffix(1);
    if (host.size() > sizeof buf) return {};
    for (std::size_t i = 0; i < host.size(); ++i) {
        buf[i] = ascii_lower(host[i]);
    }
    return {buf, host.size()};
}

result<site_table> site_table::build(std::vector<site_spec> specs, std::string& error) {
    site_table t;
    // Ids stay unique across reloads: each reactor's open-file cache is keyed by them.
    static std::atomic<std::uint32_t> next_id{0};
    for (site_spec& spec : specs) {
        site s;
        s.id = next_id.fetch_add(1, std::memory_order_relaxed);
        s.root_fd.reset(::open(spec.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!s.root_fd) {
            int e = errno;
            error = "site root " + spec.root + ": " + std::strerror(e);
            return fail_errno(e);
        }
        for (std::string& h : spec.hosts) {
            char buf[256];
            h = std::string(normalize_host(h, buf));
        }
        s.spec = std::move(spec);
        t.sites_.push_back(std::move(s));
    }
    if (t.sites_.empty()) {
        error = "no site to serve";
        return fail_errno(EINVAL);
    }
    return t;
}

const site& site_table::select(std::string_view host) const noexcept {
    char buf[256];
    std::string_view h = normalize_host(host, buf);
    if (!h.empty()) {
        for (const site& s : sites_) {
            for (const std::string& name : s.spec.hosts) {
                if (name == h) return s;
            }
        }
        // Then one-label wildcards: "*.example.com" takes "a.example.com", not "a.b.example.com".
        std::size_t dot = h.find('.');
        if (dot != std::string_view::npos && dot > 0) {
            std::string_view parent = h.substr(dot + 1);
            for (const site& s : sites_) {
                for (const std::string& name : s.spec.hosts) {
                    if (name.size() > 2 && name.starts_with("*.") &&
                        std::string_view(name).substr(2) == parent) {
                        return s;
                    }
                }
            }
        }
    }
    return sites_.front();
}

} // namespace ringlet::server
