#include "load/options.hpp"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

using namespace ringlet::load;

namespace {

struct parsed {
    bool ok = false;
    load_options opts;
    std::string error;
};

parsed parse(std::initializer_list<std::string_view> args, unsigned cpus = 4) {
    std::vector<std::string_view> v(args);
    parsed p;
    auto r = parse_load_options(v, p.error, cpus);
    p.ok = r.has_value();
    if (p.ok) p.opts = std::move(*r);
    return p;
}

// Expects a refusal whose message contains every fragment (the option and the value).
void expect_error(std::initializer_list<std::string_view> args,
                  std::initializer_list<std::string_view> fragments) {
    parsed p = parse(args);
    std::string joined;
    for (std::string_view a : args) joined.append(a).append(" ");
    ASSERT_FALSE(p.ok) << "accepted: " << joined;
    for (std::string_view f : fragments) {
        EXPECT_NE(p.error.find(f), std::string::npos)
            << "args: " << joined << "\nerror: " << p.error << "\nmissing: " << f;
    }
}

} // namespace

TEST(options, defaults_for_a_bare_url) {
    parsed p = parse({"https://localhost:8443/"});
    ASSERT_TRUE(p.ok) << p.error;
    const load_options& o = p.opts;
    ASSERT_EQ(o.targets.size(), 1u);
    EXPECT_TRUE(o.targets[0].https);
    EXPECT_EQ(o.targets[0].host, "localhost");
    EXPECT_EQ(o.targets[0].port, 8443);
    EXPECT_EQ(o.targets[0].path, "/");
    EXPECT_EQ(o.targets[0].authority, "localhost:8443");
    EXPECT_EQ(o.connections, 64u);
    EXPECT_EQ(o.threads, 4u); // the CPUs
    EXPECT_EQ(o.mode, load_mode::keepalive);
    EXPECT_EQ(o.pipeline, 1u);
    EXPECT_EQ(o.timeout_seconds, 10.0);
    EXPECT_FALSE(o.duration_seconds);
    EXPECT_FALSE(o.requests);
    EXPECT_EQ(effective_duration(o), default_duration_seconds);
    EXPECT_EQ(o.progress, progress_mode::automatic);
    EXPECT_TRUE(show_progress(o, true));
    EXPECT_FALSE(show_progress(o, false));
}

TEST(options, every_option_in_its_forms) {
    parsed p = parse({"-c",
                      "200",
                      "--duration=2.5",
                      "-n1000",
                      "--threads",
                      "2",
                      "--mode",
                      "handshake",
                      "--resume",
                      "--cacert",
                      "/tmp/ca.pem",
                      "--sni",
                      "Example.TEST",
                      "-H",
                      "Accept: text/html",
                      "--header=X-Test:  a b\t",
                      "--timeout",
                      "0.5",
                      "--json",
                      "--no-progress",
                      "https://127.0.0.1/a?b=1#frag",
                      "http://[::1]:8080"});
    ASSERT_TRUE(p.ok) << p.error;
    const load_options& o = p.opts;
    EXPECT_EQ(o.connections, 200u);
    EXPECT_EQ(o.duration_seconds, 2.5);
    EXPECT_EQ(o.requests, 1000u);
    EXPECT_EQ(effective_duration(o), 2.5);
    EXPECT_EQ(o.threads, 2u);
    EXPECT_EQ(o.mode, load_mode::handshake);
    EXPECT_TRUE(o.resume);
    EXPECT_EQ(o.cacert, "/tmp/ca.pem");
    EXPECT_EQ(o.sni, "example.test");
    ASSERT_EQ(o.headers.size(), 2u);
    EXPECT_EQ(o.headers[0].name, "Accept");
    EXPECT_EQ(o.headers[0].value, "text/html");
    EXPECT_EQ(o.headers[1].name, "X-Test");
    EXPECT_EQ(o.headers[1].value, "a b"); // optional whitespace trimmed, inner kept
    EXPECT_EQ(o.timeout_seconds, 0.5);
    EXPECT_TRUE(o.json);
    EXPECT_FALSE(show_progress(o, true));
    ASSERT_EQ(o.targets.size(), 2u);
    EXPECT_EQ(o.targets[0].path, "/a?b=1"); // the fragment is not sent
    EXPECT_EQ(o.targets[0].authority, "127.0.0.1");
    EXPECT_EQ(o.targets[0].port, 443);
    EXPECT_TRUE(o.targets[0].ip_literal);
    EXPECT_FALSE(o.targets[1].https);
    EXPECT_EQ(o.targets[1].host, "::1");
    EXPECT_EQ(o.targets[1].port, 8080);
    EXPECT_EQ(o.targets[1].authority, "[::1]:8080");
}

