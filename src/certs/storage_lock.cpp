#include "ringlet/certs/storage_lock.hpp"

#include "ringlet/base/log.hpp"
#include "ringlet/base/unique_fd.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <climits>
#include <utility>

namespace ringlet::certs {

namespace {

std::string hostname() {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
    return buf;
}

// A lock file version: the same inode with the same mtime is the same content (locks are only
// ever replaced by rename, which brings a new inode).
std::string identity(const struct stat& st) {
    return std::to_string(st.st_ino) + "." + std::to_string(st.st_mtim.tv_sec) + "." +
           std::to_string(st.st_mtim.tv_nsec);
}

std::string claim_prefix(const std::string& key) {
    return "." + key + ".lock.claim-";
}

// ".<key>.lock.claim-" + identity + "-" + generation.
bool is_claim_name(std::string_view entry, const std::string& key) {
    const std::string prefix = claim_prefix(key);
    if (!entry.starts_with(prefix) || entry.size() == prefix.size()) return false;
    entry.remove_prefix(prefix.size());
    return std::all_of(entry.begin(), entry.end(),
                       [](char c) { return (c >= '0' && c <= '9') || c == '.' || c == '-'; });
}

// Claims lock file version `id`: returns the claim's path, or "" when another process holds a
// live claim on it. A claim is live while younger than lock_grace by the file-system clock
// `fs_now`; LLONG_MIN treats every claim as live.
result<std::string> claim(const std::string& dir, const std::string& key, const std::string& id,
                          std::int64_t fs_now, std::string& error) {
    for (int generation = 0; generation < 8; ++generation) {
        std::string p = dir + "/" + claim_prefix(key) + id + "-" + std::to_string(generation);
        unique_fd fd(::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644));
        if (fd) return p;
        if (errno != EEXIST) return fail_path(errno, error, p);
        struct stat st {};
        if (::stat(p.c_str(), &st) != 0 || fs_now == LLONG_MIN || st.st_mtime + lock_grace > fs_now)
            return std::string();
    }
    return std::string();
}

// True when the file at `path` is still version `id`.
bool still(const std::string& path, const std::string& id) {
    struct stat st {};
    return ::lstat(path.c_str(), &st) == 0 && identity(st) == id;
}

bool parse_int(std::string_view s, std::int64_t& out) {
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && end == s.data() + s.size() && !s.empty();
}

} // namespace

// ---- format and decisions -------------------------------------------------------------------

std::string format_lock(const lock_info& info) {
    std::string host = info.host;
    for (char& c : host) {
        if (c <= ' ' || c > '~') c = '?'; // one word on one line
    }
    return "ringlet-lock 1\npid " + std::to_string(info.pid) + "\nhost " + host + "\ncreated " +
           std::to_string(info.created) + "\nrefreshed " + std::to_string(info.refreshed) +
           "\nexpires " + std::to_string(info.expires) + "\ntoken " + info.token + "\n";
}

std::optional<lock_info> parse_lock(std::string_view text) {
    static constexpr std::string_view fields[] = {"ringlet-lock", "pid",     "host", "created",
                                                  "refreshed",    "expires", "token"};
    std::string_view values[std::size(fields)];
    for (std::size_t i = 0; i < std::size(fields); ++i) {
        const std::size_t nl = text.find('\n');
        if (nl == std::string_view::npos) return std::nullopt;
        const std::string_view line = text.substr(0, nl);
        text.remove_prefix(nl + 1);
        if (!line.starts_with(fields[i]) || line.size() <= fields[i].size() ||
            line[fields[i].size()] != ' ') {
            return std::nullopt;
        }
        values[i] = line.substr(fields[i].size() + 1);
    }
    lock_info info;
    const std::string_view token = values[6];
    const bool hex_token =
        token.size() == 32 && std::all_of(token.begin(), token.end(), [](char c) {
            return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
        });
    if (!text.empty() || values[0] != "1" || !parse_int(values[1], info.pid) ||
        !parse_int(values[3], info.created) || !parse_int(values[4], info.refreshed) ||
        !parse_int(values[5], info.expires) || !hex_token) {
        return std::nullopt;
    }
    info.host = values[2];
    info.token = token;
    return info;
}

