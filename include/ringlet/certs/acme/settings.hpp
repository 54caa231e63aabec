// settings: how a site gets its certificate from an ACME CA (RFC 8555). Filled from the config
// file's "acme" object (top level, overridden key by key in a site's "tls": {"acme": {...}}).
#pragma once

#include "ringlet/certs/acme/messages.hpp" // challenge_type

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ringlet::certs::acme {

// External account binding (RFC 8555 7.3.4), for CAs that require an existing customer account.
struct eab_settings {
    std::string key_id;
    std::string hmac_key; // base64url, as CAs hand it out
    bool operator==(const eab_settings&) const = default;
};

struct settings {
    static constexpr std::string_view lets_encrypt =
        "https://acme-v02.api.letsencrypt.org/directory";

    std::string directory{lets_encrypt};
    std::string email;         // account contact; empty: none
    std::string trusted_roots; // PEM file the CA's server certificate must chain to; empty: system
    std::vector<challenge_type> challenges{challenge_type::http_01, challenge_type::tls_alpn_01};
    std::optional<eab_settings> eab;
    // Common name of the issuer of the chain's last certificate to prefer among the chains the CA
    // offers (Link rel="alternate"); empty or not offered: the CA's default chain.
    std::string preferred_chain;

    bool operator==(const settings&) const = default;
};

} // namespace ringlet::certs::acme
