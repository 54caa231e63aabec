// The server-wide settings of the top level: "listen", "timeouts" and "log", and the checks that
// need both the listeners and the sites (a TLS site without an HTTPS listener, an http-01
// challenge without the plain one, both listeners on one port), made once everything is read.
#include "config/parse_reader.hpp"

#include <netinet/in.h>

#include <algorithm>

namespace ringlet::config::detail {

namespace {

// Whether binding both would clash: the same family and port, and the same address or a
// wildcard on either side.
bool overlaps(const net::endpoint& a, const net::endpoint& b) {
    if (a.addr.ss_family != b.addr.ss_family || a.port() != b.port() || a.port() == 0) {
        return false;
    }
    if (a.addr.ss_family == AF_INET) {
        auto x = reinterpret_cast<const sockaddr_in*>(&a.addr)->sin_addr.s_addr;
        auto y = reinterpret_cast<const sockaddr_in*>(&b.addr)->sin_addr.s_addr;
        return x == y || x == INADDR_ANY || y == INADDR_ANY;
    }
    const in6_addr& x = reinterpret_cast<const sockaddr_in6*>(&a.addr)->sin6_addr;
    const in6_addr& y = reinterpret_cast<const sockaddr_in6*>(&b.addr)->sin6_addr;
    return IN6_ARE_ADDR_EQUAL(&x, &y) || IN6_IS_ADDR_UNSPECIFIED(&x) || IN6_IS_ADDR_UNSPECIFIED(&y);
}

} // namespace

void reader::read_timeouts(const json_value& v, server::server_options& o) {
    if (v.type != json_type::object) {
        expected(v, "timeouts", "an object");
        return;
    }
    auto m = members(v, "timeouts", scope::timeouts);
    if (auto* x = m.get("header")) {
        read_seconds(*x, "timeouts.header", false, o.limits.header_timeout_ns);
    }
    if (auto* x = m.get("keepalive")) {
        read_seconds(*x, "timeouts.keepalive", false, o.limits.keepalive_timeout_ns);
    }
    if (auto* x = m.get("send")) {
        read_seconds(*x, "timeouts.send", false, o.limits.send_timeout_ns);
    }
    if (auto* x = m.get("handshake")) {
        read_seconds(*x, "timeouts.handshake", false, o.limits.handshake_timeout_ns);
    }
    if (auto* x = m.get("drain")) read_seconds(*x, "timeouts.drain", true, o.drain_timeout_ns);
}

void reader::read_log(const json_value& v, parsed_config& out) {
    if (v.type != json_type::object) {
        expected(v, "log", "an object");
        return;
    }
    auto m = members(v, "log", scope::log);
    if (auto* x = m.get("level")) {
        static constexpr std::string_view levels[] = {"debug", "info", "warn", "error", "off"};
        std::string name;
        if (read_choice(*x, "log.level", levels, "", name)) {
            log::parse_level(name, out.log_level);
        }
    }
    if (auto* x = m.get("access")) {
        static constexpr std::string_view names[] = {"stderr", "off"};
        if (x->type == json_type::string && x->text.find('/') != std::string::npos) {
            out.access_log = resolve(x->text);
        } else {
            read_choice(*x, "log.access", names, "a file path containing '/'", out.access_log);
        }
    }
}

void reader::read_listen(const json_value& v, server::server_options& o, listen_choice& https,
                         listen_choice& http) {
    if (v.type != json_type::object) {
        expected(v, "listen", "an object like {\"https\": \"0.0.0.0:443\"}");
        return;
    }
    auto m = members(v, "listen", scope::listen);
    if (auto* x = m.get("https")) {
        if (read_address(*x, "listen.https", "0.0.0.0:443", https)) {
            if (!https.off) o.https_listen = x->text;
        }
    }
    if (auto* x = m.get("http")) {
        if (read_address(*x, "listen.http", "0.0.0.0:80", http)) {
            o.http_listen = http.off ? std::string() : x->text;
        }
    }
}

bool reader::read_address(const json_value& v, const std::string& path, std::string_view example,
                          listen_choice& out) {
    std::string what = "an address like \"" + std::string(example) +
                       "\" or \"[::]:" + std::string(example.substr(example.rfind(':') + 1)) +
                       "\", or \"off\"";
    if (v.type != json_type::string) {
        expected(v, path, what);
        return false;
    }
    out.given = true;
    out.path = path;
    out.offset = v.offset;
    if (v.text == "off") {
        out.off = true;
        return true;
    }
    auto e = net::endpoint::parse(v.text);
    if (!e) {
        problem(error_kind::invalid, path, v.offset,
                "expected " + what + ", found " + quoted(v.text));
        return false;
    }
    out.where = *e;
    return true;
}

void reader::check_listeners(parsed_config& out, const listen_choice& https,
                             const listen_choice& http) {
    std::size_t secure = 0;
    for (tls_mode t : out.site_tls) secure += t != tls_mode::off;
    out.options.tls = secure > 0 || out.site_tls.empty();
    if (secure > 0 && https.off) {
        std::size_t first = 0;
        while (out.site_tls[first] == tls_mode::off) ++first;
        problem(error_kind::invalid, https.path, https.offset,
                "expected an address: \"off\" leaves " + index("sites", site_numbers_[first]) +
                    " (a TLS site) without a listener");
    }
    if (http.off) {
        for (std::size_t i = 0; i < out.options.sites.size(); ++i) {
            const auto& acme = out.options.sites[i].acme;
            if (!acme) continue;
            bool only_http = acme->challenges == std::vector{certs::acme::challenge_type::http_01};
            bool uses_http =
                std::find(acme->challenges.begin(), acme->challenges.end(),
                          certs::acme::challenge_type::http_01) != acme->challenges.end();
            std::string site = index("sites", site_numbers_[i]);
            if (only_http) {
                problem(error_kind::invalid, http.path, http.offset,
                        "\"off\" leaves " + site +
                            " without the plain listener its http-01 challenge needs");
            } else if (uses_http) {
                warn(http.path, http.offset,
                     "\"off\": " + site +
                         " can answer only the tls-alpn-01 challenge (http-01 needs the "
                         "plain listener)",
                     out);
                // Never attempted: a validation bound to fail counts against the CA's
                // failed-validation limit.
                std::erase(out.options.sites[i].acme->challenges,
                           certs::acme::challenge_type::http_01);
            }
        }
        for (std::size_t i : out.plain_sites) {
            problem(error_kind::invalid, join(index("sites", site_numbers_[i]), "tls"),
                    site_offsets_[i],
                    "\"off\" needs the plain HTTP listener, but listen.http is \"off\"");
        }
    }
    // Both listeners on one port (given or by default): the second bind would fail.
    if (!out.options.tls || out.options.http_listen.empty()) return;
    auto a = net::endpoint::parse(out.options.https_listen);
    auto b = net::endpoint::parse(out.options.http_listen);
    if (a && b && overlaps(*a, *b)) {
        bool at_http = http.given || !https.given;
        problem(error_kind::invalid, at_http ? "listen.http" : "listen.https",
                at_http ? http.offset : https.offset,
                "expected a different port from listen." + std::string(at_http ? "https" : "http") +
                    ", found " +
                    quoted(at_http ? out.options.http_listen : out.options.https_listen) +
                    " (the same port as " +
                    quoted(at_http ? out.options.https_listen : out.options.http_listen) + ")");
    }
}

} // namespace ringlet::config::detail
