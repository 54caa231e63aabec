#include "ringlet/files/file_cache.hpp"

#include "ringlet/files/conditional.hpp"
#include "ringlet/files/encoding.hpp"
#include "ringlet/files/mime.hpp"
#include "ringlet/runtime/ops.hpp"
#include "ringlet/runtime/reactor.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>

namespace ringlet::files {

namespace {

void make_key(std::string& key, std::uint32_t root_id, std::string_view rel) {
    key.clear();
    key.append(reinterpret_cast<const char*>(&root_id), sizeof root_id);
    key.append(rel);
}

rt::task<bool> exists_regular(int root_fd, std::string path) {
    struct statx st {};
    auto r = co_await rt::async_statx(root_fd, path.c_str(), AT_SYMLINK_NOFOLLOW, STATX_TYPE, &st);
    co_return r&& S_ISREG(st.stx_mode);
}

} // namespace

rt::task<std::shared_ptr<const file_info>>
file_cache::lookup(int root_fd, std::uint32_t root_id, std::string_view rel, bool probe_sidecars) {
    auto& r = rt::this_reactor();
    make_key(key_, root_id, rel);
    if (auto it = map_.find(key_); it != map_.end()) {
        if (it->second->expires > r.now()) {
            ++hits;
            co_return it->second;
        }
    }
    ++misses;
    std::string key = key_; // key_ is scratch; another lookup may run while this one waits
    std::shared_ptr<file_info> info = co_await load(root_fd, std::string(rel), probe_sidecars);
    std::int64_t now = rt::this_reactor().now();
    info->expires = now + o_.ttl_ns;
    if (now >= next_sweep_) sweep(now);
    // Only answers that stay true are worth remembering: a transient failure (EMFILE, EIO,
    // ENOMEM) must not turn a path into a 500 for a whole TTL. And open descriptors are capped,
    // so a crawl over many large files cannot use up the process's fd limit.
    bool stable = info->error == 0 || info->error == ENOENT || info->error == ENOTDIR ||
                  info->error == EXDEV || info->error == ELOOP || info->error == EACCES ||
                  info->error == EPERM || info->error == ENAMETOOLONG;
    bool fits = !info->fd || fd_entries_ < o_.max_open_files;
    if (stable && fits) insert(std::move(key), info);
    co_return info;
}

void file_cache::sweep(std::int64_t now) {
    for (auto it = map_.begin(); it != map_.end();) {
        if (it->second->expires <= now) {
            it = erase(it);
        } else {
            ++it;
        }
    }
    next_sweep_ = now + o_.ttl_ns;
}

file_cache::map_type::iterator file_cache::erase(map_type::iterator it) {
    if (it->second->in_memory) memory_ -= it->second->content.size();
    if (it->second->fd) --fd_entries_;
    return map_.erase(it);
}

rt::task<std::shared_ptr<file_info>> file_cache::load(int root_fd, std::string path,
                                                      bool probe_sidecars) {
    auto info = std::make_shared<file_info>();
    open_how how{};
    how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK; // NONBLOCK: a FIFO must not hang us
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    const char* p = path.empty() ? "." : path.c_str();
    auto opened = co_await rt::async_openat2(root_fd, p, &how);
    if (!opened) {
        info->error = opened.error().value();
        co_return info;
    }
    unique_fd fd(*opened);

    struct statx st {};
    auto stat = co_await rt::async_statx(
        fd.get(), "", AT_EMPTY_PATH, STATX_TYPE | STATX_MODE | STATX_SIZE | STATX_MTIME | STATX_INO,
        &st);
    if (!stat) {
        info->error = stat.error().value();
        co_return info;
    }
    if (S_ISDIR(st.stx_mode)) {
        info->is_dir = true;
        co_return info;
    }
    if (!S_ISREG(st.stx_mode)) {
        info->error = EACCES;
        co_return info;
    }
    info->size = st.stx_size;
    info->mtime = st.stx_mtime.tv_sec;
    info->inode = st.stx_ino;
    make_etag(st.stx_ino, st.stx_mtime.tv_sec * 1'000'000'000LL + st.stx_mtime.tv_nsec, st.stx_size,
              {}, info->etag);
    info->content_type = mime_type(path);

    if (info->size <= o_.small_file_limit && memory_ + info->size <= o_.max_memory) {
        info->content.resize(info->size);
        std::size_t got = 0;
        while (got < info->size) {
            auto n = co_await rt::async_read(fd.get(), std::span(info->content).subspan(got), got);
            if (!n) {
                info->error = n.error().value();
                co_return info;
            }
            if (*n == 0) break; // truncated meanwhile: serve what is there, consistently
            got += static_cast<std::size_t>(*n);
        }
        info->content.resize(got);
        info->size = got;
        info->in_memory = true;
        rt::close_now(fd.release());
    } else {
        info->fd = std::move(fd);
    }

    if (probe_sidecars) {
        for (content_coding c : {content_coding::br, content_coding::zstd, content_coding::gzip}) {
            if (co_await exists_regular(root_fd, path + std::string(sidecar_suffix(c)))) {
                info->sidecars |= static_cast<std::uint8_t>(c);
            }
        }
    }
    co_return info;
}

void file_cache::insert(std::string key, std::shared_ptr<file_info> info) {
    if (map_.size() >= o_.max_entries) {
        // Drop expired entries; if all are fresh, drop an arbitrary half (cheap, bounded).
        std::int64_t now = rt::this_reactor().now();
        for (auto it = map_.begin(); it != map_.end();) {
            bool drop = it->second->expires <= now || map_.size() >= o_.max_entries / 2;
            it = drop ? erase(it) : std::next(it);
        }
    }
    if (auto it = map_.find(key); it != map_.end()) erase(it);
    if (info->in_memory) memory_ += info->content.size();
    if (info->fd) ++fd_entries_;
    map_.emplace(std::move(key), std::move(info));
}

} // namespace ringlet::files
