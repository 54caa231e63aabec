// parse_config(): JSON text to a parsed_config. This file holds the entry point, the top level of
// the document and the sites with their host names; the reader's other parts are in
// parse_values.cpp, parse_listen.cpp and parse_tls.cpp (see parse_reader.hpp).
#include "config/parse_reader.hpp"

#include "ringlet/base/ascii.hpp"
#include "ringlet/config/config.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>

namespace ringlet::config {

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

namespace detail {

namespace {

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

} // namespace

reader::reader(std::string_view text, std::string_view file) : positions_(text), file_(file) {
    std::size_t slash = file.rfind('/');
    if (slash != std::string_view::npos) base_dir_ = std::string(file.substr(0, slash + 1));
}

void reader::read(const json_value& root, parsed_config& out) {
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

void reader::take_errors(std::vector<config_error>& errors) {
    std::stable_sort(problems_.begin(), problems_.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& p : problems_) errors.push_back(std::move(p.second));
}

void reader::read_sites(const json_value& v, parsed_config& out) {
    if (v.type != json_type::array || v.items.empty()) {
        expected(v, "sites", "an array of sites, like [{\"hosts\": [...], \"root\": ...}]");
        return;
    }
    for (std::size_t i = 0; i < v.items.size(); ++i) read_site(v.items[i], i, out);
}

void reader::read_site(const json_value& v, std::size_t i, parsed_config& out) {
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

void reader::read_hosts(const json_value& v, const std::string& site_path, std::size_t site,
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

} // namespace detail

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
    detail::reader r(json, file_name);
    r.read(root, out);
    if (r.failed()) {
        r.take_errors(errors);
        return fail_errno(EINVAL);
    }
    return out;
}

} // namespace ringlet::config
