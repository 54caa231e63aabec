// san: the subjectAltName entries of a DER certificate, read by walking the structure
// (Certificate -> TBSCertificate -> [3] extensions -> the 2.5.29.17 extension), never by
// searching for the OID's bytes: a search can match inside attacker-chosen bytes earlier in the
// certificate (a public key, a name) and read a forged list from there. Needed because this
// wolfSSL build reports dNSName entries but drops iPAddress ones.
#pragma once

#include <span>
#include <string>
#include <vector>

namespace ringlet::tls {

struct alt_names {
    std::vector<std::string> dns;               // dNSName entries as written (not lower-cased)
    std::vector<std::vector<unsigned char>> ip; // iPAddress entries: 4 or 16 bytes
};

// False for malformed DER (then `out` may hold part of the names); true with empty lists for a
// certificate without the extension.
bool read_alt_names(std::span<const unsigned char> cert_der, alt_names& out);

} // namespace ringlet::tls
