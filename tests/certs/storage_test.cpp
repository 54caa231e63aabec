#include "ringlet/certs/storage.hpp"
#include "support/files.hpp"

#include <gtest/gtest.h>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

using namespace ringlet;
using namespace ringlet::certs;

namespace {

struct temp_dir : test::scratch_dir {
    temp_dir() : scratch_dir("storage-test") {}
    std::string root() const { return path + "/state/ringlet"; } // not created: open() makes it
};

using test::mode_of;
using test::read_file;
using test::write_file;

std::vector<std::string> hidden_entries(const std::string& dir) {
    std::vector<std::string> out;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
        std::string n = e.path().filename();
        if (n.front() == '.') out.push_back(n);
    }
    return out;
}

// Sets an entry's mtime `age` seconds into the past (without following links).
void age(const std::string& path, std::int64_t age_seconds) {
    struct timespec t[2];
    t[0].tv_sec = t[1].tv_sec = std::time(nullptr) - age_seconds;
    t[0].tv_nsec = t[1].tv_nsec = 0;
    ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), t, AT_SYMLINK_NOFOLLOW), 0) << path;
}

storage open_storage(const temp_dir& t) {
    std::string err;
    auto st = storage::open(t.root(), err);
    EXPECT_TRUE(st) << err;
    return std::move(*st);
}

// A bundle whose three files all carry `n`, so a mix of two bundles is detectable.
cert_bundle numbered(int n) {
    const std::string s = std::to_string(n);
    return {"-----BEGIN CERTIFICATE-----\n" + s + "\n-----END CERTIFICATE-----\n",
            "-----BEGIN PRIVATE KEY-----\n" + s + "\n-----END PRIVATE KEY-----\n",
            "{\"n\":" + s + "}"};
}

// The number in a bundle read back, or -1 when its three files disagree.
int number_of(const cert_bundle& b) {
    auto between = [](const std::string& s, const std::string& a, const std::string& z) {
        const std::size_t p = s.find(a) + a.size();
        return s.substr(p, s.find(z, p) - p);
    };
    const std::string c = between(b.cert_pem, "CERTIFICATE-----\n", "\n");
    const std::string k = between(b.key_pem, "KEY-----\n", "\n");
    const std::string m = between(b.meta_json, ":", "}");
    return c == k && k == m ? std::atoi(c.c_str()) : -1;
}

} // namespace

// ---- keys -----------------------------------------------------------------------------------

TEST(StorageKeys, IssuerKeyFromDirectoryUrl) {
    EXPECT_EQ(issuer_key("https://acme-v02.api.letsencrypt.org/directory"),
              "acme-v02.api.letsencrypt.org-directory");
    EXPECT_EQ(issuer_key("https://127.0.0.1:14000/dir"), "127.0.0.1-14000-dir");
    EXPECT_EQ(issuer_key("HTTPS://ACME.Example.COM/dir"), "acme.example.com-dir"); // host folds
    // Case in the path is significant: readable prefix plus a hash.
    const std::string zerossl = issuer_key("https://acme.zerossl.com/v2/DV90");
    EXPECT_TRUE(zerossl.starts_with("acme.zerossl.com-v2-dv90__")) << zerossl;
    EXPECT_EQ(zerossl.size(), std::string("acme.zerossl.com-v2-dv90__").size() + 16);
    EXPECT_NE(zerossl, issuer_key("https://acme.zerossl.com/v2/dv90"));
    // Query and user parts never vanish silently.
    EXPECT_NE(issuer_key("https://ca.test/dir?x=1"), issuer_key("https://ca.test/dir"));
    EXPECT_NE(issuer_key("https://u@ca.test/dir"), issuer_key("https://ca.test/dir"));
    for (const char* url : {"https://[::1]:14000/dir", "https://ca.test/../../etc", "", "/", "x"})
        EXPECT_TRUE(is_safe_key(issuer_key(url))) << url << " -> " << issuer_key(url);
}

