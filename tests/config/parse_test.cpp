#include "ringlet/config/config.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace ringlet;
using config::parse_config;
using config::tls_mode;

namespace {

// The config from the issue.
constexpr std::string_view issue_example = R"({
  "storage": "/var/lib/ringlet",
  "workers": 0,
  "listen": { "https": "0.0.0.0:443", "http": "0.0.0.0:80" },
  "sites": [
    { "hosts": ["example.com", "www.example.com"], "root": "/srv/example", "tls": { "issuer": "acme" } },
    { "hosts": ["static.example.net"], "root": "/srv/static", "tls": { "cert": "/etc/ringlet/static.crt", "key": "/etc/ringlet/static.key" } },
    { "hosts": ["localhost"], "root": "/srv/dev", "tls": { "issuer": "internal" } },
    { "hosts": ["plain.example.org"], "root": "/srv/plain", "tls": "off" }
  ],
  "log": { "level": "info", "access": "stderr" }
}
)";

std::vector<std::string> error_lines(std::string_view json,
                                     std::string_view file = "ringlet.json") {
    std::vector<config::config_error> errors;
    auto r = parse_config(json, file, errors);
    std::vector<std::string> out;
    for (const auto& e : errors) out.push_back(e.to_string());
    if (r && !errors.empty()) out.push_back("<result has a value despite errors>");
    if (!r && errors.empty()) out.push_back("<failed without errors>");
    return out;
}

struct broken {
    const char* name;
    std::string_view json;
    std::vector<std::string> expected;
};

// A site that is fine, to make rows about other keys complete.
#define SITE R"({ "hosts": ["a.test"], "root": "/srv/a" })"

