#include "ringlet/server/cli.hpp"

#include "ringlet/base/ascii.hpp"
#include "ringlet/base/log.hpp"
#include "ringlet/certs/internal_ca.hpp"
#include "ringlet/config/validate.hpp"
#include "ringlet/server/certificates.hpp"
#include "ringlet/server/version.hpp"

#include <signal.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

namespace ringlet::server {

namespace {

bool parse_seconds(std::string_view text, std::int64_t& ns) {
    unsigned long long v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || p != text.data() + text.size() || v > 86400) return false;
    ns = static_cast<std::int64_t>(v) * 1'000'000'000;
    return true;
}

// A DNS name (wildcards allowed), an IPv4 address, or an IPv6 address (bare or in brackets);
// never a port.
bool valid_host_name(std::string_view h) {
    if (h.empty() || h.size() > 253) return false;
    bool colon = h.find(':') != std::string_view::npos;
    if (colon) {
        // IPv6: hex digits, colons, dots (embedded IPv4), optionally in brackets.
        if (h.front() == '[') {
            if (h.back() != ']') return false;
            h = h.substr(1, h.size() - 2);
        }
        for (char c : h) {
            bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
                      c == ':' || c == '.';
            if (!ok) return false;
        }
        return h.find(':') != h.rfind(':'); // at least two colons: "host:port" is no address
    }
    for (char c : h) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '.' || c == '*';
        if (!ok) return false;
    }
    return true;
}

} // namespace

std::string_view usage_text() {
    return "usage: ringlet <command> [options]\n"
           "\n"
           "commands:\n"
           "  serve      serve folders over HTTPS and HTTP/1.1 (see ringlet serve --help)\n"
           "  trust      print the internal CA's root certificate (path and PEM)\n"
           "  validate   check a config file (ringlet validate --config FILE)\n"
           "  reload     reload a running server's config (ringlet reload --pidfile FILE)\n"
           "  stop       stop a running server gracefully (ringlet stop --pidfile FILE)\n"
           "  version    print versions of ringlet and what it links\n"
           "  help       print this text\n";
}

std::string_view serve_usage_text() {
    return "usage: ringlet serve [--config FILE] [--root DIR [--host NAME]... [--cert FILE --key "
           "FILE]]... [options]\n"
           "\n"
           "Serves each --root folder to the --host names that follow it; the first site also\n"
           "answers any other Host. With no --root, serves the current folder.\n"
           "By default over HTTPS on 127.0.0.1:8443 with certificates from ringlet's internal CA\n"
           "(see ringlet trust), while http://127.0.0.1:8080 redirects there.\n"
           "\n"
           "options:\n"
           "  --config FILE         a JSON config (see README); the flags below override it\n"
           "  --root DIR            start a site serving DIR\n"
           "  --host NAME           a host name of the current site (repeatable)\n"
           "  --cert FILE --key FILE  the current site's certificate chain and key (PEM); without\n"
           "                        them the site gets an internal-CA certificate\n"
           "  --allow-dotfiles      serve paths with segments starting with '.' (current site)\n"
           "  --demo                serve the built-in demo site\n"
           "  --listen ADDR         HTTPS address, default 127.0.0.1:8443 ([::1]:8443 for IPv6)\n"
           "  --http-listen ADDR    HTTP address, default 127.0.0.1:8080\n"
           "  --no-tls              serve plain HTTP only, on --http-listen\n"
           "  --strict-sni          refuse TLS clients asking for a host no site has (alert\n"
           "                        unrecognized_name) instead of giving the first site's "
           "certificate\n"
           "  --storage DIR         certificates and keys; default /var/lib/ringlet for root,\n"
           "                        else ~/.local/share/ringlet\n"
           "  --workers N           reactor threads, default one per CPU\n"
           "  --pin-cpus            pin reactor i to CPU i (for machines dedicated to ringlet)\n"
           "  --pidfile FILE        write the process id to FILE while running\n"
           "  --drain-timeout SEC   how long SIGTERM waits for in-flight responses, default 10\n"
           "  --header-timeout SEC  time allowed for a whole request head, default 10\n"
           "  --keepalive-timeout SEC  idle time between requests, default 30\n"
           "  --log-level LEVEL     debug, info, warn, error or off; default info\n"
           "  --access-log DEST     off (default), stderr, or a file to append to\n";
}

