// file_cache: a reactor's open-file cache, so a hot file costs no openat/statx per request.
//
// An entry describes one path under one site root at one moment: the error from opening it, or
// its kind, size, mtime, inode and strong ETag, and its bytes (files up to small_file_limit are
// held in memory, which also makes a small response a single send) or an open fd to stream from.
// It also records which precompressed sidecars (.br/.zst/.gz) exist next to a regular file, so
// Vary and content negotiation need no extra system calls.
//
// Entries live for `ttl` (a changed file is picked up within that time, like nginx's
// open_file_cache_valid) and are swept once they expire; they are immutable; a request holds a
// shared_ptr to the entry it serves, so eviction never closes an fd under a response in flight.
// Negative results (ENOENT...) are cached too, so a flood of 404s costs no system calls either.
//
// Lookups open with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) relative to the site's root
// fd: ".." and symlinks that leave the root fail with EXDEV instead of escaping it. FIFOs and
// devices are refused (EACCES). Reactor thread only; one cache per reactor, no locks.
#pragma once

#include "ringlet/base/unique_fd.hpp"
#include "ringlet/runtime/task.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

namespace ringlet::files {

struct file_info {
    int error = 0; // errno from open/stat/read; 0 = usable
    bool is_dir = false;
    std::uint64_t size = 0;
    std::int64_t mtime = 0; // seconds since the epoch
    std::uint64_t inode = 0;
    std::string etag;              // strong, with quotes
    std::string_view content_type; // from the built-in table (static storage)
    bool in_memory = false;
    std::string content;       // the whole file when in_memory
    unique_fd fd;              // open for streaming when !in_memory and a regular file
    std::uint8_t sidecars = 0; // content_coding bits of existing .br/.zst/.gz siblings
    std::int64_t expires = 0;  // reactor time (ns)
};

struct file_cache_options {
    std::size_t max_entries = 8192;
    std::uint64_t small_file_limit = 64 * 1024;
    std::uint64_t max_memory = 64ull << 20; // bytes of in-memory content per reactor
    std::int64_t ttl_ns = 2'000'000'000;
    std::size_t max_open_files = 1024; // cached entries holding an open fd, per reactor
};

class file_cache {
public:
    explicit file_cache(file_cache_options o = {}) : o_(o) {}

    // `rel` is a normalised root-relative path ("" = the root itself); `root_id` tells roots
    // apart in the key. `probe_sidecars` also records which encoded siblings exist (false when
    // looking up a sidecar itself).
    rt::task<std::shared_ptr<const file_info>> lookup(int root_fd, std::uint32_t root_id,
                                                      std::string_view rel, bool probe_sidecars);

    std::size_t size() const noexcept { return map_.size(); }
    std::uint64_t memory() const noexcept { return memory_; }
    std::size_t open_files() const noexcept { return fd_entries_; }
    // Counters for tests and stats.
    std::uint64_t hits = 0, misses = 0;

private:
    rt::task<std::shared_ptr<file_info>> load(int root_fd, std::string path, bool probe_sidecars);
    using map_type = std::unordered_map<std::string, std::shared_ptr<const file_info>>;
    void insert(std::string key, std::shared_ptr<file_info> info);
    void sweep(std::int64_t now); // drops expired entries (and their fds), once per TTL
    map_type::iterator erase(map_type::iterator it);

    file_cache_options o_;
    std::unordered_map<std::string, std::shared_ptr<const file_info>> map_;
    std::uint64_t memory_ = 0;
    std::size_t fd_entries_ = 0;
    std::int64_t next_sweep_ = 0;
    std::string key_; // scratch: a hit builds its key without allocating
};

} // namespace ringlet::files
