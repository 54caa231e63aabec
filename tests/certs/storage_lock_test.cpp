#include "ringlet/certs/storage_lock.hpp"
#include "support/files.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

using namespace ringlet;
using namespace ringlet::certs;

TEST(StorageLockFormat, RoundTrip) {
    lock_info in{1234, "host-1", 100, 110, 140, std::string(32, 'a')};
    const std::string text = format_lock(in);
    EXPECT_EQ(text, "ringlet-lock 1\npid 1234\nhost host-1\ncreated 100\nrefreshed 110\n"
                    "expires 140\ntoken aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n");
    auto out = parse_lock(text);
    ASSERT_TRUE(out);
    EXPECT_EQ(out->pid, 1234);
    EXPECT_EQ(out->host, "host-1");
    EXPECT_EQ(out->created, 100);
    EXPECT_EQ(out->refreshed, 110);
    EXPECT_EQ(out->expires, 140);
    EXPECT_EQ(out->token, in.token);
    // A host name can never break the format.
    in.host = "a b\nc";
    auto odd = parse_lock(format_lock(in));
    ASSERT_TRUE(odd);
    EXPECT_EQ(odd->host, "a?b?c");
}

TEST(StorageLockFormat, AnythingElseIsUnparsable) {
    const std::string good = format_lock({1, "h", 1, 1, 2, std::string(32, 'f')});
    EXPECT_TRUE(parse_lock(good));
    EXPECT_FALSE(parse_lock(""));
    EXPECT_FALSE(parse_lock(good.substr(0, good.size() - 1))); // torn write
    EXPECT_FALSE(parse_lock(good.substr(0, good.size() / 2)));
    EXPECT_FALSE(parse_lock(good + "x"));
    EXPECT_FALSE(parse_lock("ringlet-lock 2" + good.substr(14)));
    std::string bad_pid = good;
    bad_pid.replace(bad_pid.find("pid 1"), 5, "pid x");
    EXPECT_FALSE(parse_lock(bad_pid));
    std::string bad_token = good;
    bad_token.replace(bad_token.find("token f"), 7, "token F");
    EXPECT_FALSE(parse_lock(bad_token));
    EXPECT_FALSE(parse_lock("{\"created\":1,\"updated\":2}")); // CertMagic's
}

TEST(StorageLockFormat, StalenessDecisions) {
    lock_info l{.expires = 100};
    EXPECT_FALSE(is_stale(l, 99));
    EXPECT_TRUE(is_stale(l, 100));
    EXPECT_FALSE(unparsable_lock_is_stale(1000, 1000 + lock_grace - 1));
    EXPECT_TRUE(unparsable_lock_is_stale(1000, 1000 + lock_grace));
}

namespace {

struct temp_dir : test::scratch_dir {
    temp_dir() : scratch_dir("lock-test") {}
};

using test::read_file;
using test::write_file;

void set_mtime(const std::string& path, std::int64_t t) {
    struct timespec ts[2] = {{t, 0}, {t, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), ts, 0), 0) << path;
}

storage open_storage(const temp_dir& t) {
    std::string err;
    auto st = storage::open(t.path + "/state", err);
    EXPECT_TRUE(st) << err;
    return std::move(*st);
}

lock_attempt acquire(const storage& st, std::int64_t now, std::int64_t lease = 60,
                     const char* name = "issue_cert_example.com") {
    std::string err;
    auto a = try_acquire(st, name, now, lease, err);
    EXPECT_TRUE(a) << err;
    return a ? std::move(*a) : lock_attempt{};
}

std::int64_t wall() {
    return std::time(nullptr);
}