TEST(options, requests_only_runs_unbounded_in_time_and_progress_can_be_forced) {
    parsed p = parse({"-n", "5", "--progress", "http://LOCALHOST./x"});
    ASSERT_TRUE(p.ok) << p.error;
    EXPECT_FALSE(effective_duration(p.opts));
    EXPECT_EQ(p.opts.requests, 5u);
    EXPECT_TRUE(show_progress(p.opts, false));
    EXPECT_EQ(p.opts.targets[0].host, "localhost.");
    EXPECT_EQ(p.opts.targets[0].path, "/x");
    EXPECT_EQ(p.opts.targets[0].authority, "localhost.");
}

TEST(options, default_threads_never_exceed_connections) {
    parsed p = parse({"-c", "2", "http://localhost/"}, 8);
    ASSERT_TRUE(p.ok) << p.error;
    EXPECT_EQ(p.opts.threads, 2u);
    p = parse({"-c", "100", "http://localhost/"}, 0); // unknown CPU count
    ASSERT_TRUE(p.ok) << p.error;
    EXPECT_EQ(p.opts.threads, 1u);
}

TEST(options, help_and_version_win_over_bad_input) {
    parsed p = parse({"-c", "zero", "--help"});
    ASSERT_TRUE(p.ok) << p.error;
    EXPECT_TRUE(p.opts.help);
    p = parse({"--bogus", "-V"});
    ASSERT_TRUE(p.ok) << p.error;
    EXPECT_TRUE(p.opts.version);
    EXPECT_NE(load_usage().find("--allow-remote"), std::string_view::npos);
    // After "--" they are URLs, not options.
    expect_error({"--", "--help"}, {"--help", "missing http://"});
}

TEST(options, loopback_only_unless_allowed) {
    for (std::string_view ok : {"http://127.0.0.1/", "http://127.255.1.2:81/", "https://[::1]/",
                                "https://[::ffff:127.0.0.1]/", "https://localhost/"}) {
        EXPECT_TRUE(parse({ok}).ok) << ok;
    }
    expect_error({"https://example.com/"}, {"'example.com'", "--allow-remote", "loopback"});
    expect_error({"http://10.0.0.1/"}, {"'10.0.0.1'", "--allow-remote"});
    expect_error({"http://[::2]/"}, {"'::2'", "--allow-remote"});
    expect_error({"http://128.0.0.1/"}, {"'128.0.0.1'"});
    expect_error({"http://127.1/"}, {"'127.1'"}); // a name to the resolver: not judged loopback
    expect_error({"http://localhost.example/"}, {"'localhost.example'"});
    // One remote URL among loopback ones is enough to refuse.
    expect_error({"http://localhost/", "http://example.org/"}, {"'example.org'"});
    parsed p = parse({"--allow-remote", "https://Example.COM/"});
    ASSERT_TRUE(p.ok) << p.error;
    EXPECT_EQ(p.opts.targets[0].host, "example.com");
    EXPECT_FALSE(p.opts.targets[0].ip_literal);
}

TEST(options, bad_numbers_name_the_option_and_the_value) {
    expect_error({"-c", "0", "http://localhost/"}, {"-c", "'0'", "1 to 100000"});
    expect_error({"--connections", "-5", "http://localhost/"}, {"--connections", "'-5'"});
    expect_error({"-c", "12x", "http://localhost/"}, {"'12x'"});
    expect_error({"-c", "100001", "http://localhost/"}, {"'100001'"});
    expect_error({"-d", "0", "http://localhost/"}, {"-d", "'0'", "seconds"});
    expect_error({"--duration", "nan", "http://localhost/"}, {"--duration", "'nan'"});
    expect_error({"-d", "inf", "http://localhost/"}, {"'inf'"});
    expect_error({"-d", "1e3", "http://localhost/"}, {"'1e3'"});
    expect_error({"-d", "90000", "http://localhost/"}, {"'90000'"});
    expect_error({"-n", "0", "http://localhost/"}, {"-n", "'0'"});
    expect_error({"-n", "99999999999999999999", "http://localhost/"}, {"'99999999999999999999'"});
    expect_error({"-t", "", "http://localhost/"}, {"-t", "''"});
    expect_error({"--pipeline", "0", "http://localhost/"}, {"--pipeline", "'0'"});
    expect_error({"--pipeline=257", "http://localhost/"}, {"--pipeline", "'257'"});
    expect_error({"--timeout", "-1", "http://localhost/"}, {"--timeout", "'-1'"});
    expect_error({"--mode", "fast", "http://localhost/"},
                 {"--mode", "'fast'", "keepalive, handshake or bulk"});
}

