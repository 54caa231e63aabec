#include "ringlet/server/certificates.hpp"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>

using namespace ringlet;
using namespace ringlet::server;
namespace fs = std::filesystem;

namespace {

struct temp_storage {
    fs::path dir = fs::temp_directory_path() / ("ringlet-certs-" + std::to_string(::getpid()));
    temp_storage() { fs::remove_all(dir); }
    ~temp_storage() { fs::remove_all(dir); }
};

const tls::cert_entry& only_entry(const tls::cert_table& t) {
    return *t.entries().front();
}

} // namespace

TEST(certificates, internal_sites_get_a_seven_day_leaf_for_the_local_names) {
    temp_storage st;
    std::int64_t now = ::time(nullptr);
    std::string err;
    auto m = certificate_manager::create({site_spec{{}, "/tmp", false, {}, {}}}, st.dir.string(), 2,
                                         now, err);
    ASSERT_TRUE(m) << err;
    auto table = (*m)->table();
    ASSERT_EQ(table->entries().size(), 1u);
    const auto& cert = only_entry(*table).cert;
    EXPECT_EQ(cert.not_after - now, certificate_manager::internal_lifetime);
    EXPECT_TRUE(tls::covers(cert, "localhost"));
    EXPECT_TRUE(tls::covers(cert, "127.0.0.1"));
    EXPECT_TRUE(tls::covers(cert, "::1"));
    EXPECT_EQ(only_entry(*table).contexts.size(), 2u); // one context per reactor
    EXPECT_NE(table->find("localhost"), nullptr);
    struct stat sb {};
    ASSERT_EQ(::stat((st.dir / "ca" / "root.key").c_str(), &sb), 0);
    EXPECT_EQ(sb.st_mode & 0777, 0600u);
    ASSERT_EQ(::stat((st.dir / "ca").c_str(), &sb), 0);
    EXPECT_EQ(sb.st_mode & 0777, 0700u);
}

// The injected clock drives renewal: nothing before a third of the lifetime is left, a new
// generation with a fresh leaf from then on.
TEST(certificates, the_leaf_is_renewed_when_a_third_of_its_life_is_left) {
    temp_storage st;
    std::int64_t t0 = ::time(nullptr);
    std::string err;
    auto m = certificate_manager::create({site_spec{{"localhost"}, "/tmp", false, {}, {}}},
                                         st.dir.string(), 1, t0, err);
    ASSERT_TRUE(m) << err;
    auto first = (*m)->table();
    const auto& leaf = only_entry(*first).cert;
    std::int64_t due = certs::renewal_time(leaf.not_before, leaf.not_after);
    EXPECT_EQ(due, leaf.not_after - (leaf.not_after - leaf.not_before) / 3);
    // The control loop wakes for the earlier of leaf renewal and ticket key rotation.
    EXPECT_EQ((*m)->next_due(), std::min(due, t0 + tls::ticket_keys::rotation_seconds));

    EXPECT_EQ((*m)->maintain(t0 + 3600), nullptr); // nothing to do yet
    // One second early: only the ticket keys (older than 12 h by then) change.
    auto before = (*m)->maintain(due - 1);
    ASSERT_NE(before, nullptr);
    EXPECT_EQ(only_entry(*before).cert.chain_der[0], leaf.chain_der[0]);
    auto renewed = (*m)->maintain(due);
    ASSERT_NE(renewed, nullptr);
    EXPECT_GT(renewed->generation(), before->generation());
    EXPECT_EQ(only_entry(*renewed).cert.not_after, due + certificate_manager::internal_lifetime);
    EXPECT_NE(only_entry(*renewed).cert.chain_der[0], leaf.chain_der[0]);
    // Ticket keys are carried over (sessions keep resuming), not regenerated.
    EXPECT_EQ(renewed->keys(), before->keys());
}

TEST(certificates, ticket_keys_rotate_every_twelve_hours_and_keep_the_previous_key) {
    temp_storage st;
    std::int64_t t0 = ::time(nullptr);
    std::string err;
    auto m = certificate_manager::create({site_spec{{"localhost"}, "/tmp", false, {}, {}}},
                                         st.dir.string(), 1, t0, err);
    ASSERT_TRUE(m) << err;
    auto first = (*m)->table();
    EXPECT_EQ((*m)->maintain(t0 + tls::ticket_keys::rotation_seconds - 1), nullptr);
    auto rotated = (*m)->maintain(t0 + tls::ticket_keys::rotation_seconds);
    ASSERT_NE(rotated, nullptr);
    ASSERT_TRUE(rotated->keys()->previous.has_value());
    EXPECT_EQ(rotated->keys()->previous->name, first->keys()->current.name);
    EXPECT_NE(rotated->keys()->current.name, first->keys()->current.name);
}

TEST(certificates, a_manual_certificate_must_cover_the_sites_hosts) {
    temp_storage st;
    std::string err;
    auto m = certificate_manager::create(
        {site_spec{
            {"example.test"}, "/tmp", false, "/nonexistent/cert.pem", "/nonexistent/key.pem"}},
        st.dir.string(), 1, ::time(nullptr), err);
    EXPECT_FALSE(m);
    EXPECT_NE(err.find("/nonexistent/cert.pem"), std::string::npos) << err;
}

TEST(certificates, a_restart_serves_the_stored_internal_leaf_until_it_is_due) {
    temp_storage st;
    std::int64_t t0 = ::time(nullptr);
    std::string err;
    std::vector<site_spec> sites{site_spec{{"localhost"}, "/tmp", false, {}, {}}};
    auto first = certificate_manager::create(sites, st.dir.string(), 1, t0, err);
    ASSERT_TRUE(first) << err;
    const auto& leaf = only_entry(*(*first)->table()).cert;
    fs::path dir = st.dir / "certificates" / "internal" / "localhost";
    struct stat sb {};
    ASSERT_EQ(::stat((dir / "key.pem").c_str(), &sb), 0);
    EXPECT_EQ(sb.st_mode & 0777, 0600u);
    ASSERT_EQ(::stat(dir.c_str(), &sb), 0);
    EXPECT_EQ(sb.st_mode & 0777, 0700u);

    auto again = certificate_manager::create(sites, st.dir.string(), 1, t0 + 3600, err);
    ASSERT_TRUE(again) << err;
    EXPECT_EQ(only_entry(*(*again)->table()).cert.chain_der[0], leaf.chain_der[0]);

    // Once a third of its life is left, a restart issues a new one instead.
    std::int64_t due = certs::renewal_time(leaf.not_before, leaf.not_after);
    auto later = certificate_manager::create(sites, st.dir.string(), 1, due, err);
    ASSERT_TRUE(later) << err;
    EXPECT_NE(only_entry(*(*later)->table()).cert.chain_der[0], leaf.chain_der[0]);

    // Other names: a new leaf, never the stored one.
    std::vector<site_spec> other{site_spec{{"localhost", "x.localhost"}, "/tmp", false, {}, {}}};
    auto renamed = certificate_manager::create(other, st.dir.string(), 1, t0, err);
    ASSERT_TRUE(renamed) << err;
    EXPECT_TRUE(tls::covers(only_entry(*(*renamed)->table()).cert, "x.localhost"));
}
