// certificate: a parsed, validated certificate chain and its private key, ready to build server
// contexts from. Loading is startup/control-thread work (it allocates and parses freely).
//
// Validation at load (each failure is an error message naming the file):
//  - the PEM holds at least one certificate, and the key file one private key (EC or RSA);
//  - the key belongs to the leaf certificate;
//  - the chain is ordered: each certificate is issued by (and its signature verifies with) the
//    next one;
//  - not expired at `now`; a certificate that is not yet valid is an error too.
// Host coverage is a separate question (a site may list hosts the certificate misses): see
// covers() and uncovered_hosts().
#pragma once

#include "ringlet/base/result.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ringlet::tls {

struct certificate {
    std::vector<std::vector<unsigned char>> chain_der; // leaf first
    std::string chain_pem;                             // the same chain, PEM
    std::vector<unsigned char> key_der;
    bool key_is_rsa = false;
    std::vector<std::string> dns_names;         // subjectAltName dNSName entries, lower-case
    std::vector<std::string> ip_names;          // subjectAltName iPAddress entries, as text
    std::string subject;                        // one-line subject of the leaf, for logs
    std::int64_t not_before = 0, not_after = 0; // unix seconds
};

// Parses PEM text. `cert_label`/`key_label` name the sources in error messages (file paths).
result<certificate> parse_certificate(std::string_view cert_pem, std::string_view key_pem,
                                      std::int64_t now, std::string_view cert_label,
                                      std::string_view key_label, std::string& error);

// Reads and parses two PEM files.
result<certificate> load_certificate_files(const std::string& cert_path,
                                           const std::string& key_path, std::int64_t now,
                                           std::string& error);

// True if `host` (lower-case) is one of the names or matches a one-label wildcard
// ("a.example.com" matches "*.example.com"; "example.com" and "a.b.example.com" do not).
bool covers(const certificate& c, std::string_view host);

// The hosts in `hosts` that the certificate does not cover.
std::vector<std::string> uncovered_hosts(const certificate& c, std::span<const std::string> hosts);

} // namespace ringlet::tls
