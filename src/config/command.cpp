#include "ringlet/config/config.hpp"
#include "ringlet/config/validate.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

namespace ringlet::config {

namespace {

constexpr std::size_t max_config_size = 16 * 1024 * 1024;

// The whole file, or false with `error` set ("FILE: No such file or directory").
bool read_file(const std::string& path, std::string& out, std::string& error) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        error = path + ": " + std::strerror(errno);
        return false;
    }
    struct stat st;
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        error = path + ": not a regular file";
        ::close(fd);
        return false;
    }
    out.clear();
    char buf[16384];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            error = path + ": " + std::strerror(errno);
            ::close(fd);
            return false;
        }
        if (n == 0) break;
        out.append(buf, static_cast<std::size_t>(n));
        if (out.size() > max_config_size) {
            error = path + ": larger than 16 MiB; not a config file";
            ::close(fd);
            return false;
        }
    }
    ::close(fd);
    return true;
}

void print_line(std::FILE* f, const std::string& s) {
    std::fwrite(s.data(), 1, s.size(), f);
    std::fputc('\n', f);
}

} // namespace

std::string_view validate_usage_text() {
    return "usage: ringlet validate --config FILE [--skip-ports]\n"
           "\n"
           "Checks a config file without starting the server: JSON syntax, keys and values, that\n"
           "every site's root is a folder, that certificate and key files are readable, match,\n"
           "are in order, valid now and cover the site's hosts, and that the listen ports are\n"
           "free. Prints \"config OK\" and exits 0, or prints every error (FILE:LINE:COL: ...)\n"
           "on stderr and exits 1.\n"
           "\n"
           "options:\n"
           "  --config FILE   the config file to check\n"
           "  --skip-ports    do not try the listen ports (e.g. while the server holds them)\n";
}

int validate_command(std::span<const std::string_view> args) {
    std::string file;
    environment_checks checks;
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view a = args[i];
        if (a == "--help" || a == "-h") {
            std::fputs(validate_usage_text().data(), stdout);
            return 0;
        }
        if (a == "--config") {
            if (i + 1 >= args.size() || args[i + 1].starts_with("--")) {
                std::fputs("ringlet validate: option --config needs a value (see ringlet "
                           "validate --help)\n",
                           stderr);
                return 2;
            }
            file = std::string(args[++i]);
        } else if (a == "--skip-ports") {
            checks.ports = false;
        } else {
            std::fprintf(stderr,
                         "ringlet validate: unknown option '%.*s' (see ringlet validate --help)\n",
                         static_cast<int>(a.size()), a.data());
            return 2;
        }
    }
    if (file.empty()) {
        std::fputs("ringlet validate: --config FILE is required (see ringlet validate --help)\n",
                   stderr);
        return 2;
    }

    std::vector<std::string> errors, warnings;
    auto parsed = load_config_file(file, checks, errors, &warnings);
    for (const std::string& w : warnings) print_line(stderr, "warning: " + w);
    if (!parsed) {
        for (const std::string& e : errors) print_line(stderr, e);
        return 1;
    }
    std::fputs("config OK\n", stdout);
    return 0;
}

result<parsed_config> load_config_file(const std::string& file, environment_checks checks,
                                       std::vector<std::string>& messages,
                                       std::vector<std::string>* warnings) {
    std::string text, error;
    if (!read_file(file, text, error)) {
        messages.push_back(error);
        return fail_errno(ENOENT);
    }
    std::vector<config_error> errors;
    auto parsed = parse_config(text, file, errors);
    if (parsed) {
        if (warnings) *warnings = parsed->warnings;
        errors = check_environment(*parsed, file, checks);
    }
    for (const config_error& e : errors) messages.push_back(e.to_string());
    if (!errors.empty()) return fail_errno(EINVAL);
    return parsed;
}

} // namespace ringlet::config
