#include "ringlet/server/site.hpp"

#include <gtest/gtest.h>

#include <filesystem>

using namespace ringlet::server;

namespace {
// Which site (by position) answers `host`.
long index_of(const site_table& t, std::string_view host) {
    return &t.select(host) - t.sites().data();
}
} // namespace

TEST(site, host_normalisation_drops_port_case_and_trailing_dot) {
    struct row {
        const char* in;
        const char* out;
    } rows[] = {
        {"example.com", "example.com"},  {"Example.COM:8080", "example.com"},
        {"example.com.", "example.com"}, {"example.com.:443", "example.com"},
        {"[::1]:8080", "[::1]"},         {"[::1]", "[::1]"},
        {"127.0.0.1:80", "127.0.0.1"},   {"", ""},
    };
    for (const row& r : rows) {
        char buf[256];
        EXPECT_EQ(normalize_host(r.in, buf), r.out) << r.in;
    }
}

TEST(site, selects_by_host_and_falls_back_to_the_first_site) {
    auto dir = std::filesystem::temp_directory_path();
    std::string err;
    auto t = site_table::build({site_spec{{"a.test"}, dir.string(), false},
                                site_spec{{"B.test", "www.b.test"}, dir.string(), false}},
                               err);
    ASSERT_TRUE(t) << err;
    EXPECT_EQ(index_of(*t, "a.test"), 0);
    EXPECT_EQ(index_of(*t, "b.test:8080"), 1);
    EXPECT_EQ(index_of(*t, "WWW.B.TEST"), 1);
    EXPECT_EQ(index_of(*t, "unknown.test"), 0);
    auto w = site_table::build({site_spec{{"a.test"}, dir.string(), false},
                                site_spec{{"*.example.test"}, dir.string(), false}},
                               err);
    ASSERT_TRUE(w) << err;
    EXPECT_EQ(index_of(*w, "x.example.test"), 1);
    EXPECT_EQ(index_of(*w, "X.Example.Test:443"), 1);
    EXPECT_EQ(index_of(*w, "example.test"), 0);     // the wildcard needs a label
    EXPECT_EQ(index_of(*w, "a.b.example.test"), 0); // and only one
    EXPECT_EQ(index_of(*t, ""), 0);
}

TEST(site, a_missing_root_is_an_error_naming_the_folder) {
    std::string err;
    auto t = site_table::build({site_spec{{}, "/nonexistent/ringlet-root", false}}, err);
    EXPECT_FALSE(t);
    EXPECT_EQ(err, "site root /nonexistent/ringlet-root: No such file or directory");
}