const broken broken_configs[] = {
    // --- not JSON: one error, at the best position ---
    {"missing closing brace at the end",
     "{\n  \"workers\": 1,\n  \"sites\": [" SITE "]\n",
     {"ringlet.json:3:55: expected '}' to close the object that starts at 1:1, found the end of "
      "the file"}},
    {"missing brace inside",
     "{\n  \"sites\": [\n    { \"hosts\": [\"a.test\"], \"root\": \"/srv/a\"\n  ],\n"
     "  \"workers\": 1\n}\n",
     {"ringlet.json:4:3: expected '}' to close the object that starts at 3:5, found ']'"}},
    {"trailing comma in an object",
     "{\n  \"workers\": 1,\n}\n",
     {"ringlet.json:3:1: expected a key after ',', found '}' (JSON allows no comma after the "
      "last member)"}},
    {"trailing comma in an array",
     R"({ "sites": [ { "hosts": ["a.test", ], "root": "/srv/a" } ] })",
     {"ringlet.json:1:36: expected a value after ',', found ']' (JSON allows no comma after the "
      "last element)"}},
    {"bad literal",
     "{\n  \"strict_sni\": tru\n}",
     {"ringlet.json:2:17: expected a value, found 'tru' (did you mean true?)"}},
    {"unquoted string",
     R"({ "sites": [ { "hosts": ["a.test"], "root": "/srv/a", "tls": off } ] })",
     {"ringlet.json:1:62: expected a value, found 'off' (strings need double quotes)"}},
    {"unquoted key",
     "{ workers: 1 }",
     {"ringlet.json:1:3: expected a key in double quotes, found 'workers' (keys need double "
      "quotes)"}},
    {"missing comma between members",
     "{\n  \"workers\": 1\n  \"sites\": []\n}",
     {"ringlet.json:3:3: expected ',' or '}' after a value, found \"sites\""}},
    {"missing comma between elements",
     R"({ "sites": [ { "hosts": ["a.test" "b.test"], "root": "/srv/a" } ] })",
     {"ringlet.json:1:35: expected ',' or ']' after a value, found \"b.test\""}},
    {"missing colon",
     "{ \"workers\" 1 }",
     {"ringlet.json:1:13: expected ':' after the key, found '1'"}},
    {"missing value", "{ \"workers\": }", {"ringlet.json:1:14: expected a value, found '}'"}},
    {"comment",
     "{\n  // the sites\n  \"sites\": [" SITE "]\n}",
     {"ringlet.json:2:3: expected JSON, found a comment ('//'): JSON has no comments"}},
    {"unterminated string",
     "{\n  \"storage\": \"/var/lib/ringlet,\n  \"sites\": [" SITE "]\n}",
     {"ringlet.json:2:32: expected '\"' to close the string that starts at 2:14, found the end "
      "of the line"}},
    {"bad escape",
     R"({ "storage": "C:\data" })",
     {"ringlet.json:1:17: expected an escape sequence (\\\" \\\\ \\/ \\b \\f \\n \\r \\t or "
      "\\uXXXX), found '\\d'"}},
    {"control character in a string",
     "{ \"storage\": \"a\tb\" }",
     {"ringlet.json:1:16: expected a printable character in a string, found a control character "
      "(write it as \\u0009)"}},
    {"leading zero", "{ \"workers\": 01 }", {"ringlet.json:1:14: expected a number, found '01'"}},
    {"text after the object",
     "{ \"sites\": [" SITE "] }\nx",
     {"ringlet.json:2:1: expected the end of the file after the top-level object, found 'x'"}},
    {"extra closing brace",
     "{ \"sites\": [" SITE "] }}",
     {"ringlet.json:1:57: expected the end of the file, found '}' (nothing is open for it to "
      "close)"}},
    {"empty file", "\n", {"ringlet.json:1:1: expected a JSON object, found the end of the file"}},
    {"array at the top",
     "[" SITE "]",
     {"ringlet.json:1:1: expected an object at the top level, found an array"}},
    {"columns count characters, not bytes",
     "{ \"storage\": \"/srv/caf\xC3\xA9\", \"workers\": 1 \"sites\": [] }",
     {"ringlet.json:1:40: expected ',' or '}' after a value, found \"sites\""}},

    // --- unknown keys ---
    {"unknown top-level key, close to a valid one",
     "{\n  \"wokers\": 2,\n  \"sites\": [" SITE "]\n}",
     {"ringlet.json:2:3: unknown key \"wokers\" at the top level (did you mean \"workers\"?)"}},
    {"unknown top-level key, nothing close",
     "{\n  \"colour\": \"red\",\n  \"sites\": [" SITE "]\n}",
     {"ringlet.json:2:3: unknown key \"colour\" at the top level (valid keys: storage, workers, "
      "listen, sites, log, timeouts, pidfile, strict_sni, pin_cpus, acme)"}},
    {"site key at the top level",
     "{\n  \"root\": \"/srv/a\",\n  \"sites\": [" SITE "]\n}",
     {"ringlet.json:2:3: unknown key \"root\" at the top level (\"root\" goes in each entry of "
      "\"sites\")"}},
    {"unknown key in a site, close to a valid one",
     "{\n  \"sites\": [\n    { \"hots\": [\"a.test\"], \"root\": \"/srv/a\" }\n  ]\n}",
     {"ringlet.json:3:5: sites[0]: missing \"hosts\" (the host names this site answers to)",
      "ringlet.json:3:7: unknown key \"hots\" in sites[0] (did you mean \"hosts\"?)"}},
    {"unknown key in a site, nothing close",
     R"({ "sites": [ { "hosts": ["a.test"], "root": "/srv/a", "gzip": true } ] })",
     {"ringlet.json:1:55: unknown key \"gzip\" in sites[0] (valid keys: hosts, root, tls, "
      "allow_dotfiles)"}},
    {"tls key in a site",
     R"({ "sites": [ { "hosts": ["a.test"], "root": "/srv/a", "cert": "/c.pem" } ] })",
     {"ringlet.json:1:55: unknown key \"cert\" in sites[0] (\"cert\" goes in a site's \"tls\")"}},
    {"unknown key in tls",
     R"({ "sites": [ { "hosts": ["a.test"], "root": "/srv/a", "tls": { "crt": "/c" } } ] })",
     {"ringlet.json:1:64: unknown key \"crt\" in sites[0].tls (did you mean \"cert\"?)"}},
    {"unknown key in timeouts",
     "{ \"sites\": [" SITE "], \"timeouts\": { \"idle\": 3 } }",
     {"ringlet.json:1:71: unknown key \"idle\" in timeouts (valid keys: header, keepalive, drain, "
      "send, handshake)"}},
    {"duplicate key",
     R"({ "sites": [ { "hosts": ["a.test"], "root": "/srv/a", "root": "/srv/b" } ] })",
     {"ringlet.json:1:55: sites[0].root: duplicate key: \"root\" is also at 1:37"}},

    // --- wrong types ---
    {"string where a number belongs",
     "{ \"workers\": \"4\", \"sites\": [" SITE "] }",
     {"ringlet.json:1:14: workers: expected a whole number from 0 to 1024 (0: one per CPU), "
      "found a string"}},
    {"number where a string belongs",
     R"({ "sites": [ { "hosts": ["a.test"], "root": "/srv/a", "tls": { "cert": 5, "key": "/k" } } ] })",
     {"ringlet.json:1:72: sites[0].tls.cert: expected a string, found a number"}},
    {"string where an array belongs",
     R"({ "sites": [ { "hosts": "a.test", "root": "/srv/a" } ] })",
     {"ringlet.json:1:25: sites[0].hosts: expected an array of host names, like "
      "[\"example.com\"], found a string"}},
    {"string where a boolean belongs",
     "{ \"strict_sni\": \"yes\", \"sites\": [" SITE "] }",
     {"ringlet.json:1:17: strict_sni: expected true or false, found a string"}},
    {"sites not an array",
     "{ \"sites\": { \"hosts\": [\"a.test\"] } }",
     {"ringlet.json:1:12: sites: expected an array of sites, like [{\"hosts\": [...], \"root\": "
      "...}], found an object"}},
    {"site not an object",
     "{ \"sites\": [ \"/srv/a\" ] }",
     {"ringlet.json:1:14: sites[0]: expected an object like {\"hosts\": [...], \"root\": ...}, "
      "found a string"}},

    // --- bad values ---
    {"duplicate host across sites",
     "{\n  \"sites\": [\n"
     "    { \"hosts\": [\"example.com\"], \"root\": \"/srv/a\" },\n"
     "    { \"hosts\": [\"b.test\"], \"root\": \"/srv/b\" },\n"
     "    { \"hosts\": [\"Example.COM\"], \"root\": \"/srv/c\" }\n  ]\n}",
     {"ringlet.json:5:17: sites[2].hosts[0]: \"Example.COM\" is already served by sites[0]"}},
    {"duplicate host in one site",
     R"({ "sites": [ { "hosts": ["a.test", "a.test"], "root": "/srv/a" } ] })",
     {"ringlet.json:1:36: sites[0].hosts[1]: \"a.test\" is already listed at sites[0].hosts[0]"}},
    {"missing root",
     "{\n  \"sites\": [\n    { \"hosts\": [\"a.test\"] }\n  ]\n}",
     {"ringlet.json:3:5: sites[0]: missing \"root\" (the folder to serve)"}},
    {"empty root",
     R"({ "sites": [ { "hosts": ["a.test"], "root": "" } ] })",
     {"ringlet.json:1:45: sites[0].root: expected a path, found an empty string"}},
    {"missing sites",
     "{ \"workers\": 1 }",
     {"ringlet.json:1:1: missing \"sites\" (the list of sites to serve)"}},
    {"no sites",
     "{ \"sites\": [] }",
     {"ringlet.json:1:12: sites: expected an array of sites, like [{\"hosts\": [...], \"root\": "
      "...}], found an empty array"}},
    {"hosts empty",
     R"({ "sites": [ { "hosts": [], "root": "/srv/a" } ] })",
     {"ringlet.json:1:25: sites[0].hosts: expected an array of host names, like "
      "[\"example.com\"], found an empty array"}},
    {"invalid host names",
     R"({ "sites": [ { "hosts": ["exa mple.com", "a.*.test", "::1", "a.test.", "-a.test"], "root": "/srv/a" } ] })",
     {"ringlet.json:1:26: sites[0].hosts[0]: \"exa mple.com\" is not a valid host name: ' ' is "
      "not allowed (use letters, digits, '-' and '.')",
      "ringlet.json:1:42: sites[0].hosts[1]: \"a.*.test\" is not a valid host name: '*' is "
      "allowed only as the whole first label, like \"*.example.com\"",
      "ringlet.json:1:54: sites[0].hosts[2]: \"::1\" is not a valid host name: put an IPv6 "
      "address in brackets, like \"[::1]\"",
      "ringlet.json:1:61: sites[0].hosts[3]: \"a.test.\" is not a valid host name: remove the "
      "trailing '.'",
      "ringlet.json:1:72: sites[0].hosts[4]: \"-a.test\" is not a valid host name: a label "
      "starts or ends with '-'"}},
    {"cert without key",
     R"({ "sites": [ { "hosts": ["a.test"], "root": "/srv/a", "tls": { "cert": "/c.pem" } } ] })",
     {"ringlet.json:1:62: sites[0].tls: \"cert\" needs \"key\" (the file with the certificate's "
      "private key)"}},
    {"key without cert",
     R"({ "sites": [ { "hosts": ["a.test"], "root": "/srv/a", "tls": { "key": "/k.pem" } } ] })",
     {"ringlet.json:1:62: sites[0].tls: \"key\" needs \"cert\" (the file with the certificate "
      "chain)"}},
    {"issuer and files",
     R"({ "sites": [ { "hosts": ["a.test"], "root": "/srv/a", "tls": { "issuer": "internal", "cert": "/c", "key": "/k" } } ] })",
     {"ringlet.json:1:62: sites[0].tls: expected either \"issuer\" or \"cert\" and \"key\", found "
      "both"}},
    {"unknown issuer",
     R"({ "sites": [ { "hosts": ["a.test"], "root": "/srv/a", "tls": { "issuer": "letsencrypt" } } ] })",
     {"ringlet.json:1:74: sites[0].tls.issuer: expected \"internal\" or \"acme\", found "
      "\"letsencrypt\""}},
    {"tls misspelt off",
     R"({ "sites": [ { "hosts": ["a.test"], "root": "/srv/a", "tls": "of" } ] })",
     {"ringlet.json:1:62: sites[0].tls: expected \"off\" or an object like {\"issuer\": "
      "\"internal\"}, found \"of\" (did you mean \"off\"?)"}},
    {"bad listen address",
     "{ \"listen\": { \"https\": \"0.0.0.0:99999\", \"http\": \"example.com:80\" },\n"
     "  \"sites\": [" SITE "] }",
     {"ringlet.json:1:24: listen.https: expected an address like \"0.0.0.0:443\" or "
      "\"[::]:443\", or \"off\", found \"0.0.0.0:99999\"",
      "ringlet.json:1:49: listen.http: expected an address like \"0.0.0.0:80\" or \"[::]:80\", or "
      "\"off\", found \"example.com:80\""}},
    {"both listeners on one port",
     "{ \"listen\": { \"https\": \"0.0.0.0:8443\", \"http\": \"127.0.0.1:8443\" },\n"
     "  \"sites\": [" SITE "] }",
     {"ringlet.json:1:48: listen.http: expected a different port from listen.https, found "
      "\"127.0.0.1:8443\" (the same port as \"0.0.0.0:8443\")"}},
    {"https off with a TLS site",
     "{ \"listen\": { \"https\": \"off\" }, \"sites\": [" SITE "] }",
     {"ringlet.json:1:24: listen.https: expected an address: \"off\" leaves sites[0] (a TLS "
      "site) without a listener"}},
    {"http off with a plain site",
     R"({ "listen": { "http": "off" }, "sites": [ { "hosts": ["a.test"], "root": "/srv/a", "tls": "off" } ] })",
     {"ringlet.json:1:91: sites[0].tls: \"off\" needs the plain HTTP listener, but listen.http "
      "is \"off\""}},
    {"workers -1",
     "{ \"workers\": -1, \"sites\": [" SITE "] }",
     {"ringlet.json:1:14: workers: expected a whole number from 0 to 1024 (0: one per CPU), "
      "found -1"}},
    {"workers too many",
     "{ \"workers\": 2000, \"sites\": [" SITE "] }",
     {"ringlet.json:1:14: workers: expected a whole number from 0 to 1024 (0: one per CPU), "
      "found 2000"}},
    {"workers not whole",
     "{ \"workers\": 1.5, \"sites\": [" SITE "] }",
     {"ringlet.json:1:14: workers: expected a whole number from 0 to 1024 (0: one per CPU), "
      "found 1.5"}},
    {"timeouts out of range",
     "{ \"timeouts\": { \"header\": 0, \"drain\": -1, \"keepalive\": 1e9 }, \"sites\": [" SITE
     "] }",
     {"ringlet.json:1:27: timeouts.header: expected a number of seconds above 0, at most 86400, "
      "found 0",
      "ringlet.json:1:39: timeouts.drain: expected a number of seconds from 0 to 86400, found -1",
      "ringlet.json:1:56: timeouts.keepalive: expected a number of seconds above 0, at most "
      "86400, found 1e9"}},
    {"unknown log level",
     "{ \"log\": { \"level\": \"inof\" }, \"sites\": [" SITE "] }",
     {"ringlet.json:1:21: log.level: expected \"debug\", \"info\", \"warn\", \"error\" or \"off\", "
      "found \"inof\" (did you mean \"info\"?)"}},
    {"unknown access log",
     "{ \"log\": { \"access\": \"stdout\" }, \"sites\": [" SITE "] }",
     {"ringlet.json:1:22: log.access: expected \"stderr\", \"off\" or a file path containing "
      "'/', found \"stdout\""}},

    // --- every error at once, in text order ---
    {"all errors are collected",
     "{\n"
     "  \"workers\": -1,\n"
     "  \"sites\": [\n"
     "    { \"hosts\": [\"a.test\"], \"rot\": \"/srv/a\" },\n"
     "    { \"hosts\": [\"A.test\"], \"root\": \"/srv/b\", \"tls\": { \"cert\": \"/c\" } }\n"
     "  ],\n"
     "  \"log\": { \"level\": \"loud\" }\n"
     "}\n",
     {"ringlet.json:2:14: workers: expected a whole number from 0 to 1024 (0: one per CPU), "
      "found -1",
      "ringlet.json:4:5: sites[0]: missing \"root\" (the folder to serve)",
      "ringlet.json:4:28: unknown key \"rot\" in sites[0] (did you mean \"root\"?)",
      "ringlet.json:5:17: sites[1].hosts[0]: \"A.test\" is already served by sites[0]",
      "ringlet.json:5:53: sites[1].tls: \"cert\" needs \"key\" (the file with the certificate's "
      "private key)",
      "ringlet.json:7:21: log.level: expected \"debug\", \"info\", \"warn\", \"error\" or \"off\", "
      "found \"loud\""}},
};

