// result<T>: a value or a std::error_code, the error channel of every hot path.
//
// It mirrors the subset of std::expected<T, std::error_code> that ringlet uses, so it can become an
// alias once the toolchain ships <expected> in C++20 mode. Functions returning it are
// [[nodiscard]] by the class attribute: ignoring an I/O error is a bug.
//
//   result<std::size_t> r = co_await stream.async_read_some(buf, deadline);
//   if (!r) return fail(r.error());
//   use(*r);
#pragma once

#include <cerrno>
#include <string>
#include <system_error>
#include <utility>
#include <variant>

namespace ringlet {

// Wraps an error so that `return unexpected{ec};` converts into any result<T>.
template <class E>
struct unexpected {
    E error;
};
template <class E>
unexpected(E) -> unexpected<E>;

// An errno value (positive, as in `errno` or `-cqe->res`) as a std::error_code.
inline std::error_code errno_code(int e) noexcept {
    return {e, std::system_category()};
}
inline unexpected<std::error_code> fail_errno(int e) noexcept {
    return {errno_code(e)};
}

// Sets `error`, the human-readable line that travels beside the code, and returns the code:
//   return fail_msg(std::errc::bad_message, error, path + ": not a PEM certificate");
inline unexpected<std::error_code> fail_msg(std::error_code ec, std::string& error,
                                            std::string message) {
    error = std::move(message);
    return {ec};
}
inline unexpected<std::error_code> fail_msg(std::errc e, std::string& error, std::string message) {
    return fail_msg(std::make_error_code(e), error, std::move(message));
}
// A failed system call on `path`: the errno as the code, "<path>: <reason>" as the line.
inline unexpected<std::error_code> fail_path(int e, std::string& error, const std::string& path) {
    return fail_msg(errno_code(e), error, path + ": " + errno_code(e).message());
}

template <class T>
class [[nodiscard]] result {
public:
    result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
    result(unexpected<std::error_code> e) : v_(std::in_place_index<1>, e.error) {}

    bool has_value() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return has_value(); }

    // REQUIRES: has_value().
    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    // REQUIRES: !has_value().
    std::error_code error() const { return std::get<1>(v_); }

private:
    std::variant<T, std::error_code> v_;
};

template <>
class [[nodiscard]] result<void> {
public:
    result() = default;
    result(unexpected<std::error_code> e) : ec_(e.error) {}

    bool has_value() const noexcept { return !ec_; }
    explicit operator bool() const noexcept { return has_value(); }
    std::error_code error() const { return ec_; }

private:
    std::error_code ec_;
};

} // namespace ringlet