TEST(StorageKeys, NameKeyIsReadableWhenLossless) {
    const std::vector<std::string> wildcard = {"*.Example.COM"};
    EXPECT_EQ(name_key(wildcard), "wildcard_.example.com");
    const std::vector<std::string> two = {"www.a.org", "A.org", "a.org"};
    const std::vector<std::string> two_sorted = {"a.org", "www.a.org"};
    EXPECT_EQ(name_key(two), "a.org_www.a.org"); // sorted, deduplicated after folding
    EXPECT_EQ(name_key(two), name_key(two_sorted));
    const std::vector<std::string> ip = {"127.0.0.1"};
    EXPECT_EQ(name_key(ip), "127.0.0.1");
}

TEST(StorageKeys, DifferentNamesNeverShareAKey) {
    using names = std::vector<std::string>;
    const std::vector<names> inputs = {names{"*.example.com"},
                                       names{"wildcard_.example.com"},
                                       names{"a_b"},
                                       names{"a", "b"},
                                       names{"a.b"},
                                       names{""},
                                       names{"_"},
                                       names{},
                                       names{"."},
                                       names{".."},
                                       names{"../../etc"},
                                       names{"a/b"},
                                       names{"a_b_"},
                                       names{"a b"},
                                       names{"a:b"},
                                       names{"-"},
                                       names{"..etc"},
                                       names{"_etc"}};
    std::vector<std::string> keys;
    for (const auto& names : inputs) {
        std::string k = name_key(names);
        EXPECT_TRUE(is_safe_key(k)) << k;
        EXPECT_EQ(k.find('/'), std::string::npos) << k;
        EXPECT_NE(k.front(), '.') << k;
        for (const std::string& other : keys) EXPECT_NE(k, other);
        keys.push_back(k);
    }
}

TEST(StorageKeys, LongNamesAreBoundedAndStillDistinct) {
    const std::vector<std::string> a = {std::string(300, 'a') + ".example.com"};
    const std::vector<std::string> b = {std::string(300, 'a') + ".example.org"};
    const std::string ka = name_key(a), kb = name_key(b);
    EXPECT_LE(ka.size(), max_key_length);
    EXPECT_TRUE(is_safe_key(ka)) << ka;
    EXPECT_NE(ka, kb);
    EXPECT_TRUE(ka.starts_with(std::string(50, 'a')));
    // Exactly at the limit stays readable; one more is hashed.
    EXPECT_EQ(safe_key(std::string(max_key_length, 'x')), std::string(max_key_length, 'x'));
    EXPECT_NE(safe_key(std::string(max_key_length + 1, 'x')).find("__"), std::string::npos);
}

TEST(StorageKeys, SafeKeyAndValidation) {
    EXPECT_EQ(safe_key("issue_cert_example.com"), "issue_cert_example.com");
    EXPECT_NE(safe_key("Admin@Example.com"), safe_key("admin@example.com"));
    for (const char* bad : {"../../etc", "a/b", "", ".", "..", ".hidden", "a\nb", "\xc3\xa9"})
        EXPECT_TRUE(is_safe_key(safe_key(bad))) << bad;
    EXPECT_EQ(safe_key(std::string("a\0b", 3)).find('\0'), std::string::npos);
    for (const char* bad : {"", ".", "..", "a/b", ".x", "A", "a b"})
        EXPECT_FALSE(is_safe_key(bad)) << bad;
    EXPECT_FALSE(is_safe_key(std::string(max_key_length + 1, 'a')));
    EXPECT_EQ(lock_path("x"), "locks/x.lock");
    EXPECT_EQ(ocsp_path("example.com"), "ocsp/example.com.der");
    EXPECT_EQ(account_path("i", "a"), "accounts/i/a");
    EXPECT_EQ(certificate_path("i", "n"), "certificates/i/n");
}

// ---- files ----------------------------------------------------------------------------------