// Forks `n` processes that each make one try_acquire of the same lock as soon as the parent says
// go; the winner keeps it until the parent closes `hold`. Returns how many acquired it.
int race(const storage& st, int n, std::int64_t now) {
    int go[2], done[2], hold[2];
    EXPECT_EQ(::pipe(go), 0);
    EXPECT_EQ(::pipe(done), 0);
    EXPECT_EQ(::pipe(hold), 0);
    for (int i = 0; i < n; ++i) {
        if (::fork() == 0) {
            ::close(go[1]);
            ::close(done[0]);
            ::close(hold[1]);
            char c;
            if (::read(go[0], &c, 1) != 1) ::_exit(2);
            {
                std::string err;
                auto a = try_acquire(st, "issue_cert_example.com", now, 60, err);
                const char won = !a ? 'e' : a->acquired() ? 'y' : 'n';
                if (::write(done[1], &won, 1) != 1) ::_exit(2);
                if (won == 'y') (void)::read(hold[0], &c, 1); // until the parent closes it
                // the winner releases here
            }
            ::_exit(0);
        }
    }
    ::close(go[0]);
    ::close(done[1]);
    ::close(hold[0]);
    const std::string all(n, 'g');
    EXPECT_EQ(::write(go[1], all.data(), n), n);
    int won = 0, lost = 0;
    char c;
    for (int i = 0; i < n && ::read(done[0], &c, 1) == 1; ++i) {
        won += c == 'y';
        lost += c == 'n';
    }
    EXPECT_EQ(won + lost, n) << "a child failed";
    ::close(hold[1]);
    ::close(go[1]);
    ::close(done[0]);
    int status = 0;
    for (int i = 0; i < n; ++i) {
        ::wait(&status);
        EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    return won;
}

} // namespace

TEST(StorageLock, AcquireWritesOwnerAndReleaseRemoves) {
    temp_dir t;
    storage st = open_storage(t);
    const std::string file = st.path(lock_path("issue_cert_example.com"));
    {
        auto a = acquire(st, 1000, 60);
        ASSERT_TRUE(a.acquired());
        EXPECT_TRUE(a.lock->held());
        EXPECT_EQ(a.lock->path(), file);
        auto info = parse_lock(read_file(file));
        ASSERT_TRUE(info);
        EXPECT_EQ(info->pid, ::getpid());
        EXPECT_EQ(info->created, 1000);
        EXPECT_EQ(info->expires, 1060);
        EXPECT_EQ(info->token, a.lock->info().token);
        struct stat sd {};
        struct stat sf {};
        ASSERT_EQ(::stat(st.path("locks").c_str(), &sd), 0);
        ASSERT_EQ(::stat(file.c_str(), &sf), 0);
        EXPECT_EQ(sd.st_mode & 0777, 0700u);
        EXPECT_EQ(sf.st_mode & 0777, 0644u);

        // Held: a second attempt (even from the same process) reports who and until when.
        auto b = acquire(st, 1030, 60);
        EXPECT_FALSE(b.acquired());
        EXPECT_EQ(b.holder.pid, ::getpid());
        EXPECT_EQ(b.holder.expires, 1060);
        EXPECT_EQ(b.holder.token, a.lock->info().token);
        EXPECT_TRUE(std::filesystem::exists(file));
    } // the guard releases
    EXPECT_FALSE(std::filesystem::exists(file));
    auto c = acquire(st, 1031);
    ASSERT_TRUE(c.acquired());
    std::string err;
    ASSERT_TRUE(c.lock->release(err)) << err;
    EXPECT_FALSE(c.lock->held());
    EXPECT_FALSE(std::filesystem::exists(file));
    // Only the lock file, never a temporary or claim file, remains after all that.
    EXPECT_TRUE(std::filesystem::is_empty(st.path("locks")));
}

TEST(StorageLock, RefreshExtendsTheLeaseAtomically) {
    temp_dir t;
    storage st = open_storage(t);
    auto a = acquire(st, 1000, 60);
    ASSERT_TRUE(a.acquired());
    std::string err;
    ASSERT_TRUE(a.lock->refresh(1050, 60, err)) << err;
    auto info = parse_lock(read_file(a.lock->path()));
    ASSERT_TRUE(info);
    EXPECT_EQ(info->created, 1000);
    EXPECT_EQ(info->refreshed, 1050);
    EXPECT_EQ(info->expires, 1110);
    EXPECT_EQ(info->token, a.lock->info().token);
    EXPECT_FALSE(acquire(st, 1100).acquired()); // stale at 1060 without the refresh

    // Too late: the lease ran out, the lock is no longer ours to extend.
    auto r = a.lock->refresh(1110, 60, err);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::no_lock_available);
    EXPECT_FALSE(a.lock->held());
}

