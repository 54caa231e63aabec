#include "ringlet/runtime/buffer_ring.hpp"

#include <sys/mman.h>

namespace ringlet::rt {

result<void> buffer_ring::init(io_uring& ring, unsigned count, unsigned size, std::uint16_t group) {
    map_size_ = count * sizeof(io_uring_buf);
    void* mem =
        ::mmap(nullptr, map_size_, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
    if (mem == MAP_FAILED) return fail_errno(errno);
    br_ = static_cast<io_uring_buf_ring*>(mem);

    io_uring_buf_reg reg{};
    reg.ring_addr = reinterpret_cast<std::uint64_t>(br_);
    reg.ring_entries = count;
    reg.bgid = group;
    if (int r = io_uring_register_buf_ring(&ring, &reg, 0); r < 0) return fail_errno(-r);

    ring_ = &ring;
    count_ = count;
    size_ = size;
    group_ = group;
    storage_ = std::make_unique_for_overwrite<char[]>(std::size_t(count) * size);
    io_uring_buf_ring_init(br_);
    const int mask = io_uring_buf_ring_mask(count);
    for (unsigned i = 0; i < count; ++i) {
        io_uring_buf_ring_add(br_, data(static_cast<std::uint16_t>(i)), size,
                              static_cast<unsigned short>(i), mask, static_cast<int>(i));
    }
    io_uring_buf_ring_advance(br_, static_cast<int>(count));
    return {};
}

void buffer_ring::recycle(std::uint16_t id) noexcept {
    io_uring_buf_ring_add(br_, data(id), size_, id, io_uring_buf_ring_mask(count_), 0);
    io_uring_buf_ring_advance(br_, 1);
    --outstanding_;
}

// The owning reactor exits its ring first, which drops the registration with it.
buffer_ring::~buffer_ring() {
    if (br_) ::munmap(br_, map_size_);
}

} // namespace ringlet::rt