TEST(Storage, OpenCreatesAPrivateRoot) {
    temp_dir t;
    std::string err;
    auto st = storage::open(t.root() + "/", err);
    ASSERT_TRUE(st) << err;
    EXPECT_EQ(st->root(), t.root());
    EXPECT_EQ(mode_of(t.root()), 0700u);
    EXPECT_TRUE(storage::open(t.root(), err)) << err; // again: fine

    write_file(t.path + "/file", "x");
    auto bad = storage::open(t.path + "/file", err);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error(), std::errc::not_a_directory);
    EXPECT_NE(err.find(t.path + "/file"), std::string::npos) << err;
    EXPECT_EQ(storage::open("", err).error(), std::errc::invalid_argument);
}

TEST(Storage, FilesGetExactModesWhateverTheUmask) {
    temp_dir t;
    storage st = open_storage(t);
    const mode_t old = ::umask(0);
    std::string err;
    const std::string acct = account_path("ca.test-dir", "default");
    ASSERT_TRUE(st.store_file(acct + "/key.pem", "KEY", 0600, err)) << err;
    ::umask(077);
    ASSERT_TRUE(st.store_file(acct + "/account.json", "{}", 0644, err)) << err;
    ::umask(old);
    EXPECT_EQ(mode_of(st.path("accounts")), 0700u);
    EXPECT_EQ(mode_of(st.path("accounts/ca.test-dir")), 0700u);
    EXPECT_EQ(mode_of(st.path(acct)), 0700u);
    EXPECT_EQ(mode_of(st.path(acct + "/key.pem")), 0600u);
    EXPECT_EQ(mode_of(st.path(acct + "/account.json")), 0644u);
    auto key = st.load_file(acct + "/key.pem", err);
    ASSERT_TRUE(key) << err;
    EXPECT_EQ(*key, "KEY");
    EXPECT_TRUE(hidden_entries(st.path(acct)).empty());
}

TEST(Storage, LoadFileErrorsNameThePath) {
    temp_dir t;
    storage st = open_storage(t);
    std::string err;
    auto missing = st.load_file("ocsp/none.der", err);
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error(), std::errc::no_such_file_or_directory);
    EXPECT_NE(err.find(st.path("ocsp/none.der")), std::string::npos) << err;
    for (const char* rel : {"../x", "a//b", "/etc/passwd", "a/./b", "a/..", ""}) {
        EXPECT_EQ(st.load_file(rel, err).error(), std::errc::invalid_argument) << rel;
        EXPECT_EQ(st.store_file(rel, "x", 0644, err).error(), std::errc::invalid_argument) << rel;
    }
    // Bundles are written whole, never file by file.
    EXPECT_EQ(st.store_file("certificates/i/n/cert.pem", "x", 0644, err).error(),
              std::errc::invalid_argument);
    EXPECT_FALSE(std::filesystem::exists(t.path + "/x"));
}

TEST(Storage, RemoveFileDeletesOnceAndRefusesUnsafePaths) {
    temp_dir t;
    storage st = open_storage(t);
    std::string err;
    const std::string rel = pending_order_path("ca.test-dir", "a.test") + "/order.json";
    EXPECT_EQ(rel, "pending/ca.test-dir/a.test/order.json");
    EXPECT_EQ(challenge_choice_path("ca.test-dir"), "accounts/ca.test-dir/challenge");
    ASSERT_TRUE(st.store_file(rel, "{}", 0600, err)) << err;
    ASSERT_TRUE(st.remove_file(rel, err)) << err;
    EXPECT_EQ(st.load_file(rel, err).error(), std::errc::no_such_file_or_directory);
    EXPECT_TRUE(st.remove_file(rel, err)) << err; // already gone: fine
    for (const char* bad : {"../x", "/etc/passwd", "a/..", ""}) {
        EXPECT_EQ(st.remove_file(bad, err).error(), std::errc::invalid_argument) << bad;
    }
    // A folder is not a file: the error names it.
    auto dir = st.remove_file("pending/ca.test-dir/a.test", err);
    ASSERT_FALSE(dir);
    EXPECT_NE(err.find(st.path("pending/ca.test-dir/a.test")), std::string::npos) << err;
}

