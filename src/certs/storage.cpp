#include "ringlet/certs/storage.hpp"

#include "ringlet/base/ascii.hpp"
#include "ringlet/base/log.hpp"
#include "ringlet/base/unique_fd.hpp"

// wolfSSL: options.h first, always (it carries the defines the library was built with).
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/settings.h>

#include <wolfssl/wolfcrypt/hash.h>

#include <simdjson.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/random.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <random>
#include <vector>

namespace ringlet::certs {

namespace {

// ---- files ----------------------------------------------------------------------------------

struct dir_closer {
    void operator()(DIR* d) const noexcept { ::closedir(d); }
};
using dir_ptr = std::unique_ptr<DIR, dir_closer>;

// Each component non-empty, not "." or "..", no NUL: a path that stays under the root.
bool valid_rel(std::string_view rel) {
    if (rel.empty() || rel.find('\0') != std::string_view::npos) return false;
    std::size_t start = 0;
    while (true) {
        const std::size_t slash = rel.find('/', start);
        const std::string_view part = rel.substr(start, slash - start);
        if (part.empty() || part == "." || part == "..") return false;
        if (slash == std::string_view::npos) return true;
        start = slash + 1;
    }
}

// A new file in a folder only we know yet: no temporary file needed.
result<void> write_new_file(const std::string& path, std::string_view data, mode_t mode,
                            std::string& error) {
    unique_fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode));
    if (!fd) return fail_path(errno, error, path);
    if (::fchmod(fd.get(), mode) != 0 || !write_all(fd.get(), data) || ::fsync(fd.get()) != 0 ||
        ::close(fd.release()) != 0) {
        return fail_path(errno ? errno : EIO, error, path);
    }
    return {};
}

// Deletes a file, or a folder with the files in it (version folders hold no subfolders).
void remove_tree(const std::string& path) {
    if (::unlink(path.c_str()) == 0 || errno != EISDIR) return;
    if (dir_ptr d{::opendir(path.c_str())}) {
        while (const dirent* e = ::readdir(d.get())) {
            const std::string_view n = e->d_name;
            if (n != "." && n != "..") ::unlinkat(::dirfd(d.get()), e->d_name, 0);
        }
    }
    ::rmdir(path.c_str());
}

