// unique_fd: sole owner of a file descriptor; closes it on destruction.
#pragma once

#include <unistd.h>

#include <string_view>
#include <utility>

namespace ringlet {

class unique_fd {
public:
    unique_fd() = default;
    explicit unique_fd(int fd) noexcept : fd_(fd) {}
    unique_fd(unique_fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    unique_fd& operator=(unique_fd&& o) noexcept {
        if (this != &o) reset(std::exchange(o.fd_, -1));
        return *this;
    }
    unique_fd(const unique_fd&) = delete;
    unique_fd& operator=(const unique_fd&) = delete;
    ~unique_fd() { reset(); }

    int get() const noexcept { return fd_; }
    explicit operator bool() const noexcept { return fd_ >= 0; }
    // Gives up ownership without closing (e.g. to hand the fd to an io_uring close).
    int release() noexcept { return std::exchange(fd_, -1); }
    void reset(int fd = -1) noexcept {
        if (fd_ >= 0) ::close(fd_);
        fd_ = fd;
    }

private:
    int fd_ = -1;
};

// Writes all of `data` to a blocking fd (retrying short writes); false if the fd refuses
// (a full disk, a closed pipe). For logs, where losing a line beats stopping.
inline bool write_all(int fd, std::string_view data) noexcept {
    while (!data.empty()) {
        ssize_t w = ::write(fd, data.data(), data.size());
        if (w <= 0) return false;
        data.remove_prefix(static_cast<std::size_t>(w));
    }
    return true;
}

} // namespace ringlet
