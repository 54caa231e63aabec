#include "load/options.hpp"

#include "ringlet/base/ascii.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <thread>

namespace ringlet::load {

namespace {

constexpr unsigned max_connections = 100000;
constexpr unsigned max_threads = 1024;
constexpr unsigned max_pipeline = 256;
constexpr double max_duration = 86400;
constexpr double max_timeout = 3600;

enum class opt {
    connections,
    duration,
    requests,
    threads,
    mode,
    resume,
    cacert,
    insecure,
    sni,
    header,
    pipeline,
    timeout,
    json,
    allow_remote,
    progress,
    no_progress,
    help,
    version
};

struct opt_spec {
    char short_name; // 0: none
    std::string_view long_name;
    bool takes_value;
    opt id;
};

constexpr opt_spec specs[] = {
    {'c', "connections", true, opt::connections},
    {'d', "duration", true, opt::duration},
    {'n', "requests", true, opt::requests},
    {'t', "threads", true, opt::threads},
    {0, "mode", true, opt::mode},
    {0, "resume", false, opt::resume},
    {0, "cacert", true, opt::cacert},
    {0, "insecure", false, opt::insecure},
    {0, "sni", true, opt::sni},
    {'H', "header", true, opt::header},
    {0, "pipeline", true, opt::pipeline},
    {0, "timeout", true, opt::timeout},
    {0, "json", false, opt::json},
    {0, "allow-remote", false, opt::allow_remote},
    {0, "progress", false, opt::progress},
    {0, "no-progress", false, opt::no_progress},
    {'h', "help", false, opt::help},
    {'V', "version", false, opt::version},
};

result<load_options> fail(std::string& error, std::string msg) {
    error = std::move(msg);
    return unexpected{std::make_error_code(std::errc::invalid_argument)};
}

// A whole number in [lo, hi]: digits only (no sign, no spaces, no suffix).
std::optional<std::uint64_t> parse_uint(std::string_view v, std::uint64_t lo, std::uint64_t hi) {
    std::uint64_t n = 0;
    if (v.empty() || v.front() < '0' || v.front() > '9') return std::nullopt;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc{} || end != v.data() + v.size() || n < lo || n > hi) return std::nullopt;
    return n;
}

// Seconds: a finite decimal number in (0, hi], e.g. "10", "0.5", "2.25".
std::optional<double> parse_seconds(std::string_view v, double hi) {
    double d = 0;
    if (v.empty() || !((v.front() >= '0' && v.front() <= '9') || v.front() == '.')) {
        return std::nullopt;
    }
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), d, std::chars_format::fixed);
    if (ec != std::errc{} || end != v.data() + v.size() || !std::isfinite(d) || d <= 0 || d > hi) {
        return std::nullopt;
    }
    return d;
}

const opt_spec* find_long(std::string_view name) {
    for (const opt_spec& s : specs) {
        if (s.long_name == name) return &s;
    }
    return nullptr;
}

const opt_spec* find_short(char c) {
    for (const opt_spec& s : specs) {
        if (s.short_name == c) return &s;
    }
    return nullptr;
}

} // namespace

std::string_view mode_name(load_mode m) {
    switch (m) {
    case load_mode::keepalive:
        return "keepalive";
    case load_mode::handshake:
        return "handshake";
    case load_mode::bulk:
        return "bulk";
    }
    return "?";
}

result<load_options> parse_load_options(std::span<const std::string_view> args,
                                        std::string& error) {
    return parse_load_options(args, error, std::max(1u, std::thread::hardware_concurrency()));
}