TEST(StorageLock, StaleLockIsTakenOverAndTheOldHolderCannotTouchIt) {
    temp_dir t;
    storage st = open_storage(t);
    auto a = acquire(st, 1000, 10);
    ASSERT_TRUE(a.acquired());
    EXPECT_FALSE(acquire(st, 1009).acquired());
    auto b = acquire(st, 1010); // expired at 1010
    ASSERT_TRUE(b.acquired());
    EXPECT_NE(b.lock->info().token, a.lock->info().token);

    std::string err;
    auto r = a.lock->release(err);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), std::errc::no_lock_available);
    auto info = parse_lock(read_file(b.lock->path()));
    ASSERT_TRUE(info);
    EXPECT_EQ(info->token, b.lock->info().token); // B's lock is untouched
    EXPECT_FALSE(a.lock->refresh(1011, 10, err));
    EXPECT_EQ(parse_lock(read_file(b.lock->path()))->token, b.lock->info().token);
    ASSERT_TRUE(b.lock->refresh(1011, 60, err)) << err;
    ASSERT_TRUE(b.lock->release(err)) << err;
}

TEST(StorageLock, EmptyOrCorruptLockFilesGetAGracePeriod) {
    for (const char* content : {"", "garbage", "ringlet-lock 1\npid 12"}) {
        temp_dir t;
        storage st = open_storage(t);
        std::string err;
        ASSERT_TRUE(st.make_dirs("locks", err)) << err;
        const std::string file = st.path(lock_path("issue_cert_example.com"));
        write_file(file, content);
        set_mtime(file, 5000);
        auto held = acquire(st, 5000 + lock_grace - 1);
        ASSERT_FALSE(held.acquired()) << content;
        EXPECT_EQ(held.holder.pid, 0);
        EXPECT_EQ(held.holder.expires, 5000 + lock_grace);
        auto taken = acquire(st, 5000 + lock_grace);
        ASSERT_TRUE(taken.acquired()) << content;
        EXPECT_TRUE(parse_lock(read_file(file)));
    }
}

TEST(StorageLock, ACrashedClaimBlocksOnlyForTheGracePeriod) {
    temp_dir t;
    storage st = open_storage(t);
    std::string err;
    ASSERT_TRUE(st.make_dirs("locks", err)) << err;
    const std::string file = st.path(lock_path("issue_cert_example.com"));
    write_file(file, format_lock({99999, "gone", 1, 1, 2, std::string(32, '0')}));
    struct stat s {};
    ASSERT_EQ(::stat(file.c_str(), &s), 0);
    const std::string claim =
        st.path("locks/.issue_cert_example.com.lock.claim-" + std::to_string(s.st_ino) + "." +
                std::to_string(s.st_mtim.tv_sec) + "." + std::to_string(s.st_mtim.tv_nsec) + "-0");
    write_file(claim, "");
    auto blocked = acquire(st, wall());
    EXPECT_FALSE(blocked.acquired()); // someone is (maybe) taking it over right now
    EXPECT_EQ(blocked.holder.pid, 99999);
    set_mtime(claim, wall() - lock_grace - 1);
    auto taken = acquire(st, wall());
    ASSERT_TRUE(taken.acquired());
    EXPECT_EQ(parse_lock(read_file(file))->pid, ::getpid());
}

TEST(StorageLock, TwoProcessesContendExactlyOneWins) {
    temp_dir t;
    storage st = open_storage(t);
    for (int round = 0; round < 30; ++round) ASSERT_EQ(race(st, 2, wall()), 1) << round;
    EXPECT_FALSE(std::filesystem::exists(st.path(lock_path("issue_cert_example.com"))));
}

