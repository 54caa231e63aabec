#include "config/json_tree.hpp"

#include "ringlet/base/ascii.hpp"
#include "ringlet/config/config.hpp"
#include "ringlet/net/endpoint.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <span>

namespace ringlet::config {

using detail::json_member;
using detail::json_type;
using detail::json_value;
using detail::quoted;

std::string config_error::to_string() const {
    std::string s = file;
    if (line > 0) {
        if (!s.empty()) s += ':';
        s += std::to_string(line) + ":" + std::to_string(column);
    }
    if (!s.empty()) s += ": ";
    if (!path.empty() && kind != error_kind::syntax && kind != error_kind::unknown_key) {
        s += path + ": ";
    }
    s += message;
    return s;
}

text_position parsed_config::position_of(std::string_view path) const {
    auto it = positions.find(path);
    return it == positions.end() ? text_position{} : it->second;
}

namespace {

// Where a key is valid. Each scope lists its keys; an unknown key that is valid in another scope
// gets "goes in ..." instead of a did-you-mean.
enum class scope { top, site, tls, listen, log, timeouts, acme, eab };

struct scope_info {
    scope s;
    std::string_view home; // for "goes in ..."
    std::span<const std::string_view> keys;
};

constexpr std::string_view top_keys[] = {"storage",  "workers", "listen",     "sites",    "log",
                                         "timeouts", "pidfile", "strict_sni", "pin_cpus", "acme"};
constexpr std::string_view site_keys[] = {"hosts", "root", "tls", "allow_dotfiles"};
constexpr std::string_view tls_keys[] = {"issuer", "cert", "key", "acme"};
constexpr std::string_view acme_keys[] = {"directory",  "email", "trusted_roots",
                                          "challenges", "eab",   "preferred_chain"};
constexpr std::string_view eab_keys[] = {"key_id", "hmac_key"};
constexpr std::string_view listen_keys[] = {"https", "http"};
constexpr std::string_view log_keys[] = {"level", "access"};
constexpr std::string_view timeout_keys[] = {"header", "keepalive", "drain", "send", "handshake"};

constexpr scope_info scopes[] = {
    {scope::top, "at the top level", top_keys},
    {scope::site, "in each entry of \"sites\"", site_keys},
    {scope::tls, "in a site's \"tls\"", tls_keys},
    {scope::listen, "in \"listen\"", listen_keys},
    {scope::log, "in \"log\"", log_keys},
    {scope::timeouts, "in \"timeouts\"", timeout_keys},
    {scope::acme, "in \"acme\" (at the top level or in a site's \"tls\")", acme_keys},
    {scope::eab, "in \"acme.eab\"", eab_keys},
};

const scope_info& info(scope s) {
    for (const scope_info& i : scopes) {
        if (i.s == s) return i;
    }
    return scopes[0];
}

std::string join(std::string_view path, std::string_view key) {
    bool plain = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-';
    });
    if (!plain) return std::string(path) + "[" + quoted(key) + "]";
    if (path.empty()) return std::string(key);
    return std::string(path) + "." + std::string(key);
}

std::string index(std::string_view path, std::size_t i) {
    return std::string(path) + "[" + std::to_string(i) + "]";
}

std::string found(const json_value& v) {
    switch (v.type) {
    case json_type::null:
        return "null";
    case json_type::boolean:
        return v.boolean ? "true" : "false";
    case json_type::number:
        return "a number";
    case json_type::string:
        return v.text.empty() ? "an empty string" : "a string";
    case json_type::array:
        return v.items.empty() ? "an empty array" : "an array";
    case json_type::object:
        return "an object";
    }
    return "a value";
}

// "a", "a or b", "a, b or c": each choice quoted, then `other` (unquoted) as the last one.
std::string choices(std::span<const std::string_view> list, std::string_view other = {}) {
    std::vector<std::string> all;
    for (std::string_view c : list) all.push_back(quoted(c));
    if (!other.empty()) all.emplace_back(other);
    std::string s;
    for (std::size_t i = 0; i < all.size(); ++i) {
        if (i > 0) s += i + 1 == all.size() ? " or " : ", ";
        s += all[i];
    }
    return s;
}