class broken_config : public ::testing::TestWithParam<broken> {};

} // namespace

TEST_P(broken_config, reports_exactly) {
    const broken& b = GetParam();
    EXPECT_EQ(error_lines(b.json), b.expected) << b.name << "\n" << b.json;
}

INSTANTIATE_TEST_SUITE_P(table, broken_config, ::testing::ValuesIn(broken_configs),
                         [](const auto& info) {
                             std::string n = info.param.name;
                             for (char& c : n) {
                                 bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                           (c >= '0' && c <= '9');
                                 if (!ok) c = '_';
                             }
                             return n;
                         });

TEST(parse, the_issue_example_fills_server_options) {
    std::vector<config::config_error> errors;
    auto r = parse_config(issue_example, "/etc/ringlet/ringlet.json", errors);
    ASSERT_TRUE(r) << (errors.empty() ? "" : errors[0].to_string());
    EXPECT_TRUE(errors.empty());
    const server::server_options& o = r->options;
    EXPECT_EQ(o.storage, "/var/lib/ringlet");
    EXPECT_EQ(o.workers, 0u);
    EXPECT_EQ(o.https_listen, "0.0.0.0:443");
    EXPECT_EQ(o.http_listen, "0.0.0.0:80");
    EXPECT_TRUE(o.tls);
    EXPECT_FALSE(o.demo);
    ASSERT_EQ(o.sites.size(), 4u);
    EXPECT_EQ(o.sites[0].hosts, (std::vector<std::string>{"example.com", "www.example.com"}));
    EXPECT_EQ(o.sites[0].root, "/srv/example");
    EXPECT_EQ(o.sites[0].cert_file, "");
    EXPECT_EQ(o.sites[1].hosts, (std::vector<std::string>{"static.example.net"}));
    EXPECT_EQ(o.sites[1].cert_file, "/etc/ringlet/static.crt");
    EXPECT_EQ(o.sites[1].key_file, "/etc/ringlet/static.key");
    EXPECT_EQ(o.sites[2].hosts, (std::vector<std::string>{"localhost"}));
    EXPECT_EQ(o.sites[2].root, "/srv/dev");
    EXPECT_EQ(o.sites[3].root, "/srv/plain");
    for (const auto& s : o.sites) EXPECT_FALSE(s.allow_dotfiles);
    EXPECT_EQ(r->site_tls, (std::vector<tls_mode>{tls_mode::acme, tls_mode::files,
                                                  tls_mode::internal, tls_mode::off}));
    EXPECT_EQ(r->plain_sites, (std::vector<std::size_t>{3}));
    EXPECT_EQ(r->acme_hosts, (std::vector<std::string>{"example.com", "www.example.com"}));
    EXPECT_EQ(r->log_level, log::level::info);
    EXPECT_EQ(r->access_log, "stderr");
    EXPECT_TRUE(r->warnings.empty());
    ASSERT_TRUE(o.sites[0].acme.has_value());
    EXPECT_EQ(o.sites[0].acme->directory, certs::acme::settings::lets_encrypt);
    EXPECT_FALSE(o.sites[1].acme.has_value());
    // Positions of values, for check_environment and reload logs.
    EXPECT_EQ(r->position_of("sites[1].tls.cert").line, 7);
    EXPECT_EQ(r->position_of("sites[1].tls.cert").column, 80);
    EXPECT_EQ(r->position_of("workers").line, 3);
    EXPECT_EQ(r->position_of("nothing.here").line, 0);
}

