// The internal CA's file operations (internal_ca_files.hpp), on plain POSIX calls.
#include "certs/internal_ca_files.hpp"

#include "ringlet/base/unique_fd.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace ringlet::certs {

namespace {

constexpr std::size_t max_file_size = 1 << 20; // CA files are a few hundred bytes

result<void> fsync_dir(const std::string& dir, std::string& error) {
    unique_fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd || ::fsync(fd.get()) != 0) return fail_path(errno, error, dir);
    return {};
}

std::string parent_dir(const std::string& path) {
    const auto slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

} // namespace

namespace detail {

result<std::string> read_file(const std::string& path, std::string& error) {
    unique_fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (!fd) return fail_path(errno, error, path);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return fail_path(errno, error, path);
    if (!S_ISREG(st.st_mode))
        return fail_msg(std::errc::bad_message, error, path + ": not a regular file");
    if (static_cast<std::uint64_t>(st.st_size) > max_file_size)
        return fail_msg(std::errc::file_too_large, error, path + ": too large for a CA file");
    std::string data(static_cast<std::size_t>(st.st_size), '\0');
    std::size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::read(fd.get(), data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail_path(errno, error, path);
        if (n == 0) break; // shrank while we read: parse what we have
        done += static_cast<std::size_t>(n);
    }
    data.resize(done);
    return data;
}

result<void> make_dirs(const std::string& path, std::string& error) {
    std::size_t pos = 0;
    while (pos != std::string::npos) {
        pos = path.find('/', pos + 1);
        const std::string prefix = path.substr(0, pos);
        if (::mkdir(prefix.c_str(), 0700) == 0) {
            if (::chmod(prefix.c_str(), 0700) != 0) return fail_path(errno, error, prefix);
            if (auto r = fsync_dir(parent_dir(prefix), error); !r) return r;
            continue;
        }
        // EEXIST, or EACCES/EROFS on a parent that exists: fine if it is a folder.
        const int mkdir_errno = errno;
        struct stat st {};
        if (::stat(prefix.c_str(), &st) != 0) return fail_path(mkdir_errno, error, prefix);
        if (!S_ISDIR(st.st_mode)) return fail_path(ENOTDIR, error, prefix);
    }
    return {};
}

result<void> write_file_atomic(const std::string& dir, const std::string& name,
                               std::string_view data, mode_t mode, std::string& error) {
    const std::string path = dir + "/" + name;
    std::string tmp = dir + "/." + name + ".tmp-XXXXXX";
    unique_fd fd(::mkostemp(tmp.data(), O_CLOEXEC)); // mode 0600 from the start
    if (!fd) return fail_path(errno, error, path);
    struct unlink_on_error {
        const std::string& path;
        bool armed = true;
        ~unlink_on_error() {
            if (armed) ::unlink(path.c_str());
        }
    } guard{tmp};

    if (::fchmod(fd.get(), mode) != 0) return fail_path(errno, error, tmp);
    for (std::size_t done = 0; done < data.size();) {
        ssize_t n = ::write(fd.get(), data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail_path(errno, error, tmp);
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd.get()) != 0) return fail_path(errno, error, tmp);
    if (::close(fd.release()) != 0) return fail_path(errno, error, tmp);
    if (::rename(tmp.c_str(), path.c_str()) != 0) return fail_path(errno, error, path);
    guard.armed = false;
    return fsync_dir(dir, error);
}

} // namespace detail

} // namespace ringlet::certs
