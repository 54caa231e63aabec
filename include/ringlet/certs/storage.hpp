// storage: the durable state of certificate automation (certificates with their keys, ACME
// accounts, OCSP staples, locks), kept in files that several ringlet processes share.
//
// Layout under the root (folders 0700, private keys 0600, everything else 0644):
//
//   certificates/<issuer>/<name>/{cert.pem,key.pem,meta.json}   store_bundle / load_bundle
//   accounts/<issuer>/<account>/{key.pem,account.json}          store_file / load_file
//   accounts/<issuer>/challenge                                 store_file / load_file
//   ocsp/<name>.der                                             store_file / load_file
//   pending/<issuer>/<name>/{key.pem,order.json}                store_file / remove_file
//   locks/<lock>.lock                                           storage_lock.hpp
//
// Every path component comes from one of the key functions below, so a name chosen by a client
// (SNI, a config typo) can never climb out of its folder or collide with another name's files.
//
// Single files are replaced atomically: a new hidden file `.<file>.tmp-<16 hex>` in the same
// folder (O_EXCL, the exact mode whatever the umask), written, fsynced, renamed over the old one,
// and the folder fsynced so the rename survives a power cut. Readers see the old or the new
// content; a failed write leaves the old file and removes its temporary file.
//
// Bundles. A certificate, its key and its metadata must change together: a crash must never
// leave a new certificate beside an old key (CertMagic writes them one by one and only deletes
// on error). So `certificates/<issuer>/<name>` is a symbolic link to a hidden version folder
// `.<name>.v-<16 hex>` beside it, and store_bundle:
//   1. creates a new version folder and writes key.pem, cert.pem, meta.json into it, each fsynced,
//      then fsyncs the folder;
//   2. creates a link `.<name>.link-<16 hex>` to it and fsyncs the parent;
//   3. rename()s that link over <name> (the single atomic step) and fsyncs the parent;
//   4. deletes the previous version folder.
// A crash before 3 leaves <name> pointing at the old, complete version; after 3, at the new,
// complete one. Plain rename() of a link is atomic on every POSIX file system, unlike
// renameat2(RENAME_EXCHANGE) of folders, which NFS and older ZFS refuse. load_bundle opens
// <name> once as a folder and reads the three files relative to that descriptor, so it cannot
// combine two versions; if a writer deletes the version it opened, it starts again.
//
// Leftovers of a crash (temporary files, unreferenced version folders and links) are hidden and
// are deleted by the next write in the same folder once they are `leftover_age` older than that
// write's own new file (file-system clock: no `now` needed, and a slow concurrent writer's
// fresh files are never touched).
//
// Concurrency: all methods are const and may run concurrently in several threads and processes.
// Two writers of the same file or bundle never produce a mix: the last rename wins. Sequences
// that must not interleave (issue, then store) take a storage_lock.
//
//   std::string err;
//   auto st = certs::storage::open("/var/lib/ringlet", err);
//   if (!st) return fail(err);
//   auto b = st->load_bundle(certs::issuer_key(url), certs::name_key(names), err);
//   if (!b && b.error() != std::errc::no_such_file_or_directory) log(err);
#pragma once

#include "ringlet/base/result.hpp"

#include <sys/stat.h>

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

namespace ringlet::certs {

// ---- keys: safe path components -------------------------------------------------------------
//
// A key is 1..max_key_length characters of [a-z0-9._-], never starting with '.' (so never "."
// or "..", and never one of the hidden names storage uses for its own files). Inputs that map
// one-to-one keep their readable form; any lossy step (a character mapped to '_', truncation,
// upper case where case matters, an empty input) appends "__" and 16 hex digits of the input's
// SHA-256, and readable keys never contain "__", so different inputs get different keys.

constexpr std::size_t max_key_length = 120;

// Any text (an account e-mail, a lock name): kept if already a key, else mapped and hashed.
std::string safe_key(std::string_view text);

// The CA's directory URL without scheme, query or user: host, "-port", then the path with '/'
// as '-'. "https://acme-v02.api.letsencrypt.org/directory" -> "acme-v02.api.letsencrypt.org-
// directory"; "https://127.0.0.1:14000/dir" -> "127.0.0.1-14000-dir". The host is case-folded;
// upper case in the path (ZeroSSL's "/v2/DV90"), a query or a user part are lossy. As in
// CertMagic, URLs that differ only in the scheme or in a '-' standing for ':' or '/' share a key
// (no two real CAs do).
std::string issuer_key(std::string_view directory_url);

// A certificate's names, case-folded, deduplicated and sorted (order does not matter), joined
// with '_'; "*." becomes "wildcard_.". ["*.Example.com"] -> "wildcard_.example.com";
// ["www.a.org", "a.org"] -> "a.org_www.a.org". A name outside [a-z0-9.-] (after the wildcard
// prefix), or starting with '.', is lossy.
std::string name_key(std::span<const std::string> names);

// True for a valid key (the definition above, without checking where it came from).
bool is_safe_key(std::string_view key);

// Relative paths of the layout; the arguments must be keys.
std::string certificate_path(std::string_view issuer, std::string_view name);
std::string account_path(std::string_view issuer, std::string_view account);
// The ACME challenge type that last worked with this CA ("http-01", ...).
std::string challenge_choice_path(std::string_view issuer);
std::string ocsp_path(std::string_view name);
// An ACME order finalized but not yet downloaded, with the key its CSR was made from.
std::string pending_order_path(std::string_view issuer, std::string_view name);
std::string lock_path(std::string_view lock);

// ---- storage ---------------------------------------------------------------------------------

struct cert_bundle {
    std::string cert_pem;  // the chain, leaf first
    std::string key_pem;   // the leaf's private key
    std::string meta_json; // a JSON object: names, issuer data, renewal info
};

// The points between the steps of a write, for tests that inject a failure or a crash there.
enum class write_step {
    file_temp_written,   // store_file: temporary file complete, not yet renamed
    file_renamed,        // store_file: renamed, folder not yet fsynced
    bundle_folder_made,  // store_bundle: empty version folder
    bundle_key_written,  // key.pem in the version folder
    bundle_cert_written, // cert.pem too
    bundle_meta_written, // meta.json too
    bundle_synced,       // version folder fsynced
    bundle_link_made,    // new link created, parent fsynced
    bundle_swapped,      // link renamed over <name>, parent not yet fsynced
    bundle_old_removed,  // previous version deleted
};
const char* to_string(write_step s);

class storage {
public:
    // Leftovers older than this (relative to a new write) are deleted; generous, because a
    // writer stalled on fsync must not lose its files.
    static constexpr std::int64_t leftover_age = 900;
    // Larger files are refused by the loaders (certificates and keys are a few KiB).
    static constexpr std::size_t max_file_size = 1 << 20;

