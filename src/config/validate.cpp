#include "ringlet/base/unique_fd.hpp"
#include "ringlet/config/config.hpp"
#include "ringlet/net/endpoint.hpp"
#include "ringlet/tls/certificate.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <set>

namespace ringlet::config {

namespace {

class checker {
public:
    checker(const parsed_config& c, std::string_view file) : c_(c), file_(file) {}

    void add(std::string path, std::string message) {
        text_position p = c_.position_of(path);
        errors.push_back(config_error{error_kind::environment, std::string(file_), std::move(path),
                                      p.line, p.column, std::move(message)});
    }

    // A folder we can list and read from.
    void folder(const std::string& path, const std::string& dir) {
        struct stat st;
        if (::stat(dir.c_str(), &st) != 0) {
            add(path, dir + ": " + std::strerror(errno));
        } else if (!S_ISDIR(st.st_mode)) {
            add(path, dir + ": not a folder");
        } else if (::access(dir.c_str(), R_OK | X_OK) != 0) {
            add(path, dir + ": " + std::strerror(errno));
        }
    }

    // The folder a file will be written into exists.
    void parent_folder(const std::string& path, const std::string& file) {
        std::size_t slash = file.rfind('/');
        std::string dir = slash == std::string::npos ? "."
                          : slash == 0               ? "/"
                                                     : file.substr(0, slash);
        struct stat st;
        if (::stat(dir.c_str(), &st) != 0) {
            add(path, file + ": folder " + dir + ": " + std::strerror(errno));
        } else if (!S_ISDIR(st.st_mode)) {
            add(path, file + ": " + dir + " is not a folder");
        }
    }

    // A regular file we can open for reading.
    bool readable(const std::string& path, const std::string& file) {
        unique_fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
        if (!fd) {
            add(path, file + ": " + std::strerror(errno));
            return false;
        }
        struct stat st;
        if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
            add(path, file + ": not a regular file");
            return false;
        }
        return true;
    }

    void certificate(std::size_t i, std::int64_t now) {
        const server::site_spec& s = c_.options.sites[i];
        std::string base = "sites[" + std::to_string(i) + "].tls";
        bool cert_ok = readable(base + ".cert", s.cert_file);
        bool key_ok = readable(base + ".key", s.key_file);
        if (!cert_ok || !key_ok) return;
        std::string error;
        auto cert = tls::load_certificate_files(s.cert_file, s.key_file, now, error);
        if (!cert) {
            // The message names the file at fault; point at that key of the config.
            bool key_fault = error.starts_with(s.key_file + ":") && s.key_file != s.cert_file;
            add(base + (key_fault ? ".key" : ".cert"), error);
            return;
        }
        std::vector<std::string> missing;
        for (const std::string& host : s.hosts) {
            std::string_view h = host;
            if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
            if (!tls::covers(*cert, h)) missing.push_back(host);
        }
        if (missing.empty()) return;
        std::string list, names;
        for (const std::string& m : missing) list += (list.empty() ? "" : ", ") + m;
        for (const std::string& n : cert->dns_names) names += (names.empty() ? "" : ", ") + n;
        for (const std::string& n : cert->ip_names) names += (names.empty() ? "" : ", ") + n;
        add(base + ".cert", s.cert_file + ": the certificate does not cover " + list +
                                " (it names " + (names.empty() ? "no host" : names) + ")");
    }

    // Binds like the server's startup probe (SO_REUSEADDR, no SO_REUSEPORT, no listen) and
    // closes at once.
    void port(const std::string& path, const std::string& address) {
        auto where = net::endpoint::parse(address);
        if (!where) return; // parse_config reported it
        unique_fd fd(::socket(where->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
        if (!fd) {
            add(path, address + ": socket: " + std::strerror(errno));
            return;
        }
        int one = 1;
        ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (where->addr.ss_family == AF_INET6) {
            ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        }
        if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&where->addr), where->len) == 0) {
            return;
        }
        int e = errno;
        std::string shown = address;
        if (c_.position_of(path).line == 0) shown += " (the default)";
        if (e == EADDRINUSE) {
            add(path, shown + ": port in use");
        } else if (e == EACCES && where->port() < 1024) {
            add(path, shown + ": permission denied (ports below 1024 need root or "
                              "CAP_NET_BIND_SERVICE)");
        } else if (e == EADDRNOTAVAIL) {
            add(path, shown + ": no such address on this machine");
        } else {
            add(path, shown + ": " + std::strerror(e));
        }
    }

    std::vector<config_error> errors;

private:
    const parsed_config& c_;
    std::string_view file_;
};

} // namespace

std::vector<config_error> check_environment(const parsed_config& c, std::string_view file_name,
                                            environment_checks checks) {
    checker k(c, file_name);
    std::int64_t now = checks.now >= 0 ? checks.now : static_cast<std::int64_t>(::time(nullptr));
    const server::server_options& o = c.options;
    std::set<std::string> checked_roots;
    for (std::size_t i = 0; i < o.sites.size(); ++i) {
        std::string path = "sites[" + std::to_string(i) + "]";
        k.folder(path + ".root", o.sites[i].root);
        bool files = i < c.site_tls.size() ? c.site_tls[i] == tls_mode::files
                                           : !o.sites[i].cert_file.empty();
        if (files) k.certificate(i, now);
        // The ACME CA's trust roots, named where they were given (the site's or the top level).
        if (const auto& acme = o.sites[i].acme; acme && !acme->trusted_roots.empty()) {
            std::string own = path + ".tls.acme.trusted_roots";
            std::string where = c.position_of(own).line ? own : "acme.trusted_roots";
            if (checked_roots.insert(acme->trusted_roots).second) {
                k.readable(where, acme->trusted_roots);
            }
        }
    }
    if (!o.storage.empty()) {
        struct stat st;
        if (::stat(o.storage.c_str(), &st) == 0 && !S_ISDIR(st.st_mode)) {
            k.add("storage", o.storage + ": not a folder");
        }
    }
    if (!o.pidfile.empty()) k.parent_folder("pidfile", o.pidfile);
    if (c.access_log != "stderr" && c.access_log != "off") {
        k.parent_folder("log.access", c.access_log);
    }
    if (checks.ports) {
        if (o.tls) k.port("listen.https", o.https_listen);
        if (!o.http_listen.empty()) k.port("listen.http", o.http_listen);
    }
    return std::move(k.errors);
}

} // namespace ringlet::config
