// storage_lock: a named, leased lock in the storage folder, so that of several ringlet processes
// sharing one storage only one issues a given certificate or registers a given account.
//
// A lock is the file locks/<safe_key(name)>.lock holding its owner (pid, host), when it was
// created and last refreshed, when it expires (refreshed + lease) and a random token. It is
// created with its full content already in place (a temporary file, fsynced, then link()ed to
// the lock name, which fails if the name exists), so a reader never sees an empty lock of ours.
// Whoever holds it must refresh() it well before it expires (at a third of the lease, say);
// a lock whose expiry has passed, or an empty or unparsable file older than lock_grace, is stale
// and the next try_acquire takes it over.
//
// Every replacement or removal of an existing lock file goes through a claim on that exact file
// version: the file `.<key>.lock.claim-<inode>.<mtime>-<n>`, created O_EXCL. Takeover, refresh
// and release each claim the version they judged, check that it is still the one at the lock
// name, and only then rename over it or unlink it. So two processes racing to take over the same
// stale lock cannot both win (only one creates the claim), a takeover never removes a lock that
// was refreshed meanwhile, and release() never removes someone else's lock (CertMagic deletes
// stale locks blindly and admits two instances can both win). A claim left by a crash blocks
// that version for lock_grace, then a claim of the next generation is allowed. As with any
// lease, a holder paused past its expiry may find its lock taken: refresh() then fails and it
// must stop.
//
// Time: lock semantics (expiry, staleness of an unparsable file) use the caller's `now` in unix
// seconds; claims and leftovers are aged by the file system's clock (mtimes of fresh files), so
// a caller's clock can never make a live claim look old.
//
//   auto a = certs::try_acquire(st, "issue_cert_" + key, now, 60, err);
//   if (!a) return fail(err);
//   if (!a->acquired()) return retry_later(a->holder.expires);
//   ... issue, a->lock->refresh(now, 60, err) every 20 s ...
//   // a->lock releases in its destructor
#pragma once

#include "ringlet/base/result.hpp"
#include "ringlet/certs/storage.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ringlet::certs {

struct lock_info {
    std::int64_t pid = 0; // 0 when the file could not be parsed
    std::string host;
    std::int64_t created = 0; // unix seconds
    std::int64_t refreshed = 0;
    std::int64_t expires = 0; // refreshed + lease; for an unparsable file, mtime + lock_grace
    std::string token;        // 32 hex digits, new for every acquisition
};

// How long an empty or unparsable lock file, or a claim, is presumed to belong to a live writer.
constexpr std::int64_t lock_grace = 30;

// The file content: "ringlet-lock 1\npid N\nhost H\ncreated N\nrefreshed N\nexpires N\ntoken T\n".
std::string format_lock(const lock_info& info);
// Exactly that format; nullopt for anything else (empty, truncated, foreign).
std::optional<lock_info> parse_lock(std::string_view text);

// Pure decisions.
bool is_stale(const lock_info& info, std::int64_t now);              // now >= expires
bool unparsable_lock_is_stale(std::int64_t mtime, std::int64_t now); // mtime + lock_grace <= now
// The holder ran on this host (same host name) and its pid no longer exists: a process that
// crashed or was killed holding the lock. Such a lock is stale at once, so a restart does not
// wait out its predecessor's lease. (Containers sharing a storage volume must have distinct
// host names, which Docker and Kubernetes give them.)
bool holder_is_gone(const lock_info& info);

struct lock_attempt;

class storage_lock {
public:
    storage_lock(storage_lock&& o) noexcept;
    storage_lock& operator=(storage_lock&& o) noexcept;
    storage_lock(const storage_lock&) = delete;
    storage_lock& operator=(const storage_lock&) = delete;
    ~storage_lock(); // release(), logging a failure

    bool held() const { return held_; }
    const lock_info& info() const { return info_; }
    const std::string& path() const { return path_; }

    // Sets expires = now + lease_seconds (the file is replaced atomically). Fails with
    // no_lock_available, and the lock is no longer held, when it expired before `now` or was
    // taken over; with the errno of a failed system call otherwise (still held).
    result<void> refresh(std::int64_t now, std::int64_t lease_seconds, std::string& error);
    // Removes the lock file if it is still ours. no_lock_available when it was taken over
    // (nothing removed). Not held afterwards in any case.
    result<void> release(std::string& error);

private:
    friend result<lock_attempt> try_acquire(const storage&, std::string_view, std::int64_t,
                                            std::int64_t, std::string&);
    storage_lock() = default;

    std::string dir_;  // <root>/locks
    std::string key_;  // safe_key(name)
    std::string path_; // <dir>/<key>.lock
    std::string id_;   // "<inode>.<mtime s>.<mtime ns>" of our lock file version
    lock_info info_;
    bool held_ = false;
};

struct lock_attempt {
    std::optional<storage_lock> lock; // engaged when acquired
    lock_info holder;                 // otherwise: the current holder (and until when)
    bool acquired() const { return lock.has_value(); }
};

// One attempt, no waiting: acquired (possibly by taking over a stale lock) or held by another
// (holder filled in). Errors: invalid_argument for lease_seconds <= 0; the errno of a failed
// system call, `error` naming the path.
result<lock_attempt> try_acquire(const storage& st, std::string_view name, std::int64_t now,
                                 std::int64_t lease_seconds, std::string& error);

} // namespace ringlet::certs
