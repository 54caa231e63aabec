// buffer_ring: a provided-buffer ring (IORING_REGISTER_PBUF_RING) the kernel fills for multishot
// recv. One per reactor; `count` buffers of `size` bytes each, in one allocation.
//
// liburing 2.3 has no io_uring_setup_buf_ring(), so the ring memory is mmap'd here. A buffer the
// kernel hands out (its id is in the CQE flags) belongs to the receiver until recycle(id).
#pragma once

#include "ringlet/base/result.hpp"

#include <liburing.h>

#include <cstdint>
#include <memory>
#include <span>

namespace ringlet::rt {

class buffer_ring {
public:
    buffer_ring() = default;
    buffer_ring(const buffer_ring&) = delete;
    buffer_ring& operator=(const buffer_ring&) = delete;
    ~buffer_ring();

    // REQUIRES: count is a power of two <= 32768. Registers group `group` on `ring`.
    result<void> init(io_uring& ring, unsigned count, unsigned size, std::uint16_t group);

    std::uint16_t group() const noexcept { return group_; }
    unsigned buffer_size() const noexcept { return size_; }
    char* data(std::uint16_t id) noexcept { return storage_.get() + std::size_t(id) * size_; }
    // Hands buffer `id` back to the kernel.
    void recycle(std::uint16_t id) noexcept;
    // Buffers currently owned by receivers (not in the ring).
    unsigned outstanding() const noexcept { return outstanding_; }
    void note_taken() noexcept { ++outstanding_; }

private:
    io_uring* ring_ = nullptr;
    io_uring_buf_ring* br_ = nullptr;
    std::size_t map_size_ = 0;
    std::unique_ptr<char[]> storage_;
    unsigned count_ = 0, size_ = 0, outstanding_ = 0;
    std::uint16_t group_ = 0;
};

} // namespace ringlet::rt
