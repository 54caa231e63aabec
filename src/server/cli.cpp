#include "ringlet/server/cli.hpp"

#include "ringlet/base/log.hpp"
#include "ringlet/server/version.hpp"

#include <charconv>
#include <cstdio>
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

bool valid_host_name(std::string_view h) {
    if (h.empty() || h.size() > 253) return false;
    for (char c : h) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '.' || c == '*' || c == ':' || c == '[' || c == ']';
        if (!ok) return false;
    }
    return true;
}

} // namespace

std::string_view usage_text() {
    return "usage: ringlet <command> [options]\n"
           "\n"
           "commands:\n"
           "  serve      serve folders over HTTP/1.1 (see ringlet serve --help)\n"
           "  version    print versions of ringlet and what it links\n"
           "  help       print this text\n";
}

std::string_view serve_usage_text() {
    return "usage: ringlet serve [--root DIR [--host NAME]...]... [options]\n"
           "\n"
           "Serves each --root folder to the --host names that follow it; the first site also\n"
           "answers any other Host. With no --root, serves the built-in demo site.\n"
           "\n"
           "options:\n"
           "  --root DIR            start a site serving DIR\n"
           "  --host NAME           a host name of the current site (repeatable)\n"
           "  --allow-dotfiles      serve paths with segments starting with '.' for the current "
           "site\n"
           "  --http-listen ADDR    plain-HTTP address, default 127.0.0.1:8080 ([::1]:8080 for "
           "IPv6)\n"
           "  --no-tls              serve plain HTTP only (the only mode until TLS lands)\n"
           "  --workers N           reactor threads, default one per CPU\n"
           "  --pin-cpus            pin reactor i to CPU i (for machines dedicated to ringlet)\n"
           "  --pin-cpus            pin reactor i to CPU i (for machines dedicated to ringlet)\n"
           "  --pidfile FILE        write the process id to FILE while running\n"
           "  --drain-timeout SEC   how long SIGTERM waits for in-flight responses, default 10\n"
           "  --header-timeout SEC  time allowed for a whole request head, default 10\n"
           "  --keepalive-timeout SEC  idle time between requests, default 30\n"
           "  --log-level LEVEL     debug, info, warn, error or off; default info\n";
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
            out.sites.back().hosts.emplace_back(v);
        } else if (a == "--allow-dotfiles") {
            if (out.sites.empty()) {
                error = "--allow-dotfiles comes before any --root; put it after the --root it "
                        "applies to";
                return false;
            }
            out.sites.back().allow_dotfiles = true;
        } else if (a == "--http-listen") {
            if (!need_value(i, a, v)) return false;
            out.http_listen = std::string(v);
        } else if (a == "--no-tls") {
            // Plain HTTP is the only mode for now; the flag keeps scripts valid once TLS lands.
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
            log::set_level(l);
        } else {
            error = "unknown option '" + std::string(a) + "' for serve";
            return false;
        }
    }
    return true;
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
    if (cmd == "serve") {
        for (std::string_view a : rest) {
            if (a == "--help" || a == "-h") {
                std::fputs(serve_usage_text().data(), stdout);
                return 0;
            }
        }
        server_options opts;
        std::string error;
        if (!parse_serve_args(rest, opts, error)) {
            std::fprintf(stderr, "ringlet serve: %s (see ringlet serve --help)\n", error.c_str());
            return 2;
        }
        return run_server(std::move(opts));
    }
    std::fprintf(stderr, "ringlet: unknown command '%.*s' (see ringlet --help)\n",
                 static_cast<int>(cmd.size()), cmd.data());
    return 2;
}

} // namespace ringlet::server
