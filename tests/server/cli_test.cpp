#include "ringlet/server/cli.hpp"

#include <gtest/gtest.h>

#include <vector>

using namespace ringlet::server;

namespace {

bool parse(std::vector<std::string_view> args, server_options& o, std::string& err) {
    return parse_serve_args(args, o, err);
}

} // namespace

TEST(cli, sites_are_grouped_by_root) {
    server_options o;
    std::string err;
    ASSERT_TRUE(parse(
        {"--root",          "/a",       "--host",    "a.test", "--host",           "www.a.test",
         "--root",          "/b",       "--host",    "b.test", "--allow-dotfiles", "--http-listen",
         "127.0.0.1:9",     "--no-tls", "--workers", "3",      "--pidfile",        "/tmp/p",
         "--drain-timeout", "4",        "--pin-cpus"},
        o, err))
        << err;
    ASSERT_EQ(o.sites.size(), 2u);
    EXPECT_EQ(o.sites[0].root, "/a");
    EXPECT_EQ(o.sites[0].hosts, (std::vector<std::string>{"a.test", "www.a.test"}));
    EXPECT_FALSE(o.sites[0].allow_dotfiles);
    EXPECT_EQ(o.sites[1].hosts, (std::vector<std::string>{"b.test"}));
    server_options u;
    ASSERT_TRUE(parse({"--root", "/a", "--host", "Two.TEST.", "--host", "::1"}, u, err)) << err;
    EXPECT_EQ(u.sites[0].hosts, (std::vector<std::string>{"two.test", "::1"}));
    EXPECT_TRUE(o.sites[1].allow_dotfiles);
    EXPECT_EQ(o.http_listen, "127.0.0.1:9");
    EXPECT_EQ(o.workers, 3u);
    EXPECT_EQ(o.pidfile, "/tmp/p");
    EXPECT_EQ(o.drain_timeout_ns, 4'000'000'000);
    EXPECT_TRUE(o.pin_cpus);
}

TEST(cli, no_arguments_means_the_demo_site_on_the_default_address) {
    server_options o;
    std::string err;
    ASSERT_TRUE(parse({}, o, err));
    EXPECT_TRUE(o.sites.empty());
    EXPECT_EQ(o.http_listen, "127.0.0.1:8080");
}

TEST(cli, bad_input_gets_a_message_naming_the_flag) {
    struct row {
        std::vector<std::string_view> args;
        std::string message;
    } rows[] = {
        {{"--bogus"}, "unknown option '--bogus' for serve"},
        {{"--root"}, "option --root needs a value"},
        {{"--root", "--host"}, "option --root needs a value"},
        {{"--host", "a.test"},
         "--host a.test comes before any --root; put it after the --root it names"},
        {{"--root", "/a", "--host", "bad host"}, "--host 'bad host' is not a valid host name"},
        {{"--root", "/a", "--host", "x.test:8443"},
         "--host 'x.test:8443' is not a valid host name"},
        {{"--allow-dotfiles"},
         "--allow-dotfiles comes before any --root; put it after the --root it applies to"},
        {{"--workers", "0"}, "--workers '0' must be a whole number from 1 to 1024"},
        {{"--workers", "two"}, "--workers 'two' must be a whole number from 1 to 1024"},
        {{"--drain-timeout", "-1"}, "--drain-timeout '-1' must be whole seconds (at most 86400)"},
        {{"--header-timeout", "0"}, "--header-timeout '0' must be whole seconds (at most 86400)"},
        {{"--log-level", "loud"}, "--log-level 'loud' must be debug, info, warn, error or off"},
    };
    for (const row& r : rows) {
        server_options o;
        std::string err;
        EXPECT_FALSE(parse(r.args, o, err)) << r.message;
        EXPECT_EQ(err, r.message);
    }
}
