// Sites: which folder answers which Host.
//
// A site_table is built once at startup (the config issue will publish new ones by RCU) and read
// by every reactor without locks: it is immutable after build().
#pragma once

#include "ringlet/base/result.hpp"
#include "ringlet/base/unique_fd.hpp"
#include "ringlet/certs/acme/settings.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ringlet::server {

struct site_spec {
    std::vector<std::string> hosts;  // lower-case names; empty = only reachable as the default
    std::string root;                // folder to serve
    bool allow_dotfiles = false;     // serve paths with a segment starting with '.'
    std::string cert_file, key_file; // manual certificate (PEM); empty: the internal CA
    bool plain = false; // "tls": "off": served over plain HTTP, never redirected, no certificate
    // "tls": {"issuer": "acme"}: the certificate comes from this ACME CA (hosts must be listed).
    std::optional<certs::acme::settings> acme;
};

struct site {
    site_spec spec;
    std::uint32_t id = 0; // unique in the process, also across reloads
    unique_fd root_fd;    // O_PATH | O_DIRECTORY
};

class site_table {
public:
    // Opens every root. Errors name the folder: "site root /srv/x: No such file or directory".
    static result<site_table> build(std::vector<site_spec> specs, std::string& error);

    // The site for a Host header value (port and a trailing dot ignored, case-insensitive):
    // an exact host name, then a one-label wildcard ("*.example.com"), then the first site.
    // REQUIRES: at least one site.
    const site& select(std::string_view host) const noexcept;
    const std::vector<site>& sites() const noexcept { return sites_; }

private:
    std::vector<site> sites_;
};

// "Example.COM.:8080" -> "example.com"; "[::1]:80" -> "[::1]". Writes into a small buffer.
std::string_view normalize_host(std::string_view host, char (&buf)[256]) noexcept;

} // namespace ringlet::server
