// internal_ca: ringlet's local certificate authority, for names no public CA will certify
// (localhost, *.localhost, 127.0.0.1, ::1, LAN names), in the manner of Caddy's internal issuer.
//
// Layout under the storage folder (folders 0700, keys 0600, certificates 0644):
//
//   <storage>/ca/root.crt          self-signed root, ECDSA P-256, 10 years (3650 days)
//   <storage>/ca/root.key          its key, PEM "EC PRIVATE KEY" (SEC 1)
//   <storage>/ca/intermediate.crt  signed by the root, ECDSA P-256, 30 days, CA:TRUE pathlen:0
//   <storage>/ca/intermediate.key  its key, PEM "EC PRIVATE KEY" (SEC 1)
//
// Every file is replaced atomically (temporary file, fsync, rename, fsync of the folder), so a
// reader sees the old or the new content, never a mix. The root is created once and never
// replaced: a missing, corrupt or mismatched root file is an error for the operator to resolve.
// The intermediate is disposable: it is re-issued when missing, when its key does not match, when
// it was not issued by the current root, when it is not yet valid, or when renewal_due() says so.
// A corrupt (unparsable) or unreadable intermediate file is an error, like any corrupt file.
//
// Time is injected: `now` is unix seconds from the caller; nothing here reads a clock.
//
// Not thread-safe: one internal_ca belongs to one thread (the control thread). Two processes must
// not share a storage folder (no locking; the atomic writes keep each file consistent only).
//
//   std::string err;
//   auto ca = certs::internal_ca::open(storage, now, err);
//   if (!ca) return fail(err);
//   auto leaf = ca->issue(names, now, 12 * 3600, err);
#pragma once

#include "ringlet/base/result.hpp"
#include "ringlet/certs/storage.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

namespace ringlet::certs {

namespace detail {
struct authority; // a CA certificate with its key (internal_ca.cpp)
}

struct issued_certificate {
    std::string chain_pem; // leaf certificate, then the intermediate, both PEM
    // The leaf's private key (EC P-256) as SEC 1 PEM: "-----BEGIN EC PRIVATE KEY-----".
    std::string key_pem;
    std::int64_t not_before = 0; // unix seconds, as encoded in the leaf
    std::int64_t not_after = 0;
};

class internal_ca {
public:
    static constexpr std::int64_t root_lifetime = 3650 * 86400;
    static constexpr std::int64_t intermediate_lifetime = 30 * 86400;
    // Certificates start this much before `now`, for peers whose clocks run a little behind.
    static constexpr std::int64_t backdate = 60;

    // Loads the CA from <storage_dir>/ca/, creating the folders and, when neither root.crt nor
    // root.key exists, a new root and intermediate. The intermediate is re-issued here when due
    // (see the file comment). On failure `error` names the file and the reason, and no existing
    // root file has been modified. Errors: the errno of a failed system call; bad_message for a
    // corrupt or mismatched file; no_such_file_or_directory when only one of the root files
    // exists; EKEYEXPIRED when the root has expired at `now`; invalid_argument for an empty path;
    // a "wolfcrypt" category code for a failed wolfCrypt operation.
    static result<internal_ca> open(const std::string& storage_dir, std::int64_t now,
                                    std::string& error);

    // Issues a leaf certificate for `names`, signed by the intermediate (renewed first when due at
    // `now`, which writes the new intermediate files):
    //   - names: DNS names (lower-cased, one trailing dot dropped, letters/digits/hyphens,
    //     a wildcard only as the whole leftmost label: "*.localhost") and IPv4/IPv6 literals
    //     ("127.0.0.1", "::1"; no brackets, no zone) which become iPAddress SANs. Duplicates are
    //     dropped. Subject CN = the first name, or an empty subject with a critical SAN when
    //     that name is longer than the 64 characters CN allows.
    //   - a fresh P-256 key, a random positive 16-byte serial, CA:FALSE, keyUsage
    //     digitalSignature, extKeyUsage serverAuth, SKI, AKI = the intermediate's SKI.
    //   - notBefore = now - backdate; notAfter = now + lifetime_seconds, clamped to the
    //     intermediate's notAfter (as Caddy does) so that the chain never outlives its issuer;
    //     the result carries the dates actually encoded.
    // Errors: invalid_argument for bad names or lifetime_seconds <= 0 (error says which), plus
    // those of open() for the intermediate renewal.
    result<issued_certificate> issue(std::span<const std::string> names, std::int64_t now,
                                     std::int64_t lifetime_seconds, std::string& error);

    const std::string& root_pem() const;
    const std::string& intermediate_pem() const;
    std::string root_path() const; // <storage>/ca/root.crt
    // The current intermediate's validity (unix seconds).
    std::int64_t intermediate_not_before() const;
    std::int64_t intermediate_not_after() const;

    internal_ca(internal_ca&&) noexcept;
    internal_ca& operator=(internal_ca&&) noexcept;
    ~internal_ca();

private:
    internal_ca();

    // Re-issues the intermediate if it is missing, not yet valid or due at `now`.
    result<void> refresh_intermediate(std::int64_t now, std::string& error);

    // <storage>/ca, for messages.
    std::string dir() const { return store_->path("ca"); }

    std::optional<storage> store_; // the storage folder its files are in
    std::unique_ptr<detail::authority> root_;
    std::unique_ptr<detail::authority> intermediate_;
};

// Renewal policy, the same ratio as CertMagic's default: a certificate is due for renewal once at
// most a third of its lifetime (notAfter - notBefore) remains, i.e. from renewal_time() on.
// A 7-day certificate is due 4 d 16 h after notBefore, not a second earlier. A certificate with
// notAfter <= notBefore is always due.
bool renewal_due(std::int64_t not_before, std::int64_t not_after, std::int64_t now);
// notAfter - floor(lifetime / 3): the first second at which renewal_due() is true.
std::int64_t renewal_time(std::int64_t not_before, std::int64_t not_after);

} // namespace ringlet::certs