TEST(StorageLock, HeldByAnotherProcessUntilItReleases) {
    temp_dir t;
    storage st = open_storage(t);
    int ready[2], release[2];
    ASSERT_EQ(::pipe(ready), 0);
    ASSERT_EQ(::pipe(release), 0);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        {
            std::string err;
            auto a = try_acquire(st, "issue_cert_example.com", 1000, 60, err);
            const char ok = a && a->acquired() ? 'y' : 'n';
            char c;
            if (::write(ready[1], &ok, 1) != 1 || ::read(release[0], &c, 1) != 1) ::_exit(2);
        }
        ::_exit(0);
    }
    char ok = 0;
    ASSERT_EQ(::read(ready[0], &ok, 1), 1);
    ASSERT_EQ(ok, 'y');
    auto held = acquire(st, 1001);
    EXPECT_FALSE(held.acquired());
    EXPECT_EQ(held.holder.pid, child);
    EXPECT_EQ(held.holder.expires, 1060);
    ASSERT_EQ(::write(release[1], "r", 1), 1);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    auto mine = acquire(st, 1002);
    EXPECT_TRUE(mine.acquired());
}

TEST(StorageLock, ProcessesRacingForAStaleLockNeverBothWin) {
    temp_dir t;
    storage st = open_storage(t);
    std::string err;
    ASSERT_TRUE(st.make_dirs("locks", err)) << err;
    const std::string file = st.path(lock_path("issue_cert_example.com"));
    for (int round = 0; round < 100; ++round) {
        // A lock left by a dead process, expired a minute ago.
        write_file(file, format_lock({99999, "gone", 1, 1, wall() - 60, std::string(32, 'd')}));
        ASSERT_EQ(race(st, round % 2 ? 2 : 3, wall()), 1) << round;
        ASSERT_FALSE(std::filesystem::exists(file));
    }
    for (const auto& e : std::filesystem::directory_iterator(st.path("locks")))
        ADD_FAILURE() << "left behind: " << e.path();
}

TEST(StorageLock, OldLeftoversAreCleanedOnAcquire) {
    temp_dir t;
    storage st = open_storage(t);
    std::string err;
    ASSERT_TRUE(st.make_dirs("locks", err)) << err;
    const std::string tmp = st.path("locks/.issue_cert_example.com.lock.tmp-0123456789abcdef");
    const std::string claim = st.path("locks/.issue_cert_example.com.lock.claim-1.2.3-0");
    const std::string other = st.path("locks/.other.lock.tmp-0123456789abcdef");
    for (const std::string& p : {tmp, claim, other}) {
        write_file(p, "");
        set_mtime(p, wall() - 2 * storage::leftover_age);
    }
    auto a = acquire(st, wall());
    ASSERT_TRUE(a.acquired());
    EXPECT_FALSE(std::filesystem::exists(tmp));
    EXPECT_FALSE(std::filesystem::exists(claim));
    EXPECT_TRUE(std::filesystem::exists(other));
}

TEST(StorageLock, BadLeaseIsRefused) {
    temp_dir t;
    storage st = open_storage(t);
    std::string err;
    auto a = try_acquire(st, "x", 1000, 0, err);
    ASSERT_FALSE(a);
    EXPECT_EQ(a.error(), std::errc::invalid_argument);
}

TEST(StorageLock, ALockOfADeadProcessOnThisHostIsTakenOverAtOnce) {
    temp_dir t;
    storage st = open_storage(t);
    const pid_t child = ::fork();
    if (child == 0) {
        std::string err;
        auto a = try_acquire(st, "issue_cert_example.com", wall(), 600, err);
        // Killed while holding it: no destructor, no release.
        ::_exit(a && a->acquired() ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    // Its lease has 10 minutes left, but its pid is gone: taken over now, not in 10 minutes.
    lock_attempt a = acquire(st, wall());
    EXPECT_TRUE(a.acquired());
    // A live holder on this host (this very process) is respected.
    lock_attempt b = acquire(st, wall());
    EXPECT_FALSE(b.acquired());
    EXPECT_EQ(b.holder.pid, ::getpid());
}

TEST(StorageLockFormat, OnlyLocalDeadHoldersAreGone) {
    lock_info other_host{.pid = 999999999, .host = "some-other-host"};
    EXPECT_FALSE(holder_is_gone(other_host)); // a pid means nothing on another machine
    lock_info unparsed{};
    EXPECT_FALSE(holder_is_gone(unparsed));
}
