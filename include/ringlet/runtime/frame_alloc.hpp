// Coroutine frame allocation from a per-thread free list of 64-byte size classes.
//
// Frames up to 4 KiB are recycled through the calling thread's list (capped, so a burst does not
// pin memory forever); larger frames go to the global heap. A block may be freed on a thread other
// than the one that allocated it: it simply joins that thread's list. No locks, no atomics.
#pragma once

#include <cstddef>

namespace ringlet::rt {

void* frame_alloc(std::size_t n);
void frame_free(void* p, std::size_t n) noexcept;

} // namespace ringlet::rt