result<load_options> parse_load_options(std::span<const std::string_view> args, std::string& error,
                                        unsigned cpus) {
    load_options o;
    std::vector<std::string_view> urls;
    bool threads_given = false;
    bool options_done = false;
    const auto bad_value = [&](std::string_view as_typed, std::string_view value,
                               std::string_view expected) {
        return fail(error, std::string(as_typed) + " " + quoted(value) + ": expected " +
                               std::string(expected));
    };
    // Pass 1: --help/--version win regardless of what else is there.
    for (std::string_view a : args) {
        if (a == "--") break;
        if (a == "--help" || a == "-h") {
            o.help = true;
            return o;
        }
        if (a == "--version" || a == "-V") {
            o.version = true;
            return o;
        }
    }
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string_view a = args[i];
        if (options_done || a.size() < 2 || a.front() != '-') {
            urls.push_back(a);
            continue;
        }
        if (a == "--") {
            options_done = true;
            continue;
        }
        const opt_spec* spec = nullptr;
        std::string_view as_typed; // the option as the user spelled it, for messages
        std::optional<std::string_view> inline_value;
        if (a.starts_with("--")) {
            const std::size_t eq = a.find('=');
            as_typed = a.substr(0, eq);
            spec = find_long(as_typed.substr(2));
            if (eq != std::string_view::npos) inline_value = a.substr(eq + 1);
        } else {
            as_typed = a.substr(0, 2);
            spec = find_short(a[1]);
            if (a.size() > 2) inline_value = a.substr(2);
        }
        if (!spec) return fail(error, "unknown option " + std::string(as_typed));
        std::string_view v;
        if (spec->takes_value) {
            if (inline_value) {
                v = *inline_value;
            } else if (i + 1 < args.size()) {
                v = args[++i];
            } else {
                return fail(error, "option " + std::string(as_typed) + " needs a value");
            }
        } else if (inline_value) {
            return fail(error, "option " + std::string(as_typed) + " takes no value (got " +
                                   quoted(*inline_value) + ")");
        }
        switch (spec->id) {
        case opt::connections: {
            auto n = parse_uint(v, 1, max_connections);
            if (!n) return bad_value(as_typed, v, "a whole number from 1 to 100000");
            o.connections = static_cast<unsigned>(*n);
            break;
        }
        case opt::threads: {
            auto n = parse_uint(v, 1, max_threads);
            if (!n) return bad_value(as_typed, v, "a whole number from 1 to 1024");
            o.threads = static_cast<unsigned>(*n);
            threads_given = true;
            break;
        }
        case opt::requests: {
            auto n = parse_uint(v, 1, ~std::uint64_t{0});
            if (!n) return bad_value(as_typed, v, "a whole number of requests, at least 1");
            o.requests = *n;
            break;
        }
        case opt::pipeline: {
            auto n = parse_uint(v, 1, max_pipeline);
            if (!n) return bad_value(as_typed, v, "a whole number from 1 to 256");
            o.pipeline = static_cast<unsigned>(*n);
            break;
        }
        case opt::duration: {
            auto d = parse_seconds(v, max_duration);
            if (!d)
                return bad_value(as_typed, v, "seconds above 0 and at most 86400 (e.g. 10, 2.5)");
            o.duration_seconds = *d;
            break;
        }
        case opt::timeout: {
            auto d = parse_seconds(v, max_timeout);
            if (!d) return bad_value(as_typed, v, "seconds above 0 and at most 3600 (e.g. 5, 0.5)");
            o.timeout_seconds = *d;
            break;
        }
        case opt::mode:
            if (v == "keepalive") {
                o.mode = load_mode::keepalive;
            } else if (v == "handshake") {
                o.mode = load_mode::handshake;
            } else if (v == "bulk") {
                o.mode = load_mode::bulk;
            } else {
                return bad_value(as_typed, v, "keepalive, handshake or bulk");
            }
            break;
        case opt::resume:
            o.resume = true;
            break;
        case opt::cacert:
            if (v.empty()) return bad_value(as_typed, v, "the path of a PEM file");
            o.cacert = std::string(v);
            break;
        case opt::insecure:
            o.insecure = true;
            break;
        case opt::sni: {
            in6_addr a6{};
            in_addr a4{};
            const std::string s(v);
            if (!is_dns_name(v) || inet_pton(AF_INET, s.c_str(), &a4) == 1 ||
                inet_pton(AF_INET6, s.c_str(), &a6) == 1) {
                return bad_value(as_typed, v, "a DNS host name (SNI cannot carry an IP address)");
            }
            o.sni = ascii_lower(v);
            break;
        }
        case opt::header: {
            std::string why;
            auto h = parse_header_field(v, why);
            if (!h) return fail(error, std::string(as_typed) + " " + quoted(v) + ": " + why);
            o.headers.push_back(std::move(*h));
            break;
        }
        case opt::json:
            o.json = true;
            break;
        case opt::allow_remote:
            o.allow_remote = true;
            break;
        case opt::progress:
            o.progress = progress_mode::on;
            break;
        case opt::no_progress:
            o.progress = progress_mode::off;
            break;
        case opt::help:
            o.help = true;
            break; // handled in pass 1
        case opt::version:
            o.version = true;
            break; // handled in pass 1
        }
    }

    if (urls.empty()) {
        return fail(error, "no URL given (e.g. ringlet-load -c 64 -d 10 https://localhost:8443/)");
    }
    bool any_https = false;
    for (std::string_view u : urls) {
        std::string why;
        auto t = parse_target(u, why);
        if (!t) return fail(error, "URL " + quoted(u) + ": " + why);
        if (!o.allow_remote && !is_loopback(*t)) {
            return fail(error, "URL " + quoted(u) + ": refusing to load " + quoted(t->host) +
                                   ", which is not a loopback address; only 127.0.0.0/8, ::1 "
                                   "and localhost are allowed without --allow-remote");
        }
        any_https = any_https || t->https;
        o.targets.push_back(std::move(*t));
    }

    int hosts = 0;
    for (const header_field& h : o.headers) hosts += ascii_lower(h.name) == "host";
    if (hosts > 1) return fail(error, "-H/--header: Host given more than once");
    if (o.resume && o.mode != load_mode::handshake) {
        return fail(error, "--resume only applies to --mode handshake (got --mode " +
                               std::string(mode_name(o.mode)) + ")");
    }
    if (!any_https) {
        const char* tls_only = o.resume            ? "--resume"
                               : o.insecure        ? "--insecure"
                               : !o.cacert.empty() ? "--cacert"
                               : !o.sni.empty()    ? "--sni"
                                                   : nullptr;
        if (tls_only) {
            return fail(error, std::string(tls_only) + " only applies to https:// URLs");
        }
    }
    if (o.insecure && !o.cacert.empty()) {
        return fail(error, "--insecure and --cacert " + quoted(o.cacert) +
                               " contradict each other: choose one");
    }
    if (o.mode == load_mode::handshake && o.pipeline > 1) {
        return fail(error, "--pipeline " + std::to_string(o.pipeline) +
                               ": --mode handshake sends one request per connection");
    }
    if (threads_given && o.threads > o.connections) {
        return fail(error, "-t/--threads " + std::to_string(o.threads) + " exceeds " +
                               "-c/--connections " + std::to_string(o.connections) +
                               ": every thread needs at least one connection");
    }
    if (!threads_given) o.threads = std::max(1u, std::min(cpus, o.connections));
    return o;
}