TEST(parse, every_key_and_relative_paths) {
    constexpr std::string_view json = R"({
      "storage": "state",
      "workers": 4,
      "listen": { "https": "[::1]:9443", "http": "off" },
      "sites": [
        { "hosts": ["WWW.Example.COM", "*.Example.com", "127.0.0.1", "[::1]"], "root": "www",
          "allow_dotfiles": true, "tls": { "cert": "certs/site.crt", "key": "/abs/site.key" } },
        { "hosts": ["b.test"], "root": "/srv/b", "tls": {} }
      ],
      "log": { "level": "warn", "access": "logs/access.log" },
      "timeouts": { "header": 5, "keepalive": 0.25, "drain": 0, "send": 60, "handshake": 3 },
      "pidfile": "run/ringlet.pid",
      "strict_sni": true,
      "pin_cpus": true
    })";
    std::vector<config::config_error> errors;
    auto r = parse_config(json, "conf/ringlet.json", errors);
    ASSERT_TRUE(r) << (errors.empty() ? "" : errors[0].to_string());
    const server::server_options& o = r->options;
    EXPECT_EQ(o.storage, "conf/state");
    EXPECT_EQ(o.workers, 4u);
    EXPECT_EQ(o.https_listen, "[::1]:9443");
    EXPECT_EQ(o.http_listen, "");
    EXPECT_TRUE(o.tls);
    ASSERT_EQ(o.sites.size(), 2u);
    EXPECT_EQ(o.sites[0].hosts,
              (std::vector<std::string>{"www.example.com", "*.example.com", "127.0.0.1", "[::1]"}));
    EXPECT_EQ(o.sites[0].root, "conf/www");
    EXPECT_TRUE(o.sites[0].allow_dotfiles);
    EXPECT_EQ(o.sites[0].cert_file, "conf/certs/site.crt");
    EXPECT_EQ(o.sites[0].key_file, "/abs/site.key");
    EXPECT_FALSE(o.sites[1].allow_dotfiles);
    EXPECT_EQ(r->site_tls, (std::vector<tls_mode>{tls_mode::files, tls_mode::internal}));
    EXPECT_TRUE(r->plain_sites.empty());
    EXPECT_TRUE(r->acme_hosts.empty());
    EXPECT_TRUE(r->warnings.empty());
    EXPECT_EQ(r->log_level, log::level::warn);
    EXPECT_EQ(r->access_log, "conf/logs/access.log");
    EXPECT_EQ(o.limits.header_timeout_ns, 5'000'000'000);
    EXPECT_EQ(o.limits.keepalive_timeout_ns, 250'000'000);
    EXPECT_EQ(o.drain_timeout_ns, 0);
    EXPECT_EQ(o.limits.send_timeout_ns, 60'000'000'000);
    EXPECT_EQ(o.limits.handshake_timeout_ns, 3'000'000'000);
    EXPECT_EQ(o.pidfile, "conf/run/ringlet.pid");
    EXPECT_TRUE(o.strict_sni);
    EXPECT_TRUE(o.pin_cpus);
}

TEST(parse, absent_keys_keep_the_cli_defaults) {
    std::vector<config::config_error> errors;
    auto r =
        parse_config(R"({"sites": [{"hosts": ["a.test"], "root": "/srv/a"}]})", "c.json", errors);
    ASSERT_TRUE(r);
    server::server_options d;
    const server::server_options& o = r->options;
    EXPECT_EQ(o.https_listen, d.https_listen);
    EXPECT_EQ(o.http_listen, d.http_listen);
    EXPECT_EQ(o.storage, d.storage);
    EXPECT_EQ(o.workers, d.workers);
    EXPECT_EQ(o.tls, d.tls);
    EXPECT_EQ(o.strict_sni, d.strict_sni);
    EXPECT_EQ(o.pin_cpus, d.pin_cpus);
    EXPECT_EQ(o.pidfile, d.pidfile);
    EXPECT_EQ(o.drain_timeout_ns, d.drain_timeout_ns);
    EXPECT_EQ(o.limits.header_timeout_ns, d.limits.header_timeout_ns);
    EXPECT_EQ(o.limits.keepalive_timeout_ns, d.limits.keepalive_timeout_ns);
    EXPECT_EQ(r->site_tls, std::vector<tls_mode>{tls_mode::internal});
    EXPECT_EQ(r->log_level, log::level::info);
    EXPECT_EQ(r->access_log, "stderr");
    EXPECT_EQ(o.sites[0].root, "/srv/a"); // no folder in the file name: as written
}

TEST(parse, only_plain_sites_turn_tls_off) {
    std::vector<config::config_error> errors;
    auto r = parse_config(R"({"listen": {"https": "off", "http": "0.0.0.0:8080"},
        "sites": [{"hosts": ["a.test"], "root": "/a", "tls": "off"},
                  {"hosts": ["b.test"], "root": "/b", "tls": "off"}]})",
                          "c.json", errors);
    ASSERT_TRUE(r) << (errors.empty() ? "" : errors[0].to_string());
    EXPECT_FALSE(r->options.tls);
    EXPECT_EQ(r->options.http_listen, "0.0.0.0:8080");
    EXPECT_EQ(r->plain_sites, (std::vector<std::size_t>{0, 1}));
}

