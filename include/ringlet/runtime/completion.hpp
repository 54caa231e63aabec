// completion: what a CQE's user_data points at.
//
// Every SQE a reactor submits carries `encode(c, tag)`: the address of a `completion` (aligned to
// at least 8) with a small tag in the low bits, e.g. to tell an operation's own CQE from the CQE
// of its linked timeout. The reactor calls `c->on_cqe(c, res, flags, tag)` for each CQE, after
// the CQ has been advanced, on the reactor thread.
//
// Lifetime rule: the object must stay alive until its last CQE has been delivered. Awaiters that
// live in a suspended coroutine frame satisfy this as long as the frame is not destroyed while the
// operation is in flight (see task.hpp).
#pragma once

#include <cstdint>

namespace ringlet::rt {

struct completion {
    using handler = void (*)(completion* self, int res, std::uint32_t flags, unsigned tag);
    handler on_cqe = nullptr;
};

inline constexpr std::uint64_t completion_tag_mask = 7;

inline std::uint64_t encode(completion* c, unsigned tag = 0) noexcept {
    return reinterpret_cast<std::uint64_t>(c) | tag;
}
// user_data 0 marks CQEs nobody waits for (fire-and-forget closes, cancels).
inline constexpr std::uint64_t ignored_user_data = 0;

} // namespace ringlet::rt