    // Opens (creating if missing: parents 0755, the root itself 0700) the storage folder.
    // Errors: the errno of a failed system call; not_a_directory; invalid_argument for "".
    static result<storage> open(std::string root, std::string& error);

    const std::string& root() const { return root_; }
    // root + "/" + rel.
    std::string path(std::string_view rel) const;

    // Creates the folders of `rel` (a relative path of safe components) that are missing, 0700
    // each, fsyncing their parents. Returns the absolute path.
    result<std::string> make_dirs(std::string_view rel, std::string& error) const;

    // Replaces the file at `rel` atomically with `data`, mode `mode` (0600 for keys), creating
    // missing folders. Not for files inside certificates/: bundles are written whole.
    result<void> store_file(std::string_view rel, std::string_view data, mode_t mode,
                            std::string& error) const;
    // Errors: no_such_file_or_directory when missing; bad_message when not a regular file;
    // file_too_large; invalid_argument for an unsafe `rel`.
    result<std::string> load_file(std::string_view rel, std::string& error) const;
    // Deletes the file at `rel` and fsyncs its folder; a missing file is success.
    result<void> remove_file(std::string_view rel, std::string& error) const;

    // Replaces certificates/<issuer>/<name> as one unit (file comment). On error the bundle is
    // the old or the new one, whole, and this call's temporary files are gone.
    result<void> store_bundle(std::string_view issuer, std::string_view name,
                              const cert_bundle& bundle, std::string& error) const;
    // Errors: no_such_file_or_directory when no bundle was stored; bad_message when a file is
    // missing, empty, not PEM of the expected kind or (meta.json) not a JSON object, with
    // `error` naming the file; invalid_argument when issuer or name is not a key.
    result<cert_bundle> load_bundle(std::string_view issuer, std::string_view name,
                                    std::string& error) const;

    // Test seam: called at each write_step; returning false fails the write there with EIO
    // (a hook may also _exit() to simulate a crash).
    void set_step_hook(std::function<bool(write_step)> hook) { hook_ = std::move(hook); }

private:
    explicit storage(std::string root) : root_(std::move(root)) {}
    result<void> step(write_step s, std::string& error) const;

    std::string root_;
    std::function<bool(write_step)> hook_;
};

namespace detail {
// Shared by storage.cpp and storage_lock.cpp; not API.

std::string random_hex(std::size_t bytes);
result<void> fsync_dir(const std::string& dir, std::string& error);

struct temp_file {
    std::string path;
    struct stat st {}; // after the last write: identity and file-system time
};
// <dir>/.<base>.tmp-<16 hex>: created O_EXCL with exactly `mode`, `data` written, fsynced,
// closed. On failure nothing is left behind.
result<temp_file> write_temp(const std::string& dir, std::string_view base, std::string_view data,
                             mode_t mode, std::string& error);
// ".<base>.tmp-" followed by exactly 16 hex digits.
bool is_temp_name(std::string_view entry, std::string_view base);
// Deletes the entries of `dir` (files, or folders of files) for which `is_leftover` is true and
// whose mtime is at least storage::leftover_age before `reference` (file-system seconds).
void remove_leftovers(const std::string& dir, std::int64_t reference,
                      const std::function<bool(std::string_view)>& is_leftover);
// Reads a whole regular file through an open descriptor (at most storage::max_file_size).
result<std::string> read_fd(int fd, const std::string& path, std::string& error);

} // namespace detail

} // namespace ringlet::certs