// The closest of `candidates` to `word`, if at most two edits away (and not a whole rewrite).
std::string_view closest(std::string_view word, std::span<const std::string_view> candidates) {
    std::string_view best;
    std::size_t best_distance = 3;
    for (std::string_view c : candidates) {
        std::size_t d = detail::edit_distance(word, c);
        if (d < best_distance && d < c.size()) {
            best = c;
            best_distance = d;
        }
    }
    return best;
}

bool is_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// Empty if `h` is a host name a site may answer to: a DNS name (letters, digits, '-'; labels of
// 1-63 characters not starting or ending with '-'), optionally "*." + a name, an IPv4 address or
// an IPv6 address in brackets. Otherwise why not.
std::string host_problem(std::string_view h) {
    if (h.empty()) return "it is empty";
    if (h.size() > 253) return "it is longer than 253 characters";
    if (h.front() == '[') {
        std::string inner(h.substr(1, h.size() - 2));
        in6_addr a6;
        if (h.back() != ']' || inet_pton(AF_INET6, inner.c_str(), &a6) != 1) {
            return "expected an IPv6 address in brackets, like \"[::1]\"";
        }
        return {};
    }
    if (h.find(':') != std::string_view::npos) {
        in6_addr a6;
        std::string s(h);
        if (inet_pton(AF_INET6, s.c_str(), &a6) == 1) {
            return "put an IPv6 address in brackets, like \"[" + s + "]\"";
        }
        return "':' is not allowed (a host name has no port)";
    }
    if (h.back() == '.') return "remove the trailing '.'";
    std::string_view rest = h;
    if (rest.starts_with("*.")) rest.remove_prefix(2);
    std::size_t start = 0;
    while (start <= rest.size()) {
        std::size_t dot = rest.find('.', start);
        std::string_view label = rest.substr(
            start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
        if (label.empty()) return "it has an empty label ('..' or a leading '.')";
        if (label.size() > 63) return "a label is longer than 63 characters";
        for (char c : label) {
            if (c == '*')
                return "'*' is allowed only as the whole first label, like \"*.example.com\"";
            if (!is_alnum(c) && c != '-') {
                auto u = static_cast<unsigned char>(c);
                if (u < 0x20 || u >= 0x7F)
                    return "only ASCII letters, digits, '-' and '.' are allowed";
                return std::string("'") + c + "' is not allowed (use letters, digits, '-' and '.')";
            }
        }
        if (label.front() == '-' || label.back() == '-') {
            return "a label starts or ends with '-'";
        }
        if (dot == std::string_view::npos) break;
        start = dot + 1;
    }
    return {};
}

class reader {
public:
    reader(std::string_view text, std::string_view file) : positions_(text), file_(file) {
        std::size_t slash = file.rfind('/');
        if (slash != std::string_view::npos) base_dir_ = std::string(file.substr(0, slash + 1));
    }

    void read(const json_value& root, parsed_config& out) {
        record_positions(root, "", out);
        if (root.type != json_type::object) {
            problem(error_kind::invalid, "", root.offset,
                    "expected an object at the top level, found " + found(root));
            return;
        }
        auto m = members(root, "", scope::top);
        server::server_options& o = out.options;
        if (auto* v = m.get("storage")) read_path(*v, "storage", o.storage);
        if (auto* v = m.get("workers")) {
            long long n = 0;
            if (read_integer(*v, "workers", 0, 1024, "from 0 to 1024 (0: one per CPU)", n)) {
                o.workers = static_cast<unsigned>(n);
            }
        }
        if (auto* v = m.get("pidfile")) read_path(*v, "pidfile", o.pidfile);
        if (auto* v = m.get("strict_sni")) read_bool(*v, "strict_sni", o.strict_sni);
        if (auto* v = m.get("pin_cpus")) read_bool(*v, "pin_cpus", o.pin_cpus);
        if (auto* v = m.get("timeouts")) read_timeouts(*v, o);
        if (auto* v = m.get("log")) read_log(*v, out);
        if (auto* v = m.get("acme")) read_acme(*v, "acme", acme_defaults_);

        listen_choice https, http;
        if (auto* v = m.get("listen")) read_listen(*v, o, https, http);

        if (auto* v = m.get("sites")) {
            read_sites(*v, out);
        } else {
            problem(error_kind::invalid, "", root.offset,
                    "missing \"sites\" (the list of sites to serve)");
        }
        check_listeners(out, https, http);
    }

    bool failed() const { return !problems_.empty(); }

    // Appends the problems in text order.
    void take_errors(std::vector<config_error>& errors) {
        std::stable_sort(problems_.begin(), problems_.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
        for (auto& p : problems_) errors.push_back(std::move(p.second));
    }

private:
    // The members of an object by key: unknown and repeated keys are reported here.
    struct member_map {
        std::vector<const json_member*> list;
        const json_value* get(std::string_view key) const {
            for (const json_member* m : list) {
                if (m->key == key) return &m->value;
            }
            return nullptr;
        }
        const json_member* member(std::string_view key) const {
            for (const json_member* m : list) {
                if (m->key == key) return m;
            }
            return nullptr;
        }
    };

    struct listen_choice {
        bool given = false;
        bool off = false;
        std::string path;
        std::size_t offset = 0;
        net::endpoint where;
    };

    text_position position(std::size_t offset) { return positions_.at(offset); }

    config_error make(error_kind kind, std::string path, std::size_t offset, std::string message) {
        text_position p = position(offset);
        return config_error{kind,   std::string(file_), std::move(path),
                            p.line, p.column,           std::move(message)};
    }

    void problem(error_kind kind, std::string path, std::size_t offset, std::string message) {
        problems_.emplace_back(offset, make(kind, std::move(path), offset, std::move(message)));
    }

    void warn(std::string path, std::size_t offset, std::string message, parsed_config& out) {
        out.warnings.push_back(
            make(error_kind::invalid, std::move(path), offset, std::move(message)).to_string());
    }

    void expected(const json_value& v, const std::string& path, std::string_view what) {
        problem(error_kind::invalid, path, v.offset,
                "expected " + std::string(what) + ", found " + found(v));
    }

    std::string resolve(std::string_view p) const {
        if (p.front() == '/' || base_dir_.empty()) return std::string(p);
        return base_dir_ + std::string(p);
    }

    void record_positions(const json_value& v, const std::string& path, parsed_config& out) {
        out.positions.emplace(path, position(v.offset));
        for (std::size_t i = 0; i < v.items.size(); ++i) {
            record_positions(v.items[i], index(path, i), out);
        }
        for (const json_member& m : v.members) record_positions(m.value, join(path, m.key), out);
    }

    member_map members(const json_value& object, const std::string& path, scope s) {
        member_map map;
        const scope_info& here = info(s);
        for (const json_member& m : object.members) {
            std::string key_path = join(path, m.key);
            if (std::find(here.keys.begin(), here.keys.end(), m.key) == here.keys.end()) {
                problem(error_kind::unknown_key, key_path, m.key_offset,
                        "unknown key " + quoted(m.key) + " " +
                            (path.empty() ? std::string("at the top level") : "in " + path) +
                            unknown_key_hint(m.key, s));
                continue;
            }
            if (const json_member* first = map.member(m.key)) {
                text_position p = position(first->key_offset);
                problem(error_kind::invalid, key_path, m.key_offset,
                        "duplicate key: " + quoted(m.key) + " is also at " +
                            std::to_string(p.line) + ":" + std::to_string(p.column));
                continue;
            }
            map.list.push_back(&m);
        }
        return map;
    }

    static std::string unknown_key_hint(std::string_view key, scope s) {
        for (const scope_info& other : scopes) {
            if (other.s == s) continue;
            if (std::find(other.keys.begin(), other.keys.end(), key) != other.keys.end()) {
                return " (" + quoted(key) + " goes " + std::string(other.home) + ")";
            }
        }
        const scope_info& here = info(s);
        std::string_view near = closest(key, here.keys);
        if (!near.empty()) return " (did you mean " + quoted(near) + "?)";
        std::string list;
        for (std::string_view k : here.keys) list += (list.empty() ? "" : ", ") + std::string(k);
        return " (valid keys: " + list + ")";
    }

    bool read_string(const json_value& v, const std::string& path, std::string& out) {
        if (v.type != json_type::string) {
            expected(v, path, "a string");
            return false;
        }
        out = v.text;
        return true;
    }

    bool read_path(const json_value& v, const std::string& path, std::string& out) {
        std::string s;
        if (!read_string(v, path, s)) return false;
        if (s.empty()) {
            expected(v, path, "a path");
            return false;
        }
        out = resolve(s);
        return true;
    }

    bool read_bool(const json_value& v, const std::string& path, bool& out) {
        if (v.type != json_type::boolean) {
            expected(v, path, "true or false");
            return false;
        }
        out = v.boolean;
        return true;
    }

    // One of `allowed`; anything else is reported with a did-you-mean.
    bool read_choice(const json_value& v, const std::string& path,
                     std::span<const std::string_view> allowed, std::string_view extra,
                     std::string& out) {
        if (v.type == json_type::string &&
            std::find(allowed.begin(), allowed.end(), v.text) != allowed.end()) {
            out = v.text;
            return true;
        }
        std::string what = choices(allowed, extra);
        if (v.type != json_type::string) {
            expected(v, path, what);
            return false;
        }
        std::string_view near = closest(v.text, allowed);
        problem(error_kind::invalid, path, v.offset,
                "expected " + what + ", found " + quoted(v.text) +
                    (near.empty() ? "" : " (did you mean " + quoted(near) + "?)"));
        return false;
    }

    bool read_integer(const json_value& v, const std::string& path, long long min, long long max,
                      std::string_view range, long long& out) {
        std::string what = "a whole number " + std::string(range);
        if (v.type != json_type::number) {
            expected(v, path, what);
            return false;
        }
        long long n = 0;
        const char* end = v.text.data() + v.text.size();
        auto [p, ec] = std::from_chars(v.text.data(), end, n);
        if (ec != std::errc() || p != end || n < min || n > max) {
            problem(error_kind::invalid, path, v.offset, "expected " + what + ", found " + v.text);
            return false;
        }
        out = n;
        return true;
    }

    bool read_seconds(const json_value& v, const std::string& path, bool allow_zero,
                      std::int64_t& ns) {
        std::string what = allow_zero ? "a number of seconds from 0 to 86400"
                                      : "a number of seconds above 0, at most 86400";
        if (v.type != json_type::number) {
            expected(v, path, what);
            return false;
        }
        double s = 0;
        const char* end = v.text.data() + v.text.size();
        auto [p, ec] = std::from_chars(v.text.data(), end, s);
        std::int64_t n = ec == std::errc() && p == end && s >= 0 && s <= 86400
                             ? static_cast<std::int64_t>(std::llround(s * 1e9))
                             : -1;
        if (n < 0 || (n == 0 && !allow_zero)) {
            problem(error_kind::invalid, path, v.offset, "expected " + what + ", found " + v.text);
            return false;
        }
        ns = n;
        return true;
    }

    void read_timeouts(const json_value& v, server::server_options& o) {
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

    void read_log(const json_value& v, parsed_config& out) {
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

    void read_listen(const json_value& v, server::server_options& o, listen_choice& https,
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

    bool read_address(const json_value& v, const std::string& path, std::string_view example,
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

    void read_sites(const json_value& v, parsed_config& out) {
        if (v.type != json_type::array || v.items.empty()) {
            expected(v, "sites", "an array of sites, like [{\"hosts\": [...], \"root\": ...}]");
            return;
        }
        for (std::size_t i = 0; i < v.items.size(); ++i) read_site(v.items[i], i, out);
    }

    void read_site(const json_value& v, std::size_t i, parsed_config& out) {
        std::string path = index("sites", i);
        if (v.type != json_type::object) {
            expected(v, path, "an object like {\"hosts\": [...], \"root\": ...}");
            return;
        }
        auto m = members(v, path, scope::site);
        server::site_spec spec;
        tls_mode mode = tls_mode::internal;
        std::size_t tls_offset = v.offset;

        if (auto* hosts = m.get("hosts")) {
            read_hosts(*hosts, path, i, spec.hosts);
        } else {
            problem(error_kind::invalid, path, v.offset,
                    "missing \"hosts\" (the host names this site answers to)");
        }
        if (auto* root = m.get("root")) {
            read_path(*root, join(path, "root"), spec.root);
        } else {
            problem(error_kind::invalid, path, v.offset, "missing \"root\" (the folder to serve)");
        }
        if (auto* x = m.get("allow_dotfiles")) {
            read_bool(*x, join(path, "allow_dotfiles"), spec.allow_dotfiles);
        }
        if (auto* tls = m.get("tls")) {
            tls_offset = tls->offset;
            mode = read_tls(*tls, join(path, "tls"), spec);
        }
        if (mode == tls_mode::acme) {
            check_acme_hosts(spec, path, v.offset);
            for (const std::string& h : spec.hosts) out.acme_hosts.push_back(h);
        }
        if (mode == tls_mode::off) out.plain_sites.push_back(out.options.sites.size());
        out.site_tls.push_back(mode);
        site_offsets_.push_back(tls_offset);
        site_numbers_.push_back(i);
        out.options.sites.push_back(std::move(spec));
    }

    void read_hosts(const json_value& v, const std::string& site_path, std::size_t site,
                    std::vector<std::string>& out) {
        std::string path = join(site_path, "hosts");
        if (v.type != json_type::array || v.items.empty()) {
            expected(v, path, "an array of host names, like [\"example.com\"]");
            return;
        }
        for (std::size_t h = 0; h < v.items.size(); ++h) {
            const json_value& x = v.items[h];
            std::string hpath = index(path, h);
            if (x.type != json_type::string) {
                expected(x, hpath, "a host name");
                continue;
            }
            if (std::string why = host_problem(x.text); !why.empty()) {
                problem(error_kind::invalid, hpath, x.offset,
                        quoted(x.text) + " is not a valid host name: " + why);
                continue;
            }
            std::string name = ascii_lower(x.text);
            auto [it, fresh] = hosts_.emplace(name, std::pair{site, h});
            if (!fresh) {
                auto [other_site, other_host] = it->second;
                std::string where =
                    other_site == site
                        ? "is already listed at " + index(join(site_path, "hosts"), other_host)
                        : "is already served by " + index("sites", other_site);
                problem(error_kind::invalid, hpath, x.offset, quoted(x.text) + " " + where);
                continue;
            }
            out.push_back(std::move(name));
        }
    }

    tls_mode read_tls(const json_value& v, const std::string& path, server::site_spec& spec) {
        static constexpr std::string_view plain[] = {"off"};
        if (v.type == json_type::string) {
            std::string s;
            bool ok = read_choice(v, path, plain, "an object like {\"issuer\": \"internal\"}", s);
            return ok ? tls_mode::off : tls_mode::internal;
        }
        if (v.type != json_type::object) {
            expected(v, path, "\"off\" or an object like {\"issuer\": \"internal\"}");
            return tls_mode::internal;
        }
        auto m = members(v, path, scope::tls);
        const json_value* issuer = m.get("issuer");
        const json_value* cert = m.get("cert");
        const json_value* key = m.get("key");
        const json_value* acme = m.get("acme");
        if (cert) read_path(*cert, join(path, "cert"), spec.cert_file);
        if (key) read_path(*key, join(path, "key"), spec.key_file);
        if (issuer) {
            static constexpr std::string_view issuers[] = {"internal", "acme"};
            std::string name;
            if (cert || key) {
                problem(error_kind::invalid, path, v.offset,
                        "expected either \"issuer\" or \"cert\" and \"key\", found both");
                spec.cert_file.clear();
                spec.key_file.clear();
            }
            if (!read_choice(*issuer, join(path, "issuer"), issuers, "", name)) {
                return tls_mode::internal;
            }
            if (name == "acme") {
                spec.acme = acme_defaults_;
                if (acme) read_acme(*acme, join(path, "acme"), *spec.acme);
                return tls_mode::acme;
            }
            if (acme) {
                problem(error_kind::invalid, join(path, "acme"), acme->offset,
                        "\"acme\" needs \"issuer\": \"acme\"");
            }
            return tls_mode::internal;
        }
        if (acme) {
            problem(error_kind::invalid, join(path, "acme"), acme->offset,
                    "\"acme\" needs \"issuer\": \"acme\"");
        }
        if (cert && !key) {
            problem(error_kind::invalid, path, v.offset,
                    "\"cert\" needs \"key\" (the file with the certificate's private key)");
        } else if (key && !cert) {
            problem(error_kind::invalid, path, v.offset,
                    "\"key\" needs \"cert\" (the file with the certificate chain)");
        }
        return cert && key ? tls_mode::files : tls_mode::internal;
    }

    // Applies the keys present in `v` onto `out` (a site's object overrides the top level's).
    void read_acme(const json_value& v, const std::string& path, certs::acme::settings& out) {
        if (v.type != json_type::object) {
            expected(v, path, "an object like {\"directory\": \"https://...\"}");
            return;
        }
        auto m = members(v, path, scope::acme);
        if (auto* x = m.get("directory")) {
            std::string url;
            if (read_string(*x, join(path, "directory"), url)) {
                if (std::string why = url_problem(url); !why.empty()) {
                    problem(error_kind::invalid, join(path, "directory"), x->offset,
                            "expected the CA's directory URL, like \"" +
                                std::string(certs::acme::settings::lets_encrypt) + "\", found " +
                                quoted(url) + " (" + why + ")");
                } else {
                    out.directory = url;
                }
            }
        }
        if (auto* x = m.get("email")) {
            std::string email;
            if (read_string(*x, join(path, "email"), email)) {
                std::size_t at = email.find('@');
                bool ok = at != std::string::npos && at > 0 && at + 1 < email.size() &&
                          email.find('@', at + 1) == std::string::npos &&
                          std::none_of(email.begin(), email.end(), [](char c) {
                              return static_cast<unsigned char>(c) <= 0x20 || c == 0x7F ||
                                     c == ',' || c == '<' || c == '>';
                          });
                if (ok) {
                    out.email = email;
                } else {
                    problem(error_kind::invalid, join(path, "email"), x->offset,
                            "expected an email address like \"ops@example.com\", found " +
                                quoted(email));
                }
            }
        }
        if (auto* x = m.get("trusted_roots")) {
            read_path(*x, join(path, "trusted_roots"), out.trusted_roots);
        }
        if (auto* x = m.get("preferred_chain")) {
            read_string(*x, join(path, "preferred_chain"), out.preferred_chain);
        }
        if (auto* x = m.get("challenges")) read_challenges(*x, join(path, "challenges"), out);
        if (auto* x = m.get("eab")) read_eab(*x, join(path, "eab"), out);
    }

    static std::string url_problem(std::string_view url) {
        std::string_view rest;
        if (url.starts_with("https://")) {
            rest = url.substr(8);
        } else if (url.starts_with("http://")) {
            rest = url.substr(7);
        } else {
            return "it must start with https://";
        }
        std::string_view host = rest.substr(0, rest.find_first_of("/?#"));
        if (host.empty()) return "it has no host";
        for (char c : url) {
            if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7F) return "it contains a space";
        }
        return {};
    }

    void read_challenges(const json_value& v, const std::string& path, certs::acme::settings& out) {
        static constexpr std::string_view names[] = {"http-01", "tls-alpn-01"};
        if (v.type != json_type::array || v.items.empty()) {
            expected(v, path, "a list like [\"http-01\", \"tls-alpn-01\"]");
            return;
        }
        std::vector<certs::acme::challenge_type> list;
        for (std::size_t i = 0; i < v.items.size(); ++i) {
            std::string name;
            if (!read_choice(v.items[i], index(path, i), names, "", name)) continue;
            auto t = name == "http-01" ? certs::acme::challenge_type::http_01
                                       : certs::acme::challenge_type::tls_alpn_01;
            if (std::find(list.begin(), list.end(), t) != list.end()) {
                problem(error_kind::invalid, index(path, i), v.items[i].offset,
                        quoted(name) + " is listed twice");
                continue;
            }
            list.push_back(t);
        }
        if (!list.empty()) out.challenges = std::move(list);
    }

    void read_eab(const json_value& v, const std::string& path, certs::acme::settings& out) {
        if (v.type != json_type::object) {
            expected(v, path, "an object like {\"key_id\": \"...\", \"hmac_key\": \"...\"}");
            return;
        }
        auto m = members(v, path, scope::eab);
        certs::acme::eab_settings eab;
        const json_value* kid = m.get("key_id");
        const json_value* key = m.get("hmac_key");
        if (!kid || !key) {
            problem(error_kind::invalid, path, v.offset,
                    std::string("missing ") + (kid ? "\"hmac_key\"" : "\"key_id\"") +
                        " (both come from the CA)");
            return;
        }
        bool ok = read_string(*kid, join(path, "key_id"), eab.key_id);
        ok = read_string(*key, join(path, "hmac_key"), eab.hmac_key) && ok;
        if (!ok) return;
        if (eab.key_id.empty()) {
            expected(*kid, join(path, "key_id"), "the key identifier the CA gave you");
            return;
        }
        bool b64url = !eab.hmac_key.empty() &&
                      std::all_of(eab.hmac_key.begin(), eab.hmac_key.end(), [](char c) {
                          return is_alnum(c) || c == '-' || c == '_' || c == '=';
                      });
        if (!b64url) {
            problem(error_kind::invalid, join(path, "hmac_key"), key->offset,
                    "expected the base64url HMAC key the CA gave you");
            return;
        }
        out.eab = std::move(eab);
    }

    // ACME validates each name over HTTP or TLS on this server: wildcards need DNS-01.
    void check_acme_hosts(const server::site_spec& spec, const std::string& path,
                          std::size_t offset) {
        if (spec.hosts.empty()) {
            problem(error_kind::invalid, path, offset,
                    "\"issuer\": \"acme\" needs the site's \"hosts\" (the names to certify)");
        }
        for (const std::string& h : spec.hosts) {
            bool ip = h.front() == '[' || std::all_of(h.begin(), h.end(), [](char c) {
                          return (c >= '0' && c <= '9') || c == '.';
                      });
            if (ip) {
                problem(error_kind::invalid, join(path, "hosts"), offset,
                        quoted(h) +
                            ": ringlet does not order certificates for IP addresses yet; use "
                            "\"cert\" and \"key\" files, or the internal CA");
            }
            if (h.starts_with("*.")) {
                problem(error_kind::invalid, join(path, "hosts"), offset,
                        quoted(h) +
                            ": a wildcard certificate needs the dns-01 challenge, which ringlet "
                            "does not support yet; use \"cert\" and \"key\" files for it");
            }
        }
    }

    static bool overlaps(const net::endpoint& a, const net::endpoint& b) {
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
        return IN6_ARE_ADDR_EQUAL(&x, &y) || IN6_IS_ADDR_UNSPECIFIED(&x) ||
               IN6_IS_ADDR_UNSPECIFIED(&y);
    }

    // Cross-checks between the sites' TLS and the listeners; sets options.tls.
    void check_listeners(parsed_config& out, const listen_choice& https,
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
                bool only_http =
                    acme->challenges == std::vector{certs::acme::challenge_type::http_01};
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
                    "expected a different port from listen." +
                        std::string(at_http ? "https" : "http") + ", found " +
                        quoted(at_http ? out.options.http_listen : out.options.https_listen) +
                        " (the same port as " +
                        quoted(at_http ? out.options.https_listen : out.options.http_listen) + ")");
        }
    }

    certs::acme::settings acme_defaults_; // the top-level "acme" object over the defaults
    detail::position_finder positions_;
    std::string_view file_;
    std::string base_dir_; // the config file's folder with a trailing '/', or empty
    std::vector<std::pair<std::size_t, config_error>> problems_;
    std::map<std::string, std::pair<std::size_t, std::size_t>> hosts_; // -> site, index
    // Per entry of options.sites: its "tls" value (else the site object) and its index in "sites"
    // (they differ once an entry that is not an object has been skipped).
    std::vector<std::size_t> site_offsets_;
    std::vector<std::size_t> site_numbers_;
};

} // namespace

result<parsed_config> parse_config(std::string_view json, std::string_view file_name,
                                   std::vector<config_error>& errors) {
    detail::json_value root;
    detail::syntax_error syntax;
    if (!detail::parse_json(json, root, syntax)) {
        text_position p = detail::position_at(json, syntax.offset);
        errors.push_back(config_error{error_kind::syntax, std::string(file_name), "", p.line,
                                      p.column, std::move(syntax.message)});
        return fail_errno(EINVAL);
    }
    parsed_config out;
    reader r(json, file_name);
    r.read(root, out);
    if (r.failed()) {
        r.take_errors(errors);
        return fail_errno(EINVAL);
    }
    return out;
}

} // namespace ringlet::config