bool is_stale(const lock_info& info, std::int64_t now) {
    return now >= info.expires;
}

bool holder_is_gone(const lock_info& info) {
    // Only on this host: a pid means nothing elsewhere. A reused pid keeps the lock until it
    // expires, the safe direction.
    if (info.pid <= 0 || info.host != hostname()) return false;
    return ::kill(static_cast<pid_t>(info.pid), 0) != 0 && errno == ESRCH;
}

bool unparsable_lock_is_stale(std::int64_t mtime, std::int64_t now) {
    return mtime + lock_grace <= now;
}

// ---- acquisition ----------------------------------------------------------------------------

result<lock_attempt> try_acquire(const storage& st, std::string_view name, std::int64_t now,
                                 std::int64_t lease_seconds, std::string& error) {
    if (lease_seconds <= 0) return fail_msg(std::errc::invalid_argument, error, "lock: lease <= 0");
    auto dir = st.make_dirs("locks", error);
    if (!dir) return unexpected{dir.error()};
    storage_lock lock;
    lock.dir_ = *dir;
    lock.key_ = safe_key(name);
    lock.path_ = *dir + "/" + lock.key_ + ".lock";
    lock.info_ = {::getpid(), hostname(), now, now, now + lease_seconds, detail::random_hex(16)};
    const std::string base = lock.key_ + ".lock";
    auto tmp = detail::write_temp(*dir, base, format_lock(lock.info_), 0644, error);
    if (!tmp) return unexpected{tmp.error()};
    const std::int64_t fs_now = tmp->st.st_mtime;

    lock_attempt out;
    for (int attempt = 0; attempt < 4 && !lock.held_; ++attempt) {
        if (::link(tmp->path.c_str(), lock.path_.c_str()) == 0) {
            lock.held_ = true;
            break;
        }
        if (errno != EEXIST) {
            const int e = errno;
            ::unlink(tmp->path.c_str());
            return fail_path(e, error, lock.path_);
        }
        unique_fd fd(::open(lock.path_.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY));
        struct stat cur {};
        if (!fd && errno == ENOENT) continue; // released meanwhile
        if (!fd || ::fstat(fd.get(), &cur) != 0) {
            const int e = errno;
            ::unlink(tmp->path.c_str());
            return fail_path(e, error, lock.path_);
        }
        std::string ignored;
        auto text = detail::read_fd(fd.get(), lock.path_, ignored);
        const auto parsed = text ? parse_lock(*text) : std::nullopt;
        out.holder = parsed ? *parsed : lock_info{.expires = cur.st_mtime + lock_grace};
        const bool stale = parsed ? is_stale(*parsed, now) || holder_is_gone(*parsed)
                                  : unparsable_lock_is_stale(cur.st_mtime, now);
        if (!stale) break;

        const std::string id = identity(cur);
        auto claimed = claim(*dir, lock.key_, id, fs_now, error);
        if (!claimed) {
            ::unlink(tmp->path.c_str());
            return unexpected{claimed.error()};
        }
        if (claimed->empty()) continue; // another process is taking it over: look again
        if (still(lock.path_, id)) {
            if (::rename(tmp->path.c_str(), lock.path_.c_str()) != 0) {
                const int e = errno;
                ::unlink(claimed->c_str());
                ::unlink(tmp->path.c_str());
                return fail_path(e, error, lock.path_);
            }
            lock.held_ = true;
            RINGLET_LOG(info) << "lock " << lock.path_ << ": took over a stale lock of pid "
                              << out.holder.pid << " on " << out.holder.host << " (expired at "
                              << out.holder.expires << ")";
        }
        ::unlink(claimed->c_str());
    }
    ::unlink(tmp->path.c_str()); // after link(): the lock name keeps the inode
    if (!lock.held_) return out;

    lock.id_ = identity(tmp->st);
    out.holder = lock.info_;
    if (auto r = detail::fsync_dir(*dir, error); !r) return unexpected{r.error()};
    detail::remove_leftovers(*dir, fs_now, [&](std::string_view e) {
        return detail::is_temp_name(e, base) || is_claim_name(e, lock.key_);
    });
    out.lock.emplace(std::move(lock));
    return out;
}

