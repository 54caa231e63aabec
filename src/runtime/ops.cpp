#include "ringlet/runtime/ops.hpp"

namespace ringlet::rt {

void cancel_fd_now(int fd) {
    io_uring_sqe* s = this_reactor().get_sqe();
    io_uring_prep_cancel_fd(s, fd, IORING_ASYNC_CANCEL_ALL);
    io_uring_sqe_set_data64(s, ignored_user_data);
}

void cancel_now(std::uint64_t user_data) {
    io_uring_sqe* s = this_reactor().get_sqe();
    io_uring_prep_cancel64(s, user_data, 0);
    io_uring_sqe_set_data64(s, ignored_user_data);
}

void close_now(int fd) {
    io_uring_sqe* s = this_reactor().get_sqe();
    io_uring_prep_close(s, fd);
    io_uring_sqe_set_data64(s, ignored_user_data);
}

} // namespace ringlet::rt
