// The internal CA's lifecycle: its two authorities (root and intermediate) loaded from, created
// in and written to <storage>/ca, leaf issuance, and the renewal policy. The certificates
// themselves are built in internal_ca_cert.cpp; the files are read and written through
// certs::storage (atomic replacement, exact modes), like every other file under the storage folder.
#include "ringlet/certs/internal_ca.hpp"

#include "ringlet/certs/der.hpp"
#include "ringlet/certs/keys.hpp"

#include "certs/internal_ca_cert.hpp"

#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>

namespace ringlet::certs {

namespace {

using der::byte_view;
using der::bytes;
using detail::cert_kind;
using detail::cert_request;
using detail::fail_ca;
using detail::key_identifier;
using detail::make_certificate;
using detail::signed_by;

std::int64_t saturating_add(std::int64_t a, std::int64_t b) {
    std::int64_t r;
    if (__builtin_add_overflow(a, b, &r))
        return b > 0 ? std::numeric_limits<std::int64_t>::max()
                     : std::numeric_limits<std::int64_t>::min();
    return r;
}

// A random hex suffix for CA names.
std::string random_hex(WC_RNG& rng, std::size_t n_bytes, std::string& error, bool& ok) {
    std::uint8_t raw[16];
    ok =
        n_bytes <= sizeof raw && wc_RNG_GenerateBlock(&rng, raw, static_cast<word32>(n_bytes)) == 0;
    if (!ok) {
        error = "internal CA: random number generator failed";
        return {};
    }
    std::string out;
    for (std::size_t i = 0; i < n_bytes; ++i) {
        char hex[3];
        std::snprintf(hex, sizeof hex, "%02x", raw[i]);
        out += hex;
    }
    return out;
}

} // namespace

// ---- CA material ----------------------------------------------------------------------------

// One CA certificate with its key, as loaded from or written to <storage>/ca.
struct detail::authority {
    bytes cert_der;
    std::string cert_pem;
    bytes subject; // Name TLV, the issuer of what this authority signs
    bytes key_id;  // subjectKeyIdentifier, the AKI of what this authority signs
    std::int64_t not_before = 0;
    std::int64_t not_after = 0;
    std::optional<p256_key> key; // set once the authority is complete
};

namespace {

using authority = detail::authority;
using authority_ptr = std::unique_ptr<authority>;

constexpr const char* root_name = "root";
constexpr const char* intermediate_name = "intermediate";

// Parses a certificate/key pair read from `crt_path`/`key_path`; checks that they belong together
// (bad_message with `mismatch` set when both parse but the key is not the certificate's).
result<authority_ptr> load_authority(const std::string& crt_path, const std::string& crt_pem,
                                     const std::string& key_path, const std::string& key_pem,
                                     bool& mismatch, std::string& error) {
    mismatch = false;
    auto key = p256_key::from_pem(key_pem, key_path, error);
    if (!key) return unexpected{key.error()};

    auto a = std::make_unique<authority>();
    a->cert_der.resize(crt_pem.size());
    int n = wc_CertPemToDer(reinterpret_cast<const unsigned char*>(crt_pem.data()),
                            static_cast<int>(crt_pem.size()), a->cert_der.data(),
                            static_cast<int>(a->cert_der.size()), CERT_TYPE);
    der::parsed_cert c;
    if (n <= 0)
        return fail_msg(std::errc::bad_message, error, crt_path + ": not a PEM certificate");
    a->cert_der.resize(static_cast<std::size_t>(n));
    if (!der::parse_certificate(a->cert_der, c))
        return fail_msg(std::errc::bad_message, error, crt_path + ": malformed certificate");

    auto spki = key->spki_der(error);
    if (!spki) return unexpected{spki.error()};
    if (!der::equal(c.spki, *spki)) {
        mismatch = true;
        return fail_msg(std::errc::bad_message, error,
                        key_path + " is not the key of the certificate " + crt_path);
    }

    auto pem = der_to_pem(a->cert_der, CERT_TYPE, error);
    if (!pem) return unexpected{pem.error()};
    a->cert_pem = std::move(*pem);
    a->subject.assign(c.subject.begin(), c.subject.end());
    if (!c.key_id.empty()) {
        a->key_id.assign(c.key_id.begin(), c.key_id.end());
    } else {
        auto id = key_identifier(*key, error);
        if (!id) return unexpected{id.error()};
        a->key_id = std::move(*id);
    }
    a->not_before = c.not_before;
    a->not_after = c.not_after;
    a->key.emplace(std::move(*key));
    return a;
}

// True when `child`'s certificate names `issuer` as its issuer and carries its signature.
bool issued_by(const authority& child, const authority& issuer) {
    der::parsed_cert c;
    return der::parse_certificate(child.cert_der, c) && der::equal(c.issuer, issuer.subject) &&
           signed_by(c, *issuer.key);
}

// A new root (issuer == nullptr: self-signed) or intermediate (signed by `issuer`).
result<authority_ptr> create_authority(const authority* issuer, std::int64_t now,
                                       std::string& error) {
    auto rng = new_rng(error);
    if (!rng) return unexpected{rng.error()};
    auto key = p256_key::generate(**rng, error);
    if (!key) return unexpected{key.error()};
    auto key_id = key_identifier(*key, error);
    if (!key_id) return unexpected{key_id.error()};
    bool ok = false;
    // The random suffix tells apart the roots of different machines in a trust store, and the
    // intermediates of successive renewals in a client's cache.
    std::string suffix = random_hex(**rng, 3, error, ok);
    if (!ok) return fail_ca(RNG_FAILURE_E, error, "random number generator");

    auto a = std::make_unique<authority>();
    a->subject = der::make_name(
        "ringlet", (issuer ? "ringlet Local Intermediate CA " : "ringlet Local Root CA ") + suffix);
    a->key_id = std::move(*key_id);
    a->not_before = saturating_add(now, -internal_ca::backdate);
    if (issuer) {
        // Never outlive the root: a chain is only as valid as its shortest-lived link.
        a->not_after =
            std::min(saturating_add(now, internal_ca::intermediate_lifetime), issuer->not_after);
    } else {
        a->not_after = saturating_add(now, internal_ca::root_lifetime);
    }

    cert_request req{issuer ? cert_kind::intermediate : cert_kind::root,
                     issuer ? byte_view(issuer->subject) : byte_view(a->subject),
                     issuer ? byte_view(issuer->key_id) : byte_view(a->key_id),
                     a->subject,
                     a->key_id,
                     a->not_before,
                     a->not_after,
                     {},
                     false};
    auto der = make_certificate(req, *key, issuer ? *issuer->key : *key, **rng, error);
    if (!der) return unexpected{der.error()};
    auto pem = der_to_pem(*der, CERT_TYPE, error);
    if (!pem) return unexpected{pem.error()};
    a->cert_der = std::move(*der);
    a->cert_pem = std::move(*pem);
    a->key.emplace(std::move(*key));
    return a;
}

// Writes <name>.key, then <name>.crt: the certificate is written last, so that a crash between
// the two leaves a new key next to the old certificate, which the next open() detects as a
// mismatch (and, for the intermediate, repairs by re-issuing).
result<void> store_authority(const storage& st, const std::string& name, const authority& a,
                             std::string& error) {
    auto key_pem = a.key->to_pem(error);
    if (!key_pem) return unexpected{key_pem.error()};
    auto r = st.store_file("ca/" + name + ".key", *key_pem, 0600, error);
    explicit_bzero(key_pem->data(), key_pem->size());
    if (!r) return r;
    return st.store_file("ca/" + name + ".crt", a.cert_pem, 0644, error);
}

struct file_pair {
    std::string crt_path, key_path;
    result<std::string> crt, key;
    bool crt_missing() const { return !crt && crt.error() == errno_code(ENOENT); }
    bool key_missing() const { return !key && key.error() == errno_code(ENOENT); }
};

file_pair read_pair(const storage& st, const std::string& name, std::string& crt_error,
                    std::string& key_error) {
    const std::string crt = "ca/" + name + ".crt", key = "ca/" + name + ".key";
    return {st.path(crt), st.path(key), st.load_file(crt, crt_error), st.load_file(key, key_error)};
}

result<void> check_root_valid(const authority& root, const std::string& dir, std::int64_t now,
                              std::string& error) {
    if (now < root.not_after) return {};
    return fail_msg(errno_code(EKEYEXPIRED), error,
                    dir + "/root.crt: the root certificate expired at " +
                        der::format_time(root.not_after) + "; move " + dir +
                        " away to create a new CA (and trust the new root)");
}

} // namespace

// ---- internal_ca ----------------------------------------------------------------------------

internal_ca::internal_ca() = default;
internal_ca::internal_ca(internal_ca&&) noexcept = default;
internal_ca& internal_ca::operator=(internal_ca&&) noexcept = default;
internal_ca::~internal_ca() = default;

result<internal_ca> internal_ca::open(const std::string& storage_dir, std::int64_t now,
                                      std::string& error) {
    wolfcrypt_init();
    if (storage_dir.empty())
        return fail_msg(std::errc::invalid_argument, error, "internal CA: empty storage path");
    auto st = storage::open(storage_dir, error);
    if (!st) return unexpected{st.error()};
    internal_ca ca;
    if (auto made = st->make_dirs("ca", error); !made) return unexpected{made.error()};
    ca.store_.emplace(std::move(*st));
    const storage& files = *ca.store_;

    std::string crt_error, key_error;
    file_pair root = read_pair(files, root_name, crt_error, key_error);
    if (root.crt_missing() && root.key_missing()) {
        auto created = create_authority(nullptr, now, error);
        if (!created) return unexpected{created.error()};
        if (auto r = store_authority(files, root_name, **created, error); !r)
            return unexpected{r.error()};
        ca.root_ = std::move(*created);
    } else if (root.crt_missing() || root.key_missing()) {
        // Never replace a root behind the operator's back: clients trust it.
        const bool crt = root.crt_missing();
        return fail_msg(errno_code(ENOENT), error,
                        (crt ? root.crt_path : root.key_path) + " is missing but " +
                            (crt ? root.key_path : root.crt_path) +
                            " exists; restore it, or remove both files to create a new root CA");
    } else if (!root.crt) {
        return fail_msg(root.crt.error(), error, crt_error);
    } else if (!root.key) {
        return fail_msg(root.key.error(), error, key_error);
    } else {
        bool mismatch = false;
        auto loaded =
            load_authority(root.crt_path, *root.crt, root.key_path, *root.key, mismatch, error);
        explicit_bzero(root.key->data(), root.key->size());
        if (!loaded) return unexpected{loaded.error()};
        if (!issued_by(**loaded, **loaded))
            return fail_msg(std::errc::bad_message, error,
                            root.crt_path + ": not a self-signed certificate of " + root.key_path);
        ca.root_ = std::move(*loaded);
    }
    if (auto r = check_root_valid(*ca.root_, ca.dir(), now, error); !r)
        return unexpected{r.error()};

    file_pair inter = read_pair(files, intermediate_name, crt_error, key_error);
    if (!inter.crt_missing() && !inter.key_missing()) {
        if (!inter.crt) return fail_msg(inter.crt.error(), error, crt_error);
        if (!inter.key) return fail_msg(inter.key.error(), error, key_error);
        bool mismatch = false;
        auto loaded =
            load_authority(inter.crt_path, *inter.crt, inter.key_path, *inter.key, mismatch, error);
        explicit_bzero(inter.key->data(), inter.key->size());
        if (!loaded) {
            // A key that does not match its certificate is what a crash between the two renames
            // leaves behind (see store_authority): re-issue. Anything unparsable is reported.
            if (!mismatch) return unexpected{loaded.error()};
            error.clear();
        } else if (issued_by(**loaded, *ca.root_)) {
            // An intermediate of another root (the root was restored from elsewhere) is dropped.
            ca.intermediate_ = std::move(*loaded);
        }
    }
    if (auto r = ca.refresh_intermediate(now, error); !r) return unexpected{r.error()};
    return ca;
}

result<void> internal_ca::refresh_intermediate(std::int64_t now, std::string& error) {
    if (intermediate_ && now >= intermediate_->not_before &&
        !renewal_due(intermediate_->not_before, intermediate_->not_after, now))
        return {};
    if (auto r = check_root_valid(*root_, dir(), now, error); !r) return r;
    auto next = create_authority(root_.get(), now, error);
    if (!next) return unexpected{next.error()};
    // Only a stored intermediate replaces the one in memory: a failed write changes nothing.
    if (auto r = store_authority(*store_, intermediate_name, **next, error); !r) return r;
    intermediate_ = std::move(*next);
    return {};
}

result<issued_certificate> internal_ca::issue(std::span<const std::string> names, std::int64_t now,
                                              std::int64_t lifetime_seconds, std::string& error) {
    if (lifetime_seconds <= 0)
        return fail_msg(std::errc::invalid_argument, error,
                        "internal CA: certificate lifetime must be positive");
    std::string first_name;
    auto san = der::general_names(names, first_name, error);
    if (!san) return fail_msg(san.error(), error, "internal CA: " + error);
    if (auto r = check_root_valid(*root_, dir(), now, error); !r) return unexpected{r.error()};
    if (auto r = refresh_intermediate(now, error); !r) return unexpected{r.error()};

    auto rng = new_rng(error);
    if (!rng) return unexpected{rng.error()};
    auto key = p256_key::generate(**rng, error);
    if (!key) return unexpected{key.error()};
    auto key_id = key_identifier(*key, error);
    if (!key_id) return unexpected{key_id.error()};

    // ub-common-name is 64 characters (RFC 5280 appendix A); a longer first name leaves the
    // subject empty, and RFC 5280 4.2.1.6 then requires the SAN extension to be critical.
    const bool empty_subject = first_name.size() > 64;
    const bytes subject = der::make_name("", empty_subject ? "" : first_name);

    issued_certificate out;
    out.not_before = saturating_add(now, -backdate);
    out.not_after = std::min(saturating_add(now, lifetime_seconds), intermediate_->not_after);
    cert_request req{cert_kind::leaf, intermediate_->subject, intermediate_->key_id, subject,
                     *key_id,         out.not_before,         out.not_after,         *san,
                     empty_subject};
    auto der = make_certificate(req, *key, *intermediate_->key, **rng, error);
    if (!der) return unexpected{der.error()};
    auto leaf_pem = der_to_pem(*der, CERT_TYPE, error);
    if (!leaf_pem) return unexpected{leaf_pem.error()};
    auto key_pem = key->to_pem(error);
    if (!key_pem) return unexpected{key_pem.error()};

    out.chain_pem = std::move(*leaf_pem) + intermediate_->cert_pem;
    out.key_pem = std::move(*key_pem);
    return out;
}

const std::string& internal_ca::root_pem() const {
    return root_->cert_pem;
}

const std::string& internal_ca::intermediate_pem() const {
    return intermediate_->cert_pem;
}

std::string internal_ca::root_path() const {
    return store_->path("ca/root.crt");
}

std::int64_t internal_ca::intermediate_not_before() const {
    return intermediate_->not_before;
}

std::int64_t internal_ca::intermediate_not_after() const {
    return intermediate_->not_after;
}

// ---- renewal policy -------------------------------------------------------------------------

std::int64_t renewal_time(std::int64_t not_before, std::int64_t not_after) {
    if (not_after <= not_before) return std::numeric_limits<std::int64_t>::min();
    // Unsigned: the difference of two int64 may not fit in one.
    const std::uint64_t lifetime =
        static_cast<std::uint64_t>(not_after) - static_cast<std::uint64_t>(not_before);
    return static_cast<std::int64_t>(static_cast<std::uint64_t>(not_after) - lifetime / 3);
}

bool renewal_due(std::int64_t not_before, std::int64_t not_after, std::int64_t now) {
    return now >= renewal_time(not_before, not_after);
}

} // namespace ringlet::certs