// ---- the held lock --------------------------------------------------------------------------

storage_lock::storage_lock(storage_lock&& o) noexcept
    : dir_(std::move(o.dir_)), key_(std::move(o.key_)), path_(std::move(o.path_)),
      id_(std::move(o.id_)), info_(std::move(o.info_)), held_(std::exchange(o.held_, false)) {}

storage_lock& storage_lock::operator=(storage_lock&& o) noexcept {
    if (this != &o) {
        std::string error;
        if (held_ && !release(error)) {
            RINGLET_LOG(warn) << error;
        }
        dir_ = std::move(o.dir_);
        key_ = std::move(o.key_);
        path_ = std::move(o.path_);
        id_ = std::move(o.id_);
        info_ = std::move(o.info_);
        held_ = std::exchange(o.held_, false);
    }
    return *this;
}

storage_lock::~storage_lock() {
    std::string error;
    if (held_ && !release(error)) {
        RINGLET_LOG(warn) << error;
    }
}

result<void> storage_lock::refresh(std::int64_t now, std::int64_t lease_seconds,
                                   std::string& error) {
    if (!held_) return fail_msg(std::errc::no_lock_available, error, path_ + ": not held");
    if (lease_seconds <= 0) return fail_msg(std::errc::invalid_argument, error, "lock: lease <= 0");
    if (is_stale(info_, now)) {
        held_ = false;
        return fail_msg(std::errc::no_lock_available, error,
                        path_ + ": lease expired at " + std::to_string(info_.expires));
    }
    lock_info next = info_;
    next.refreshed = now;
    next.expires = now + lease_seconds;
    auto tmp = detail::write_temp(dir_, key_ + ".lock", format_lock(next), 0644, error);
    if (!tmp) return unexpected{tmp.error()};
    auto claimed = claim(dir_, key_, id_, tmp->st.st_mtime, error);
    if (!claimed || claimed->empty() || !still(path_, id_)) {
        ::unlink(tmp->path.c_str());
        if (!claimed) return unexpected{claimed.error()};
        if (!claimed->empty()) ::unlink(claimed->c_str());
        held_ = false;
        return fail_msg(std::errc::no_lock_available, error,
                        path_ + ": taken over by another process");
    }
    if (::rename(tmp->path.c_str(), path_.c_str()) != 0) {
        const int e = errno;
        ::unlink(tmp->path.c_str());
        ::unlink(claimed->c_str());
        return fail_path(e, error, path_);
    }
    ::unlink(claimed->c_str());
    id_ = identity(tmp->st);
    info_ = next;
    return detail::fsync_dir(dir_, error);
}

result<void> storage_lock::release(std::string& error) {
    if (!held_) return {};
    held_ = false;
    // Any claim on our version means someone judged it stale and may be replacing it.
    auto claimed = claim(dir_, key_, id_, LLONG_MIN, error);
    if (!claimed) return unexpected{claimed.error()};
    if (claimed->empty() || !still(path_, id_)) {
        if (!claimed->empty()) ::unlink(claimed->c_str());
        return fail_msg(std::errc::no_lock_available, error,
                        path_ + ": taken over by another process, left alone");
    }
    const bool removed = ::unlink(path_.c_str()) == 0;
    const int e = errno;
    ::unlink(claimed->c_str());
    if (!removed) return fail_path(e, error, path_);
    return detail::fsync_dir(dir_, error);
}

} // namespace ringlet::certs