TEST(parse, errors_are_appended_and_the_result_is_an_error) {
    std::vector<config::config_error> errors(1);
    auto r = parse_config("{", "c.json", errors);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::invalid_argument);
    ASSERT_EQ(errors.size(), 2u);
    EXPECT_EQ(errors[1].kind, config::error_kind::syntax);
    EXPECT_EQ(errors[1].file, "c.json");
    EXPECT_EQ(errors[1].line, 1);
    EXPECT_EQ(errors[1].column, 2);
}

TEST(parse, error_fields_carry_the_path) {
    std::vector<config::config_error> errors;
    auto r = parse_config(
        R"({"sites": [{"hosts": ["a.test"], "root": "/a", "tls": {"cert": 1, "key": "/k"}, "hots": 1}]})",
        "c.json", errors);
    ASSERT_FALSE(r);
    ASSERT_EQ(errors.size(), 2u);
    EXPECT_EQ(errors[0].kind, config::error_kind::invalid);
    EXPECT_EQ(errors[0].path, "sites[0].tls.cert");
    EXPECT_EQ(errors[0].message, "expected a string, found a number");
    EXPECT_EQ(errors[1].kind, config::error_kind::unknown_key);
    EXPECT_EQ(errors[1].path, "sites[0].hots");
}

TEST(parse, odd_documents_do_not_crash) {
    const std::string deep = std::string(5000, '[') + std::string(5000, ']');
    const std::string deep_open = std::string(3000, '{');
    const char* docs[] = {"",
                          " ",
                          "{",
                          "}",
                          "[",
                          "]",
                          "\"",
                          "\"\\",
                          "{\"",
                          "{\"a\"",
                          "{\"a\":",
                          "{\"a\":[",
                          "nul",
                          "-",
                          "1e",
                          "\xEF\xBB\xBF{}",
                          "{\"sites\":[{}]}",
                          "{\"a\":\"\\ud800\"}",
                          "\xff",
                          "{\"\xc3\x28\":1}",
                          "{\"a\":1}\0x"};
    for (const char* d : docs) {
        std::vector<config::config_error> errors;
        auto r = parse_config(d, "c.json", errors);
        EXPECT_FALSE(r) << d;
        EXPECT_EQ(errors.size() >= 1, true) << d;
        for (const auto& e : errors) EXPECT_GE(e.line, 1) << d << ": " << e.to_string();
    }
    for (const std::string& d : {deep, deep_open}) {
        std::vector<config::config_error> errors;
        EXPECT_FALSE(parse_config(d, "c.json", errors));
        ASSERT_EQ(errors.size(), 1u);
    }
}