bool parse_serve_args(std::span<const std::string_view> args, server_options& out,
                      std::string& error) {
    auto need_value = [&](std::size_t& i, std::string_view flag, std::string_view& value) {
        if (i + 1 >= args.size() || args[i + 1].starts_with("--")) {
            error = "option " + std::string(flag) + " needs a value";
            return false;
        }
        value = args[++i];
        return true;
    };
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view a = args[i], v;
        if (a == "--root") {
            if (!need_value(i, a, v)) return false;
            out.sites.push_back(site_spec{{}, std::string(v), false});
        } else if (a == "--host") {
            if (!need_value(i, a, v)) return false;
            if (out.sites.empty()) {
                error = "--host " + std::string(v) +
                        " comes before any --root; put it after the --root it names";
                return false;
            }
            if (!valid_host_name(v)) {
                error = "--host '" + std::string(v) + "' is not a valid host name";
                return false;
            }
            // One spelling everywhere (site selection, certificates, SNI): lower case, no
            // trailing dot.
            std::string host = ascii_lower(v);
            if (host.size() > 1 && host.back() == '.') host.pop_back();
            out.sites.back().hosts.push_back(std::move(host));
        } else if (a == "--allow-dotfiles") {
            if (out.sites.empty()) {
                error = "--allow-dotfiles comes before any --root; put it after the --root it "
                        "applies to";
                return false;
            }
            out.sites.back().allow_dotfiles = true;
        } else if (a == "--cert" || a == "--key") {
            if (!need_value(i, a, v)) return false;
            if (out.sites.empty()) {
                error = std::string(a) +
                        " comes before any --root; put it after the --root it applies to";
                return false;
            }
            (a == "--cert" ? out.sites.back().cert_file : out.sites.back().key_file) =
                std::string(v);
        } else if (a == "--http-listen") {
            if (!need_value(i, a, v)) return false;
            out.http_listen = std::string(v);
        } else if (a == "--listen") {
            if (!need_value(i, a, v)) return false;
            out.https_listen = std::string(v);
        } else if (a == "--storage") {
            if (!need_value(i, a, v)) return false;
            out.storage = std::string(v);
        } else if (a == "--no-tls") {
            out.tls = false;
        } else if (a == "--demo") {
            out.demo = true;
        } else if (a == "--access-log") {
            if (!need_value(i, a, v)) return false;
            out.access_log = std::string(v);
        } else if (a == "--strict-sni") {
            out.strict_sni = true;
        } else if (a == "--workers") {
            if (!need_value(i, a, v)) return false;
            unsigned n = 0;
            auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
            if (ec != std::errc() || p != v.data() + v.size() || n == 0 || n > 1024) {
                error = "--workers '" + std::string(v) + "' must be a whole number from 1 to 1024";
                return false;
            }
            out.workers = n;
        } else if (a == "--pin-cpus") {
            out.pin_cpus = true;
        } else if (a == "--pin-cpus") {
            out.pin_cpus = true;
        } else if (a == "--pidfile") {
            if (!need_value(i, a, v)) return false;
            out.pidfile = std::string(v);
        } else if (a == "--drain-timeout" || a == "--header-timeout" ||
                   a == "--keepalive-timeout") {
            if (!need_value(i, a, v)) return false;
            std::int64_t ns = 0;
            if (!parse_seconds(v, ns) || (ns == 0 && a != "--drain-timeout")) {
                error = std::string(a) + " '" + std::string(v) +
                        "' must be whole seconds (at most 86400)";
                return false;
            }
            if (a == "--drain-timeout") out.drain_timeout_ns = ns;
            if (a == "--header-timeout") out.limits.header_timeout_ns = ns;
            if (a == "--keepalive-timeout") out.limits.keepalive_timeout_ns = ns;
        } else if (a == "--log-level") {
            if (!need_value(i, a, v)) return false;
            log::level l;
            if (!log::parse_level(v, l)) {
                error =
                    "--log-level '" + std::string(v) + "' must be debug, info, warn, error or off";
                return false;
            }
            out.log_level = l;
        } else {
            error = "unknown option '" + std::string(a) + "' for serve";
            return false;
        }
    }
    for (const site_spec& site : out.sites) {
        if (site.cert_file.empty() != site.key_file.empty()) {
            error = "site " + site.root + ": --cert and --key go together";
            return false;
        }
    }
    return true;
}

