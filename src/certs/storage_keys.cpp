// The safe path keys of certs/storage (see storage.hpp): pure string functions.
#include "ringlet/certs/storage.hpp"

#include "ringlet/base/ascii.hpp"

// wolfSSL: options.h first, always (it carries the defines the library was built with).
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/settings.h>

#include <wolfssl/wolfcrypt/hash.h>

#include <algorithm>
#include <string>

namespace ringlet::certs {

namespace {

// ---- keys -----------------------------------------------------------------------------------

bool key_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

bool dns_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

std::string hash16(std::string_view input) {
    byte digest[WC_SHA256_DIGEST_SIZE] = {};
    wc_Sha256Hash(reinterpret_cast<const byte*>(input.data()), static_cast<word32>(input.size()),
                  digest);
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (int i = 0; i < 8; ++i) {
        out += hex[digest[i] >> 4];
        out += hex[digest[i] & 15];
    }
    return out;
}

// The one place a key is made: `readable` is mapped into the key alphabet, and hashed (see the
// header) when anything was lost on the way.
std::string finish_key(std::string readable, bool lossy, std::string_view hash_input) {
    for (char& c : readable) {
        if (!key_char(c)) {
            c = '_';
            lossy = true;
        }
    }
    if (readable.empty() || readable.front() == '.') {
        readable = "_" + readable;
        lossy = true;
    }
    if (readable.find("__") != std::string::npos || readable.size() > max_key_length) lossy = true;
    if (!lossy) return readable;
    readable.resize(std::min(readable.size(), max_key_length - 18));
    return readable + "__" + hash16(hash_input);
}

} // namespace

// ---- keys -----------------------------------------------------------------------------------

std::string safe_key(std::string_view text) {
    return finish_key(std::string(text), false, text);
}

std::string issuer_key(std::string_view url) {
    bool lossy = false;
    std::string_view rest = url;
    if (const std::size_t p = rest.find("://"); p != std::string_view::npos) {
        rest.remove_prefix(p + 3);
    } else {
        lossy = true;
    }
    if (const std::size_t p = rest.find_first_of("?#"); p != std::string_view::npos) {
        rest = rest.substr(0, p);
        lossy = true;
    }
    const std::size_t slash = std::min(rest.find('/'), rest.size());
    std::string_view authority = rest.substr(0, slash);
    const std::string_view path = rest.substr(slash);
    if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
        authority.remove_prefix(at + 1);
        lossy = true;
    }
    std::string readable = ascii_lower(authority);
    std::replace(readable.begin(), readable.end(), ':', '-');
    for (char c : path) {
        if (c == '/') {
            readable += '-';
        } else {
            lossy |= ascii_lower(c) != c; // paths are case-sensitive
            readable += ascii_lower(c);
        }
    }
    return finish_key(std::move(readable), lossy, url);
}

std::string name_key(std::span<const std::string> names) {
    std::vector<std::string> folded;
    for (const std::string& n : names) folded.push_back(ascii_lower(n));
    std::sort(folded.begin(), folded.end());
    folded.erase(std::unique(folded.begin(), folded.end()), folded.end());

    bool lossy = folded.empty();
    std::string readable, hash_input;
    for (const std::string& n : folded) {
        std::string_view rest = n;
        if (!readable.empty()) readable += '_';
        if (rest.starts_with("*.")) {
            readable += "wildcard_.";
            rest.remove_prefix(2);
        }
        if (rest.empty() || rest.front() == '.' || !std::all_of(rest.begin(), rest.end(), dns_char))
            lossy = true;
        readable += rest;
        // Length-prefixed so that no two lists hash alike.
        hash_input += std::to_string(n.size()) + ':' + n;
    }
    return finish_key(std::move(readable), lossy, hash_input);
}

bool is_safe_key(std::string_view key) {
    return !key.empty() && key.size() <= max_key_length && key.front() != '.' &&
           std::all_of(key.begin(), key.end(), key_char);
}

std::string certificate_path(std::string_view issuer, std::string_view name) {
    return "certificates/" + std::string(issuer) + "/" + std::string(name);
}
std::string account_path(std::string_view issuer, std::string_view account) {
    return "accounts/" + std::string(issuer) + "/" + std::string(account);
}
std::string challenge_choice_path(std::string_view issuer) {
    return "accounts/" + std::string(issuer) + "/challenge";
}
std::string ocsp_path(std::string_view name) {
    return "ocsp/" + std::string(name) + ".der";
}
std::string pending_order_path(std::string_view issuer, std::string_view name) {
    return "pending/" + std::string(issuer) + "/" + std::string(name);
}
std::string lock_path(std::string_view lock) {
    return "locks/" + std::string(lock) + ".lock";
}

} // namespace ringlet::certs