TEST(parse, a_byte_order_mark_is_not_a_column) {
    std::vector<config::config_error> errors;
    auto r = parse_config("\xEF\xBB\xBF{ \"wokers\": 1 }", "c.json", errors);
    ASSERT_FALSE(r);
    ASSERT_FALSE(errors.empty());
    EXPECT_EQ(errors.back().to_string(),
              "c.json:1:3: unknown key \"wokers\" at the top level (did you mean \"workers\"?)");
}

TEST(parse, cross_checks_name_the_right_site_after_a_bad_entry) {
    EXPECT_EQ(
        error_lines(
            R"({ "listen": { "https": "off" }, "sites": [ 1, { "hosts": ["a.test"], "root": "/a" } ] })"),
        (std::vector<std::string>{
            "ringlet.json:1:24: listen.https: expected an address: \"off\" leaves sites[1] "
            "(a TLS site) without a listener",
            "ringlet.json:1:44: sites[0]: expected an object like {\"hosts\": [...], "
            "\"root\": ...}, found a number"}));
}

TEST(parse, a_large_document_is_linear) {
    // 200k values on one line: positions are found by walking forward, not from the start.
    std::string json = "{ \"sites\": [ { \"root\": \"/a\", \"hosts\": [";
    for (int i = 0; i < 200000; ++i) json += "\"h" + std::to_string(i) + ".test\",";
    json += "\"last.test\"] } ] }";
    std::vector<config::config_error> errors;
    auto r = parse_config(json, "c.json", errors);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->options.sites[0].hosts.size(), 200001u);
    EXPECT_EQ(r->position_of("sites[0].hosts[200000]").column,
              static_cast<int>(json.find("\"last.test\"")) + 1);
}