TEST(Storage, ReplaceIsAtomicAndFailuresLeaveNoTrace) {
    temp_dir t;
    storage st = open_storage(t);
    std::string err;
    const std::string rel = ocsp_path("example.com"), file = st.path(rel);
    ASSERT_TRUE(st.store_file(rel, "old", 0644, err)) << err;

    // Just before the rename the old content is in place and the new one is a hidden file.
    int calls = 0;
    st.set_step_hook([&](write_step s) {
        if (s != write_step::file_temp_written) return true;
        ++calls;
        EXPECT_EQ(read_file(file), "old");
        const auto hidden = hidden_entries(st.path("ocsp"));
        EXPECT_EQ(hidden.size(), 1u);
        if (!hidden.empty()) {
            EXPECT_EQ(read_file(st.path("ocsp/" + hidden[0])), "new");
        }
        return true;
    });
    ASSERT_TRUE(st.store_file(rel, "new", 0644, err)) << err;
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(read_file(file), "new");

    for (write_step fail_at : {write_step::file_temp_written, write_step::file_renamed}) {
        st.set_step_hook([&](write_step s) { return s != fail_at; });
        auto r = st.store_file(rel, "newer", 0644, err);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error(), std::errc::io_error);
        EXPECT_NE(err.find(to_string(fail_at)), std::string::npos) << err;
        // Before the rename: the old file; after it: the new one. Never a temporary file.
        EXPECT_EQ(read_file(file), fail_at == write_step::file_renamed ? "newer" : "new");
        EXPECT_TRUE(hidden_entries(st.path("ocsp")).empty());
    }
}

TEST(Storage, OldTemporaryFilesAreCleanedByTheNextWrite) {
    temp_dir t;
    storage st = open_storage(t);
    std::string err;
    ASSERT_TRUE(st.store_file("ocsp/a.der", "1", 0644, err)) << err;
    const std::string dir = st.path("ocsp");
    const std::string old_tmp = dir + "/.a.der.tmp-0123456789abcdef";
    const std::string fresh_tmp = dir + "/.a.der.tmp-fedcba9876543210";
    const std::string other = dir + "/.b.der.tmp-0123456789abcdef"; // another file's
    const std::string odd = dir + "/.a.der.tmp-0123";               // not our pattern
    for (const std::string& p : {old_tmp, fresh_tmp, other, odd}) write_file(p, "x");
    for (const std::string& p : {old_tmp, other, odd}) age(p, 2 * storage::leftover_age);
    ASSERT_TRUE(st.store_file("ocsp/a.der", "2", 0644, err)) << err;
    EXPECT_FALSE(std::filesystem::exists(old_tmp));
    EXPECT_TRUE(std::filesystem::exists(fresh_tmp)); // maybe a live writer's
    EXPECT_TRUE(std::filesystem::exists(other));
    EXPECT_TRUE(std::filesystem::exists(odd));
    EXPECT_EQ(read_file(st.path("ocsp/a.der")), "2");
}

// ---- bundles --------------------------------------------------------------------------------

namespace {

const std::string issuer = "127.0.0.1-14000-dir";
const std::string name = "example.com";

std::vector<write_step> bundle_steps() {
    return {write_step::bundle_folder_made,  write_step::bundle_key_written,
            write_step::bundle_cert_written, write_step::bundle_meta_written,
            write_step::bundle_synced,       write_step::bundle_link_made,
            write_step::bundle_swapped,      write_step::bundle_old_removed};
}

bool swapped_by(write_step s) {
    return s == write_step::bundle_swapped || s == write_step::bundle_old_removed;
}

// The number of the bundle a reader sees now; -1 for a mix, -2 for an error.
int load_number(const storage& st) {
    std::string err;
    auto b = st.load_bundle(issuer, name, err);
    if (!b) {
        ADD_FAILURE() << err;
        return -2;
    }
    return number_of(*b);
}

} // namespace

