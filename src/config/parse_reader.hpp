// The config reader: walks the JSON tree of a config document into a parsed_config, collecting
// every problem on the way. Private to src/config: parse_config() (parse.cpp) is its only user.
//
// One class whose member functions are spread over several files, one per part of the document:
//   parse.cpp         the top level, "sites" and "hosts", and parse_config() itself
//   parse_values.cpp  keys (unknown, repeated) and the plain value readers all parts share
//   parse_listen.cpp  "listen", "timeouts", "log", and the cross-checks with the listeners
//   parse_tls.cpp     a site's "tls" and the "acme" settings
#pragma once

#include "config/json_tree.hpp"

#include "ringlet/config/config.hpp"
#include "ringlet/net/endpoint.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ringlet::config::detail {

// Where a key is valid. Each scope lists its keys (parse_values.cpp); an unknown key that is valid
// in another scope gets "goes in ..." instead of a did-you-mean.
enum class scope { top, site, tls, listen, log, timeouts, acme, eab };

// The JSON path of `key` in the object at `path`: "sites[0].root", or "x[\"a b\"]" for a key that
// is not a plain word.
std::string join(std::string_view path, std::string_view key);

// The JSON path of item `i` of the array at `path`: "sites[2]".
std::string index(std::string_view path, std::size_t i);

// What a value is, for "found ...": "a string", "an empty array", "null", "true".
std::string found(const json_value& v);

inline bool is_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

class reader {
public:
    reader(std::string_view text, std::string_view file);

    void read(const json_value& root, parsed_config& out);

    bool failed() const { return !problems_.empty(); }

    // Appends the problems in text order.
    void take_errors(std::vector<config_error>& errors);

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

    // parse_values.cpp: positions, problems and the value readers.
    text_position position(std::size_t offset) { return positions_.at(offset); }
    config_error make(error_kind kind, std::string path, std::size_t offset, std::string message);
    void problem(error_kind kind, std::string path, std::size_t offset, std::string message);
    void warn(std::string path, std::size_t offset, std::string message, parsed_config& out);
    void expected(const json_value& v, const std::string& path, std::string_view what);
    std::string resolve(std::string_view p) const;
    void record_positions(const json_value& v, const std::string& path, parsed_config& out);
    member_map members(const json_value& object, const std::string& path, scope s);
    bool read_string(const json_value& v, const std::string& path, std::string& out);
    bool read_path(const json_value& v, const std::string& path, std::string& out);
    bool read_bool(const json_value& v, const std::string& path, bool& out);
    // One of `allowed`; anything else is reported with a did-you-mean.
    bool read_choice(const json_value& v, const std::string& path,
                     std::span<const std::string_view> allowed, std::string_view extra,
                     std::string& out);
    bool read_integer(const json_value& v, const std::string& path, long long min, long long max,
                      std::string_view range, long long& out);
    bool read_seconds(const json_value& v, const std::string& path, bool allow_zero,
                      std::int64_t& ns);

    // parse.cpp: the sites.
    void read_sites(const json_value& v, parsed_config& out);
    void read_site(const json_value& v, std::size_t i, parsed_config& out);
    void read_hosts(const json_value& v, const std::string& site_path, std::size_t site,
                    std::vector<std::string>& out);

    // parse_listen.cpp: listeners, timeouts, log.
    void read_timeouts(const json_value& v, server::server_options& o);
    void read_log(const json_value& v, parsed_config& out);
    void read_listen(const json_value& v, server::server_options& o, listen_choice& https,
                     listen_choice& http);
    bool read_address(const json_value& v, const std::string& path, std::string_view example,
                      listen_choice& out);
    // Cross-checks between the sites' TLS and the listeners; sets options.tls.
    void check_listeners(parsed_config& out, const listen_choice& https, const listen_choice& http);

    // parse_tls.cpp: a site's "tls" and "acme".
    tls_mode read_tls(const json_value& v, const std::string& path, server::site_spec& spec);
    // Applies the keys present in `v` onto `out` (a site's object overrides the top level's).
    void read_acme(const json_value& v, const std::string& path, certs::acme::settings& out);
    void read_challenges(const json_value& v, const std::string& path, certs::acme::settings& out);
    void read_eab(const json_value& v, const std::string& path, certs::acme::settings& out);
    // ACME validates each name over HTTP or TLS on this server: wildcards need DNS-01.
    void check_acme_hosts(const server::site_spec& spec, const std::string& path,
                          std::size_t offset);

    certs::acme::settings acme_defaults_; // the top-level "acme" object over the defaults
    position_finder positions_;
    std::string_view file_;
    std::string base_dir_; // the config file's folder with a trailing '/', or empty
    std::vector<std::pair<std::size_t, config_error>> problems_;
    std::map<std::string, std::pair<std::size_t, std::size_t>> hosts_; // -> site, index
    // Per entry of options.sites: its "tls" value (else the site object) and its index in "sites"
    // (they differ once an entry that is not an object has been skipped).
    std::vector<std::size_t> site_offsets_;
    std::vector<std::size_t> site_numbers_;
};

} // namespace ringlet::config::detail