TEST(options, malformed_command_lines) {
    expect_error({"--frobnicate", "http://localhost/"}, {"unknown option --frobnicate"});
    expect_error({"-x", "http://localhost/"}, {"unknown option -x"});
    expect_error({"http://localhost/", "-c"}, {"-c", "needs a value"});
    expect_error({"--json=yes", "http://localhost/"}, {"--json", "takes no value", "'yes'"});
    expect_error({"-c", "4"}, {"no URL"});
}

TEST(options, bad_urls_are_quoted_with_the_reason) {
    expect_error({"localhost:8443"}, {"'localhost:8443'", "missing http:// or https://"});
    expect_error({"ftp://localhost/"}, {"'ftp://localhost/'", "http:// or https://"});
    expect_error({"http:///x"}, {"missing host"});
    expect_error({"http://user@localhost/"}, {"user names"});
    expect_error({"http://localhost:0/"}, {"port '0'"});
    expect_error({"http://localhost:65536/"}, {"port '65536'"});
    expect_error({"http://localhost:/"}, {"port ''"});
    expect_error({"http://::1/"}, {"brackets"});
    expect_error({"http://[::1/"}, {"']'"});
    expect_error({"http://[fe80::1%25eth0]/"}, {"IPv6"});
    expect_error({"http://[::1]x/"}, {"after ']'"});
    expect_error({"http://local host/"}, {"'local host'", "host name"});
    expect_error({"http://localhost/a b"}, {"offset 2", "percent-encode"});
    expect_error({"http://localhost/caf\xc3\xa9"}, {"non-ASCII"});
}

TEST(options, headers_are_validated) {
    expect_error({"-H", "NoColon", "http://localhost/"}, {"-H", "'NoColon'", "Name: value"});
    expect_error({"-H", ": x", "http://localhost/"}, {"name is empty"});
    expect_error({"-H", "Bad Name: x", "http://localhost/"}, {"'Bad Name: x'", "spaces"});
    expect_error({"-H", "X-A: a\r\nInjected: 1", "http://localhost/"}, {"control character"});
    expect_error({"--header", "Content-Length: 5", "http://localhost/"},
                 {"--header", "Content-Length"});
    expect_error({"-H", "transfer-encoding: chunked", "http://localhost/"}, {"transfer-encoding"});
    expect_error({"-H", "Host: a", "-H", "host: b", "http://localhost/"}, {"Host", "once"});
    parsed p = parse({"-H", "Host: other.test", "-H", "X-Empty:", "http://localhost/"});
    ASSERT_TRUE(p.ok) << p.error;
    EXPECT_EQ(p.opts.headers[1].value, "");
}

TEST(options, contradictions_are_refused) {
    expect_error({"--resume", "https://localhost/"}, {"--resume", "--mode handshake"});
    expect_error({"--mode", "handshake", "--resume", "http://localhost/"},
                 {"--resume", "https://"});
    expect_error({"--insecure", "http://localhost/"}, {"--insecure", "https://"});
    expect_error({"--sni", "a.test", "http://localhost/"}, {"--sni", "https://"});
    expect_error({"--insecure", "--cacert", "ca.pem", "https://localhost/"},
                 {"--insecure", "--cacert", "'ca.pem'"});
    expect_error({"--mode", "handshake", "--pipeline", "4", "https://localhost/"},
                 {"--pipeline 4", "handshake"});
    expect_error({"-t", "8", "-c", "4", "https://localhost/"}, {"-t/--threads 8", "4"});
    expect_error({"--sni", "127.0.0.1", "https://localhost/"}, {"--sni", "'127.0.0.1'", "IP"});
    expect_error({"--sni", "bad name", "https://localhost/"}, {"'bad name'"});
    expect_error({"--cacert", "", "https://localhost/"}, {"--cacert", "''"});
    // Mixed schemes: TLS options are fine as long as one target uses TLS.
    EXPECT_TRUE(parse({"--insecure", "http://localhost/", "https://localhost/"}).ok);
}