// The options for `serve`: the config file (if any), then the flags over it. Errors:
// invalid_argument for a bad flag (`error` is one line), io_error for a bad config file
// (`error` has one line per problem).
result<server_options> load_serve_options(const std::string& config_file,
                                          const std::vector<std::string>& flags,
                                          std::string& error) {
    server_options opts;
    if (!config_file.empty()) {
        std::vector<std::string> problems, warnings;
        // The server binds the ports itself and reports a taken one.
        auto parsed = config::load_config_file(config_file, {-1, false}, problems, &warnings);
        for (const auto& w : warnings) RINGLET_LOG(warn) << w;
        if (!parsed) {
            error.clear();
            for (const auto& p : problems) error += (error.empty() ? "" : "\n") + p;
            return fail_errno(EIO);
        }
        opts = std::move(parsed->options);
        for (std::size_t i : parsed->plain_sites) {
            if (i < opts.sites.size()) opts.sites[i].plain = true;
        }
        opts.log_level = parsed->log_level;
        opts.access_log = parsed->access_log;
    }
    std::vector<std::string_view> views(flags.begin(), flags.end());
    for (std::string_view f : views) {
        if (f == "--root") {
            opts.sites.clear();
            break;
        }
    }
    if (!parse_serve_args(views, opts, error)) return fail_errno(EINVAL);
    return opts;
}

// Reads the pid in `pidfile`; 0 (and a message) if there is none.
pid_t read_pid(const std::string& pidfile, std::string& error) {
    std::ifstream in(pidfile);
    long pid = 0;
    if (!(in >> pid) || pid <= 0) {
        error =
            "cannot read a process id from " + pidfile + " (is ringlet running with --pidfile?)";
        return 0;
    }
    if (::kill(static_cast<pid_t>(pid), 0) != 0) {
        error = "process " + std::to_string(pid) + " from " + pidfile + " is not running";
        return 0;
    }
    return static_cast<pid_t>(pid);
}

// The status line the server writes next to its pidfile: "seq=N ok|failed generation=G ...".
std::string read_status(const std::string& path, std::uint64_t& seq) {
    std::ifstream in(path);
    std::stringstream all;
    all << in.rdbuf();
    std::string text = all.str();
    while (!text.empty() && text.back() == '\n') text.pop_back();
    seq = 0;
    if (text.rfind("seq=", 0) == 0) seq = std::strtoull(text.c_str() + 4, nullptr, 10);
    return text; // the first line, then one line per problem of a rejected config
}

