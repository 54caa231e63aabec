#include "ringlet/runtime/frame_alloc.hpp"

#include <array>
#include <new>

namespace ringlet::rt {

namespace {

constexpr std::size_t granule = 64;
constexpr std::size_t classes = 64; // up to 4 KiB
constexpr std::size_t max_cached_per_class = 4096;

struct free_block {
    free_block* next;
};

struct frame_cache {
    std::array<free_block*, classes> heads{};
    std::array<std::size_t, classes> counts{};

    ~frame_cache() {
        for (free_block* b : heads) {
            while (b) {
                free_block* next = b->next;
                ::operator delete(b);
                b = next;
            }
        }
    }
};

thread_local frame_cache cache;

[[maybe_unused]] std::size_t class_of(std::size_t n) {
    return (n + granule - 1) / granule - 1;
}

} // namespace

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
// Sanitizers must see every free, so recycling is off in their builds.
void* frame_alloc(std::size_t n) {
    return ::operator new(n);
}
void frame_free(void* p, std::size_t) noexcept {
    ::operator delete(p);
}
#else
void* frame_alloc(std::size_t n) {
    std::size_t c = class_of(n);
    if (c >= classes) return ::operator new(n);
    if (free_block* b = cache.heads[c]) {
        cache.heads[c] = b->next;
        --cache.counts[c];
        return b;
    }
    return ::operator new((c + 1) * granule);
}

void frame_free(void* p, std::size_t n) noexcept {
    std::size_t c = class_of(n);
    if (c >= classes || cache.counts[c] >= max_cached_per_class) {
        ::operator delete(p);
        return;
    }
    auto* b = static_cast<free_block*>(p);
    b->next = cache.heads[c];
    cache.heads[c] = b;
    ++cache.counts[c];
}
#endif

} // namespace ringlet::rt
