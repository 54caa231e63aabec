// The configuration file: the JSON an operator writes, turned into the same server_options the
// command line fills (src/server/cli.cpp), plus what server_options cannot say yet.
//
//   {
//     "storage": "/var/lib/ringlet",          // certificates and keys (default: as the CLI)
//     "workers": 0,                           // 0..1024; 0: one reactor per CPU
//     "listen": { "https": "0.0.0.0:443",     // IP:PORT, or "off" (only if every site is plain)
//                 "http": "0.0.0.0:80" },     // IP:PORT, or "off": no plain listener
//     "sites": [                              // at least one; the first is the default site
//       { "hosts": ["example.com"],           // at least one; DNS names, "*.x" wildcards, IPv4,
//         "root": "/srv/example",             //   "[IPv6]"; unique across all sites
//         "allow_dotfiles": false,
//         "tls": { "issuer": "internal" } }   // or {"issuer": "acme"}, {"cert": F, "key": F},
//     ],                                      //   or "off" (plain HTTP); absent or {}: internal
//     "log": { "level": "info",               // debug, info, warn, error or off
//              "access": "stderr" },          // "stderr", "off" or a path containing '/'
//     "timeouts": { "header": 10, "keepalive": 30,   // seconds, fractions allowed, above 0
//                   "send": 30, "handshake": 10,
//                   "drain": 10 },                   // 0 allowed: stop at once
//     "pidfile": "/run/ringlet.pid",
//     "strict_sni": false,
//     "pin_cpus": false,
//     "acme": {                               // for sites with "tls": {"issuer": "acme"}; a
//       "directory": "https://…/directory",   //   site's "tls": {"acme": {...}} overrides keys
//       "email": "ops@example.com",           // account contact (optional)
//       "trusted_roots": "ca.pem",            // the CA server's roots (default: the system's)
//       "challenges": ["http-01", "tls-alpn-01"],
//       "eab": {"key_id": "…", "hmac_key": "…"},   // external account binding, if the CA wants
//       "preferred_chain": "ISRG Root X1"     // issuer name of the chain to prefer
//     }
//   }
//
// Absent keys keep server_options' defaults (the CLI's), listen addresses included. Relative
// paths (root, cert, key, storage, pidfile, log.access) are relative to the folder of the config
// file, so a reload does not depend on the server's working directory. Host names are
// lower-cased. JSON's own rules hold: no comments, no trailing commas; a key given twice is an
// error.
//
// Parsing is pure: parse_config() looks only at the text. check_environment() then looks at the
// machine (folders, certificate files, free ports). Errors are values: every one names the file,
// the line and column, the JSON path and what was expected and found:
//
//   ringlet.json:7:80: sites[1].tls.cert: expected a string, found a number
//   ringlet.json:4:7: unknown key "hots" in sites[0] (did you mean "hosts"?)
//   ringlet.json:2:3: unknown key "root" at the top level ("root" goes in each entry of "sites")
//   ringlet.json:9:17: sites[2].hosts[0]: "example.com" is already served by sites[0]
//   ringlet.json:3:5: sites[1]: missing "root" (the folder to serve)
//   ringlet.json:3:3: expected ',' or '}' after a value, found "sites"
//   ringlet.json:3:55: expected '}' to close the object that starts at 1:1, found the end of the
//                      file
//   ringlet.json:5:14: sites[0].root: /srv/x: No such file or directory     (check_environment)
#pragma once

#include "ringlet/base/log.hpp"
#include "ringlet/base/result.hpp"
#include "ringlet/server/server.hpp"

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace ringlet::config {

// 1-based; a column counts UTF-8 characters, not bytes. {0, 0}: no position.
struct text_position {
    int line = 0;
    int column = 0;
};

enum class error_kind {
    syntax,      // the text is not JSON; parsing stops at the first one
    unknown_key, // a key that has no meaning where it is
    invalid,     // a wrong type, a bad or missing value, a conflict between values
    environment, // check_environment(): a missing folder, a bad certificate, a port in use
};

struct config_error {
    error_kind kind = error_kind::invalid;
    std::string file;
    std::string path; // JSON path of the offending value or key: "sites[1].tls.cert"; "" = root
    int line = 0, column = 0;
    std::string message;

    // "FILE:LINE:COL: PATH: MESSAGE". The path is left out when empty, and for syntax errors and
    // unknown keys, whose messages say where they are ("unknown key "x" in sites[0]"). Without a
    // position (line 0): "FILE: PATH: MESSAGE".
    std::string to_string() const;
};

// How a site gets its certificate.
enum class tls_mode {
    internal, // "tls" absent, {} or {"issuer": "internal"}: ringlet's internal CA
    files,    // {"cert": F, "key": F}: site_spec::cert_file / key_file
    acme,     // {"issuer": "acme"}: site_spec::acme, from the top-level "acme" and the site's own
    off,      // "off": plain HTTP, no certificate
};

struct parsed_config {
    server::server_options options;

    // One entry per options.sites entry, same order.
    std::vector<tls_mode> site_tls;
    // The indices (into options.sites) of the "tls": "off" sites. server_options has one global
    // `tls` flag, so a plain site is represented here: such a site is meant to be served on the
    // http listener as itself (no redirect to HTTPS) while the other sites' hosts are redirected.
    // When every site is plain, options.tls is false (the CLI's --no-tls) and this lists them all.
    std::vector<std::size_t> plain_sites;
    // The hosts of the {"issuer": "acme"} sites, in order.
    std::vector<std::string> acme_hosts;

    log::level log_level = log::level::info; // for log::set_level (parsing never sets it)
    std::string access_log = "stderr";       // "stderr", "off" or a file path

    // Not errors, formatted like config_error::to_string(): "FILE:L:C: PATH: MESSAGE".
    std::vector<std::string> warnings;

    // Where each value is in the text, by JSON path ("sites[0].root" -> 7:15); for
    // check_environment() and for reload logs.
    std::map<std::string, text_position, std::less<>> positions;
    text_position position_of(std::string_view path) const;
};

// Parses and checks a config document. `file_name` only labels errors and anchors relative paths.
// On success returns the config (errors untouched). On failure returns an invalid_argument error
// and APPENDS to `errors` every problem found, in text order: one syntax error if the text is not
// JSON, otherwise all unknown keys, wrong types and invalid values.
result<parsed_config> parse_config(std::string_view json, std::string_view file_name,
                                   std::vector<config_error>& errors);

// What check_environment() looks at.
struct environment_checks {
    std::int64_t now = -1; // unix seconds for certificate validity; -1: the current time
    bool ports = true;     // try to bind each listen address (off while the server holds them)
};

// Checks the machine without changing it: every root exists and is a folder we can read;
// every certificate and key file is readable, the key matches, the chain is in order, the leaf
// is valid now and names every host of its site; the pidfile's and access log's folders exist;
// storage, if it exists, is a folder; and each listen address can be bound right now (a bind
// without SO_REUSEPORT, released at once: "port in use"). Errors carry the JSON path and the
// position of the value they are about (from c.positions).
std::vector<config_error> check_environment(const parsed_config& c, std::string_view file_name,
                                            environment_checks checks = {});

} // namespace ringlet::config