// `ringlet reload|stop --pidfile FILE [--timeout SEC]`.
int control_main(std::string_view cmd, std::span<const std::string_view> args) {
    std::string pidfile;
    double timeout = 30;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--pidfile" && i + 1 < args.size()) {
            pidfile = std::string(args[++i]);
        } else if (args[i] == "--timeout" && i + 1 < args.size()) {
            timeout = std::strtod(std::string(args[++i]).c_str(), nullptr);
        } else if (args[i] == "--help" || args[i] == "-h") {
            std::printf("usage: ringlet %.*s --pidfile FILE [--timeout SEC]\n\n%s\n",
                        static_cast<int>(cmd.size()), cmd.data(),
                        cmd == "reload"
                            ? "Asks the server to reload its --config (SIGUSR1), waits for the "
                              "outcome, prints it,\nand exits 1 if the new config was rejected "
                              "(the old one keeps serving)."
                            : "Asks the server to stop gracefully (SIGTERM) and waits until it "
                              "has exited.");
            return 0;
        } else {
            std::fprintf(stderr, "ringlet %.*s: unknown option '%.*s'\n",
                         static_cast<int>(cmd.size()), cmd.data(), static_cast<int>(args[i].size()),
                         args[i].data());
            return 2;
        }
    }
    if (pidfile.empty()) {
        std::fprintf(stderr, "ringlet %.*s: --pidfile FILE is required\n",
                     static_cast<int>(cmd.size()), cmd.data());
        return 2;
    }
    std::string error;
    pid_t pid = read_pid(pidfile, error);
    if (!pid) {
        std::fprintf(stderr, "ringlet %.*s: %s\n", static_cast<int>(cmd.size()), cmd.data(),
                     error.c_str());
        return 1;
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout);
    if (cmd == "stop") {
        ::kill(pid, SIGTERM);
        while (std::chrono::steady_clock::now() < deadline) {
            if (::kill(pid, 0) != 0 && errno == ESRCH) {
                std::printf("stopped (pid %d)\n", static_cast<int>(pid));
                return 0;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        std::fprintf(stderr, "ringlet stop: pid %d still running after %g s\n",
                     static_cast<int>(pid), timeout);
        return 1;
    }
    std::string status_path = pidfile + ".status";
    std::uint64_t before = 0, seq = 0;
    read_status(status_path, before);
    ::kill(pid, SIGUSR1);
    while (std::chrono::steady_clock::now() < deadline) {
        std::string line = read_status(status_path, seq);
        if (seq > before) {
            std::size_t sp = line.find(' ');
            std::string outcome = sp == std::string::npos ? line : line.substr(sp + 1);
            bool ok = outcome.rfind("ok", 0) == 0;
            std::fprintf(ok ? stdout : stderr, "reload %s\n", outcome.c_str());
            return ok ? 0 : 1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::fprintf(stderr, "ringlet reload: no answer from pid %d within %g s\n",
                 static_cast<int>(pid), timeout);
    return 1;
}

// `ringlet trust [--storage DIR]`: where the internal CA's root is, and the root itself.
int trust_main(std::span<const std::string_view> args) {
    std::string storage;
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--storage" && i + 1 < args.size()) {
            storage = std::string(args[++i]);
        } else if (args[i] == "--help" || args[i] == "-h") {
            std::fputs("usage: ringlet trust [--storage DIR]\n\nPrints the path and PEM of the "
                       "internal CA's "
                       "root certificate (created on first use).\nTrust it, e.g.: curl --cacert "
                       "PATH, or copy "
                       "it to /usr/local/share/ca-certificates/ringlet.crt and run "
                       "update-ca-certificates.\n",
                       stdout);
            return 0;
        } else {
            std::fprintf(stderr,
                         "ringlet trust: unknown option '%.*s' (see ringlet trust --help)\n",
                         static_cast<int>(args[i].size()), args[i].data());
            return 2;
        }
    }
    if (storage.empty()) storage = default_storage_dir();
    std::string error;
    auto ca = certs::internal_ca::open(storage, ::time(nullptr), error);
    if (!ca) {
        std::fprintf(stderr, "ringlet trust: %s\n", error.c_str());
        return 1;
    }
    std::printf("%s\n%s", ca->root_path().c_str(), ca->root_pem().c_str());
    return 0;
}

int cli_main(int argc, char** argv) {
    std::vector<std::string_view> args(argv + 1, argv + argc);
    if (args.empty() || args[0] == "help" || args[0] == "--help" || args[0] == "-h") {
        std::fputs(usage_text().data(), args.empty() ? stderr : stdout);
        return args.empty() ? 2 : 0;
    }
    std::string_view cmd = args[0];
    std::span<const std::string_view> rest(args.data() + 1, args.size() - 1);
    if (cmd == "version" || cmd == "--version") {
        std::fputs(version_text().c_str(), stdout);
        return 0;
    }
    if (cmd == "trust") return trust_main(rest);
    if (cmd == "validate") return config::validate_command(rest);
    if (cmd == "reload" || cmd == "stop") return control_main(cmd, rest);
    if (cmd == "serve") {
        for (std::string_view a : rest) {
            if (a == "--help" || a == "-h") {
                std::fputs(serve_usage_text().data(), stdout);
                return 0;
            }
        }
        // --config FILE first; the other flags then override what it says (a --root on the
        // command line replaces the file's sites). SIGUSR1 repeats exactly this.
        std::string config_file;
        std::vector<std::string> flags;
        for (std::size_t i = 0; i < rest.size(); ++i) {
            if (rest[i] != "--config") {
                flags.emplace_back(rest[i]);
                continue;
            }
            if (i + 1 >= rest.size()) {
                std::fputs(
                    "ringlet serve: option --config needs a value (see ringlet serve --help)\n",
                    stderr);
                return 2;
            }
            config_file = std::string(rest[++i]);
        }
        std::string error;
        auto opts = load_serve_options(config_file, flags, error);
        if (!opts) {
            if (opts.error() == std::errc::invalid_argument) {
                std::fprintf(stderr, "ringlet serve: %s (see ringlet serve --help)\n",
                             error.c_str());
                return 2;
            }
            std::fprintf(stderr, "%s\n", error.c_str());
            return 1;
        }
        if (!config_file.empty()) {
            opts->reload_source = [config_file, flags](std::string& err) {
                return load_serve_options(config_file, flags, err);
            };
        }
        return run_server(std::move(*opts));
    }
    std::fprintf(stderr, "ringlet: unknown command '%.*s' (see ringlet --help)\n",
                 static_cast<int>(cmd.size()), cmd.data());
    return 2;
}

} // namespace ringlet::server