TEST(StorageBundle, RoundTripModesAndLayout) {
    temp_dir t;
    storage st = open_storage(t);
    std::string err;
    auto none = st.load_bundle(issuer, name, err);
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error(), std::errc::no_such_file_or_directory);

    ASSERT_TRUE(st.store_bundle(issuer, name, numbered(1), err)) << err;
    ASSERT_TRUE(st.store_bundle(issuer, name, numbered(2), err)) << err;
    auto b = st.load_bundle(issuer, name, err);
    ASSERT_TRUE(b) << err;
    EXPECT_EQ(b->cert_pem, numbered(2).cert_pem);
    EXPECT_EQ(b->key_pem, numbered(2).key_pem);
    EXPECT_EQ(b->meta_json, numbered(2).meta_json);

    const std::string dir = st.path(certificate_path(issuer, name));
    EXPECT_EQ(mode_of(st.path("certificates")), 0700u);
    EXPECT_EQ(mode_of(st.path("certificates/" + issuer)), 0700u);
    EXPECT_TRUE(std::filesystem::is_symlink(dir));
    EXPECT_EQ(mode_of(std::filesystem::canonical(dir)), 0700u);
    EXPECT_EQ(mode_of(dir + "/key.pem"), 0600u);
    EXPECT_EQ(mode_of(dir + "/cert.pem"), 0644u);
    EXPECT_EQ(mode_of(dir + "/meta.json"), 0644u);
    // The previous version is gone: one hidden version folder, the current one.
    const auto hidden = hidden_entries(st.path("certificates/" + issuer));
    ASSERT_EQ(hidden.size(), 1u);
    EXPECT_EQ(std::filesystem::read_symlink(dir).string(), hidden[0]);
}

TEST(StorageBundle, UnsafeKeysAreRefused) {
    temp_dir t;
    storage st = open_storage(t);
    std::string err;
    for (const char* bad : {"..", "../x", "a/b", "", ".hidden", "UPPER"}) {
        EXPECT_EQ(st.store_bundle(bad, name, numbered(1), err).error(),
                  std::errc::invalid_argument);
        EXPECT_EQ(st.store_bundle(issuer, bad, numbered(1), err).error(),
                  std::errc::invalid_argument);
        EXPECT_EQ(st.load_bundle(issuer, bad, err).error(), std::errc::invalid_argument);
    }
    EXPECT_FALSE(std::filesystem::exists(st.path("certificates")));
}

TEST(StorageBundle, CorruptFilesAreReportedByName) {
    temp_dir t;
    storage st = open_storage(t);
    std::string err;
    const std::string dir = st.path(certificate_path(issuer, name));
    struct {
        const char* file;
        const char* content; // nullptr: delete the file
    } cases[] = {{"cert.pem", "garbage"}, {"cert.pem", ""},   {"key.pem", "-----BEGIN X-----"},
                 {"meta.json", "[1,2]"},  {"meta.json", "{"}, {"meta.json", nullptr},
                 {"key.pem", nullptr}};
    for (const auto& c : cases) {
        ASSERT_TRUE(st.store_bundle(issuer, name, numbered(1), err)) << err;
        if (c.content) {
            write_file(dir + "/" + c.file, c.content);
        } else {
            ::unlink((dir + "/" + c.file).c_str());
        }
        auto b = st.load_bundle(issuer, name, err);
        ASSERT_FALSE(b) << c.file;
        EXPECT_EQ(b.error(), std::errc::bad_message) << c.file;
        EXPECT_NE(err.find(dir + "/" + c.file), std::string::npos) << err;
    }
}