std::string_view load_usage() {
    return R"(usage: ringlet-load [options] URL...

Load-tests an HTTP/1.1 server over plain HTTP or TLS, one io_uring per thread.
Connections are spread round-robin over the URLs.

  -c, --connections N   connections in total (default 64)
  -d, --duration S      run for S seconds (fractions allowed)
  -n, --requests N      stop after N requests have finished (answered or failed)
                        with both -d and -n, whichever comes first; with neither, -d 10
  -t, --threads N       threads (default: CPUs, at most one per connection)
      --mode M          keepalive (default): persistent connections
                        handshake: a new connection and TLS handshake per request
                        bulk: persistent connections fetching large files (MB/s)
      --resume          handshake mode: resume TLS sessions with tickets
      --cacert FILE     verify servers with this CA (PEM) instead of the system store
      --insecure        do not verify certificates
      --sni NAME        send NAME as the TLS server name instead of the URL's host
  -H, --header "N: V"   add a request header (repeatable)
      --pipeline N      requests in flight per connection (default 1, HTTP/1.1 pipelining)
      --timeout S       per-request timeout in seconds (default 10)
      --json            print the report as JSON (schema "ringlet-load/1")
      --allow-remote    allow targets other than 127.0.0.0/8, ::1 and localhost
      --progress, --no-progress
                        live progress line on stderr (default: when it is a terminal)
  -h, --help            this text
  -V, --version         version

Exit status 2: bad command line.
)";
}

} // namespace ringlet::load