// ".<name><tag>" followed by exactly 16 hex digits, e.g. ".example.com.v-0123456789abcdef".
bool is_tagged(std::string_view entry, std::string_view name, std::string_view tag) {
    if (entry.size() != 1 + name.size() + tag.size() + 16 || entry.front() != '.') return false;
    if (entry.substr(1, name.size()) != name || entry.substr(1 + name.size(), tag.size()) != tag)
        return false;
    const std::string_view hex = entry.substr(1 + name.size() + tag.size());
    return std::all_of(hex.begin(), hex.end(),
                       [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool same_file(const struct stat& a, const struct stat& b) {
    return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

bool looks_like_pem(std::string_view s, std::string_view begin, std::string_view end) {
    const std::size_t b = s.find(begin);
    return b != std::string_view::npos && s.find(end, b + begin.size()) != std::string_view::npos;
}

} // namespace

const char* to_string(write_step s) {
    static constexpr const char* names[] = {
        "file_temp_written",   "file_renamed",        "bundle_folder_made", "bundle_key_written",
        "bundle_cert_written", "bundle_meta_written", "bundle_synced",      "bundle_link_made",
        "bundle_swapped",      "bundle_old_removed"};
    const auto i = static_cast<std::size_t>(s);
    return i < std::size(names) ? names[i] : "?";
}

// ---- detail ---------------------------------------------------------------------------------

namespace detail {

std::string random_hex(std::size_t bytes) {
    std::string raw(bytes, '\0');
    std::size_t done = 0;
    while (done < bytes) {
        const ssize_t n = ::getrandom(raw.data() + done, bytes - done, 0);
        if (n > 0) {
            done += static_cast<std::size_t>(n);
        } else if (n < 0 && errno != EINTR) {
            std::random_device rd; // no getrandom(2): libstdc++ falls back to /dev/urandom
            for (; done < bytes; ++done) raw[done] = static_cast<char>(rd());
        }
    }
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : raw) {
        out += hex[c >> 4];
        out += hex[c & 15];
    }
    return out;
}

result<void> fsync_dir(const std::string& dir, std::string& error) {
    unique_fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd || ::fsync(fd.get()) != 0) return fail_path(errno, error, dir);
    return {};
}

result<temp_file> write_temp(const std::string& dir, std::string_view base, std::string_view data,
                             mode_t mode, std::string& error) {
    temp_file t;
    unique_fd fd;
    for (int attempt = 0; attempt < 4 && !fd; ++attempt) {
        t.path = dir + "/." + std::string(base) + ".tmp-" + random_hex(8);
        fd.reset(
            ::open(t.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode));
        if (!fd && errno != EEXIST) break;
    }
    if (!fd) return fail_path(errno, error, t.path);
    errno = 0;
    if (::fchmod(fd.get(), mode) != 0 || !write_all(fd.get(), data) || ::fsync(fd.get()) != 0 ||
        ::fstat(fd.get(), &t.st) != 0 || ::close(fd.release()) != 0) {
        const int e = errno ? errno : EIO;
        ::unlink(t.path.c_str());
        return fail_path(e, error, t.path);
    }
    return t;
}

bool is_temp_name(std::string_view entry, std::string_view base) {
    return is_tagged(entry, std::string(base) + ".tmp-", "");
}

void remove_leftovers(const std::string& dir, std::int64_t reference,
                      const std::function<bool(std::string_view)>& is_leftover) {
    dir_ptr d{::opendir(dir.c_str())};
    if (!d) return;
    std::vector<std::string> old;
    while (const dirent* e = ::readdir(d.get())) {
        struct stat st {};
        if (e->d_name[0] != '.' || !is_leftover(e->d_name) ||
            ::fstatat(::dirfd(d.get()), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            continue;
        }
        if (st.st_mtime + storage::leftover_age <= reference) old.emplace_back(e->d_name);
    }
    for (const std::string& name : old) {
        RINGLET_LOG(info) << "storage: removing " << dir << "/" << name << ", left by a crash";
        remove_tree(dir + "/" + name);
    }
}

result<std::string> read_fd(int fd, const std::string& path, std::string& error) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) return fail_path(errno, error, path);
    if (!S_ISREG(st.st_mode)) return fail_msg(std::errc::bad_message, error, path + ": not a file");
    if (static_cast<std::uint64_t>(st.st_size) > storage::max_file_size)
        return fail_msg(std::errc::file_too_large, error, path + ": larger than 1 MiB");
    std::string data(static_cast<std::size_t>(st.st_size), '\0');
    std::size_t done = 0;
    while (done < data.size()) {
        const ssize_t n = ::read(fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return fail_path(errno, error, path);
        if (n == 0) break;
        done += static_cast<std::size_t>(n);
    }
    data.resize(done);
    return data;
}

} // namespace detail

// ---- storage --------------------------------------------------------------------------------

result<storage> storage::open(std::string root, std::string& error) {
    if (root.empty()) return fail_msg(std::errc::invalid_argument, error, "storage: empty path");
    while (root.size() > 1 && root.back() == '/') root.pop_back();
    for (std::size_t pos = root.find('/', 1);; pos = root.find('/', pos + 1)) {
        const bool last = pos == std::string::npos;
        const std::string prefix = root.substr(0, pos);
        if (::mkdir(prefix.c_str(), last ? 0700 : 0755) == 0) {
            if (last && ::chmod(prefix.c_str(), 0700) != 0) return fail_path(errno, error, prefix);
        } else if (errno != EEXIST) {
            return fail_path(errno, error, prefix);
        } else if (struct stat st{};
                   !last && ::stat(prefix.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) {
            // Name the file in the way, not the folder that could not be made below it.
            return fail_path(ENOTDIR, error, prefix);
        }
        if (last) break;
    }
    struct stat st {};
    if (::stat(root.c_str(), &st) != 0) return fail_path(errno, error, root);
    if (!S_ISDIR(st.st_mode))
        return fail_msg(std::errc::not_a_directory, error, root + ": not a folder");
    return storage(std::move(root));
}

std::string storage::path(std::string_view rel) const {
    return root_ + "/" + std::string(rel);
}

result<void> storage::step(write_step s, std::string& error) const {
    if (!hook_ || hook_(s)) return {};
    error = std::string("storage: injected failure at ") + to_string(s);
    return fail_errno(EIO);
}

result<std::string> storage::make_dirs(std::string_view rel, std::string& error) const {
    if (rel.empty()) return root_;
    if (!valid_rel(rel))
        return fail_msg(std::errc::invalid_argument, error, "unsafe path " + path(rel));
    for (std::size_t pos = rel.find('/');; pos = rel.find('/', pos + 1)) {
        const std::string dir = path(rel.substr(0, pos));
        if (::mkdir(dir.c_str(), 0700) == 0) {
            if (::chmod(dir.c_str(), 0700) != 0) return fail_path(errno, error, dir);
            if (auto r = detail::fsync_dir(dir.substr(0, dir.rfind('/')), error); !r)
                return unexpected{r.error()};
        } else if (errno != EEXIST) {
            return fail_path(errno, error, dir);
        }
        if (pos == std::string_view::npos) return dir;
    }
}

result<void> storage::store_file(std::string_view rel, std::string_view data, mode_t mode,
                                 std::string& error) const {
    if (!valid_rel(rel) || rel.starts_with("certificates/"))
        return fail_msg(std::errc::invalid_argument, error, "store_file: refusing " + path(rel));
    const std::size_t slash = rel.rfind('/');
    const std::string_view base = slash == std::string_view::npos ? rel : rel.substr(slash + 1);
    auto dir = make_dirs(slash == std::string_view::npos ? "" : rel.substr(0, slash), error);
    if (!dir) return unexpected{dir.error()};
    auto tmp = detail::write_temp(*dir, base, data, mode, error);
    if (!tmp) return unexpected{tmp.error()};
    const std::string target = *dir + "/" + std::string(base);
    if (auto r = step(write_step::file_temp_written, error); !r) {
        ::unlink(tmp->path.c_str());
        return r;
    }
    if (::rename(tmp->path.c_str(), target.c_str()) != 0) {
        const int e = errno;
        ::unlink(tmp->path.c_str());
        return fail_path(e, error, target);
    }
    if (auto r = step(write_step::file_renamed, error); !r) return r;
    if (auto r = detail::fsync_dir(*dir, error); !r) return r;
    detail::remove_leftovers(*dir, tmp->st.st_mtime,
                             [&](std::string_view e) { return detail::is_temp_name(e, base); });
    return {};
}

result<std::string> storage::load_file(std::string_view rel, std::string& error) const {
    if (!valid_rel(rel))
        return fail_msg(std::errc::invalid_argument, error, "unsafe path " + path(rel));
    const std::string p = path(rel);
    unique_fd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (!fd) return fail_path(errno, error, p);
    return detail::read_fd(fd.get(), p, error);
}

result<void> storage::remove_file(std::string_view rel, std::string& error) const {
    if (!valid_rel(rel))
        return fail_msg(std::errc::invalid_argument, error, "unsafe path " + path(rel));
    const std::string p = path(rel);
    if (::unlink(p.c_str()) != 0) {
        if (errno == ENOENT) return {};
        return fail_path(errno, error, p);
    }
    return detail::fsync_dir(p.substr(0, p.rfind('/')), error);
}

result<void> storage::store_bundle(std::string_view issuer, std::string_view name,
                                   const cert_bundle& bundle, std::string& error) const {
    if (!is_safe_key(issuer) || !is_safe_key(name))
        return fail_msg(std::errc::invalid_argument, error, "store_bundle: unsafe key");
    auto parent = make_dirs("certificates/" + std::string(issuer), error);
    if (!parent) return unexpected{parent.error()};
    const std::string link = *parent + "/" + std::string(name);
    const std::string tag = detail::random_hex(8);
    // Appended, not "." + name: g++ 12 warns falsely about the latter (-Wrestrict, PR 105651).
    std::string version(".");
    version.append(name).append(".v-").append(tag);
    const std::string vdir = *parent + "/" + version;
    const std::string new_link = *parent + "/." + std::string(name) + ".link-" + tag;

    if (::mkdir(vdir.c_str(), 0700) != 0 || ::chmod(vdir.c_str(), 0700) != 0)
        return fail_path(errno, error, vdir);
    // Until the swap, a failure leaves the old bundle and must take our files away.
    auto abandon = [&](std::error_code ec) {
        ::unlink(new_link.c_str());
        remove_tree(vdir);
        return unexpected{ec};
    };
    const struct {
        const char* file;
        const std::string& data;
        mode_t mode;
        write_step done;
    } files[] = {{"key.pem", bundle.key_pem, 0600, write_step::bundle_key_written},
                 {"cert.pem", bundle.cert_pem, 0644, write_step::bundle_cert_written},
                 {"meta.json", bundle.meta_json, 0644, write_step::bundle_meta_written}};
    if (auto r = step(write_step::bundle_folder_made, error); !r) return abandon(r.error());
    for (const auto& f : files) {
        if (auto r = write_new_file(vdir + "/" + f.file, f.data, f.mode, error); !r)
            return abandon(r.error());
        if (auto r = step(f.done, error); !r) return abandon(r.error());
    }
    if (auto r = detail::fsync_dir(vdir, error); !r) return abandon(r.error());
    if (auto r = step(write_step::bundle_synced, error); !r) return abandon(r.error());

    char old[256] = {};
    const ssize_t old_len = ::readlink(link.c_str(), old, sizeof old - 1);
    const bool was_folder = old_len < 0 && errno == EINVAL; // a plain folder from elsewhere
    if (::symlink(version.c_str(), new_link.c_str()) != 0)
        return abandon(fail_path(errno, error, new_link).error);
    if (auto r = detail::fsync_dir(*parent, error); !r) return abandon(r.error());
    if (auto r = step(write_step::bundle_link_made, error); !r) return abandon(r.error());

    if (was_folder) {
        // rename() cannot put a link over a folder; exchanging them is atomic where supported.
        if (::renameat2(AT_FDCWD, new_link.c_str(), AT_FDCWD, link.c_str(), RENAME_EXCHANGE) != 0)
            return abandon(fail_path(errno, error, link + " (a folder, not a bundle link)").error);
    } else if (::rename(new_link.c_str(), link.c_str()) != 0) {
        return abandon(fail_path(errno, error, link).error);
    }
    // From here on the new bundle is the current one: failures no longer remove it.
    if (auto r = step(write_step::bundle_swapped, error); !r) return r;
    if (auto r = detail::fsync_dir(*parent, error); !r) return r;
    if (was_folder) {
        remove_tree(new_link); // the old folder, exchanged into the link's name
    } else if (old_len > 0 && is_tagged(std::string_view(old, old_len), name, ".v-")) {
        remove_tree(*parent + "/" + std::string(old, old_len));
    }
    if (auto r = step(write_step::bundle_old_removed, error); !r) return r;

    struct stat st {};
    if (::stat(vdir.c_str(), &st) == 0) {
        char current[256] = {};
        const ssize_t n = ::readlink(link.c_str(), current, sizeof current - 1);
        const std::string_view cur(current, n > 0 ? n : 0);
        detail::remove_leftovers(*parent, st.st_mtime, [&](std::string_view e) {
            return (is_tagged(e, name, ".v-") && e != version && e != cur) ||
                   is_tagged(e, name, ".link-");
        });
    }
    return {};
}

result<cert_bundle> storage::load_bundle(std::string_view issuer, std::string_view name,
                                         std::string& error) const {
    if (!is_safe_key(issuer) || !is_safe_key(name))
        return fail_msg(std::errc::invalid_argument, error, "load_bundle: unsafe key");
    const std::string link = path(certificate_path(issuer, name));
    // Each retry means a writer replaced the bundle while we read it.
    for (int attempt = 0; attempt < 16; ++attempt) {
        unique_fd dir(::open(link.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        struct stat here {};
        struct stat now_there {};
        if (!dir) {
            const int e = errno;
            if (e != ENOENT) return fail_path(e, error, link);
            if (::lstat(link.c_str(), &here) != 0) {
                return fail_msg(std::errc::no_such_file_or_directory, error,
                                link + ": no certificate stored");
            }
            continue; // the link's target was just replaced
        }
        if (::fstat(dir.get(), &here) != 0) return fail_path(errno, error, link);
        cert_bundle b;
        bool replaced = false;
        for (auto [file, out] :
             {std::pair{"cert.pem", &b.cert_pem}, std::pair{"key.pem", &b.key_pem},
              std::pair{"meta.json", &b.meta_json}}) {
            const std::string p = link + "/" + file;
            unique_fd fd(::openat(dir.get(), file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY));
            if (!fd && errno == ENOENT) {
                replaced = ::stat(link.c_str(), &now_there) != 0 || !same_file(here, now_there);
                if (replaced) break;
                return fail_msg(std::errc::bad_message, error, p + ": missing (incomplete bundle)");
            }
            if (!fd) return fail_path(errno, error, p);
            auto data = detail::read_fd(fd.get(), p, error);
            if (!data) return unexpected{data.error()};
            *out = std::move(*data);
        }
        if (replaced) continue;
        if (!looks_like_pem(b.cert_pem, "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"))
            return fail_msg(std::errc::bad_message, error,
                            link + "/cert.pem: not a PEM certificate");
        if (!looks_like_pem(b.key_pem, "-----BEGIN ", "PRIVATE KEY-----"))
            return fail_msg(std::errc::bad_message, error,
                            link + "/key.pem: not a PEM private key");
        simdjson::dom::parser parser;
        simdjson::dom::element meta;
        if (parser.parse(b.meta_json).get(meta) != simdjson::SUCCESS || !meta.is_object())
            return fail_msg(std::errc::bad_message, error, link + "/meta.json: not a JSON object");
        return b;
    }
    return fail_msg(std::errc::bad_message, error,
                    link + ": replaced too often while reading, or a dangling link");
}

} // namespace ringlet::certs