TEST(StorageBundle, InjectedFailureAtEveryStepLeavesOldOrNew) {
    for (write_step fail_at : bundle_steps()) {
        SCOPED_TRACE(to_string(fail_at));
        temp_dir t;
        storage st = open_storage(t);
        std::string err;
        ASSERT_TRUE(st.store_bundle(issuer, name, numbered(1), err)) << err;
        st.set_step_hook([&](write_step s) { return s != fail_at; });
        auto r = st.store_bundle(issuer, name, numbered(2), err);
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error(), std::errc::io_error);
        EXPECT_EQ(load_number(st), swapped_by(fail_at) ? 2 : 1);
        // Before the swap the failed write took its files away; after it, at most the old
        // version remains (a leftover for the next write).
        const auto hidden = hidden_entries(st.path("certificates/" + issuer));
        EXPECT_EQ(hidden.size(), fail_at == write_step::bundle_swapped ? 2u : 1u);
        st.set_step_hook(nullptr);
        ASSERT_TRUE(st.store_bundle(issuer, name, numbered(3), err)) << err;
        EXPECT_EQ(load_number(st), 3);
    }
}

TEST(StorageBundle, CrashAtEveryStepLeavesOldOrNew) {
    for (write_step crash_at : bundle_steps()) {
        SCOPED_TRACE(to_string(crash_at));
        temp_dir t;
        storage st = open_storage(t);
        std::string err;
        ASSERT_TRUE(st.store_bundle(issuer, name, numbered(1), err)) << err;
        const pid_t child = ::fork();
        ASSERT_GE(child, 0);
        if (child == 0) {
            st.set_step_hook([&](write_step s) {
                if (s == crash_at) ::_exit(0); // no cleanup, like a crash
                return true;
            });
            std::string e;
            (void)st.store_bundle(issuer, name, numbered(2), e);
            ::_exit(1);
        }
        int status = 0;
        ASSERT_EQ(::waitpid(child, &status, 0), child);
        ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        EXPECT_EQ(load_number(st), swapped_by(crash_at) ? 2 : 1);

        // The next write succeeds; fresh leftovers stay (they could be a live writer's) ...
        const std::string parent = st.path("certificates/" + issuer);
        ASSERT_TRUE(st.store_bundle(issuer, name, numbered(3), err)) << err;
        EXPECT_EQ(load_number(st), 3);
        // ... and old ones are deleted by the write after.
        for (const std::string& h : hidden_entries(parent)) age(parent + "/" + h, 3600);
        ASSERT_TRUE(st.store_bundle(issuer, name, numbered(4), err)) << err;
        EXPECT_EQ(load_number(st), 4);
        EXPECT_EQ(hidden_entries(parent).size(), 1u);
    }
}

TEST(StorageBundle, ReadersNeverSeeAMixWhileAnotherProcessWrites) {
    temp_dir t;
    storage st = open_storage(t);
    std::string err;
    ASSERT_TRUE(st.store_bundle(issuer, name, numbered(0), err)) << err;
    constexpr int writes = 100;
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        std::string e;
        for (int i = 1; i <= writes; ++i) {
            if (!st.store_bundle(issuer, name, numbered(i), e)) ::_exit(1);
        }
        ::_exit(0);
    }
    int last = 0, reads = 0, status = 0;
    while (::waitpid(child, &status, WNOHANG) == 0) {
        const int n = load_number(st);
        ASSERT_GE(n, last) << "a mix or an older bundle after a newer one";
        last = n;
        ++reads;
    }
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    EXPECT_EQ(load_number(st), writes);
    EXPECT_GT(reads, 0);
}

TEST(StorageBundle, APlainFolderIsReplacedWhole) {
    temp_dir t;
    storage st = open_storage(t);
    std::string err;
    const std::string dir = st.path(certificate_path(issuer, name));
    std::filesystem::create_directories(dir);
    for (const char* f : {"cert.pem", "key.pem", "meta.json", "names"})
        write_file(dir + "/" + f, "old");
    ASSERT_TRUE(st.store_bundle(issuer, name, numbered(5), err)) << err;
    EXPECT_TRUE(std::filesystem::is_symlink(dir));
    EXPECT_EQ(load_number(st), 5);
    EXPECT_EQ(hidden_entries(st.path("certificates/" + issuer)).size(), 1u);
}
