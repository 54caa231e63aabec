#include "ringlet/files/file_cache.hpp"

#include "ringlet/files/encoding.hpp"
#include "ringlet/runtime/ops.hpp"
#include "support/uring.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

using namespace ringlet;
namespace fs = std::filesystem;

namespace {

struct fixture_dir {
    fs::path root, outside;
    ringlet::unique_fd root_fd;
    fixture_dir() {
        auto base = fs::temp_directory_path() / ("ringlet-cache-" + std::to_string(::getpid()));
        fs::remove_all(base);
        root = base / "root";
        outside = base / "outside";
        fs::create_directories(root / "dir");
        fs::create_directories(outside);
        write(root / "small.txt", "hello");
        write(root / "big.bin", std::string(200 * 1024, 'x'));
        write(root / "page.html", "<p>page</p>");
        write(root / "page.html.gz", "gz");
        write(root / "page.html.br", "br");
        write(outside / "secret.txt", "secret");
        fs::create_symlink(outside / "secret.txt", root / "escape.txt");
        fs::create_symlink("small.txt", root / "inside.txt");
        root_fd.reset(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    }
    ~fixture_dir() { fs::remove_all(root.parent_path()); }
    static void write(const fs::path& p, const std::string& s) { std::ofstream(p) << s; }
};

using info_ptr = std::shared_ptr<const files::file_info>;

rt::task<info_ptr> look(files::file_cache& c, int fd, std::string rel, bool probe = true) {
    co_return co_await c.lookup(fd, 0, rel, probe);
}

} // namespace

TEST(file_cache, small_files_are_held_in_memory_with_validators) {
    RINGLET_REACTOR_OR_SKIP(r);
    fixture_dir d;
    files::file_cache c;
    auto f = r->run_until_done(look(c, d.root_fd.get(), "small.txt"));
    ASSERT_EQ(f->error, 0);
    EXPECT_TRUE(f->in_memory);
    EXPECT_EQ(f->content, "hello");
    EXPECT_EQ(f->size, 5u);
    EXPECT_EQ(f->content_type, "text/plain; charset=utf-8");
    EXPECT_EQ(f->etag.front(), '"');
    EXPECT_GT(f->mtime, 0);
    EXPECT_EQ(f->sidecars, 0);
}

TEST(file_cache, large_files_keep_an_fd_instead_of_bytes) {
    RINGLET_REACTOR_OR_SKIP(r);
    fixture_dir d;
    files::file_cache c;
    auto f = r->run_until_done(look(c, d.root_fd.get(), "big.bin"));
    ASSERT_EQ(f->error, 0);
    EXPECT_FALSE(f->in_memory);
    EXPECT_TRUE(f->fd);
    EXPECT_EQ(f->size, 200u * 1024);
}

TEST(file_cache, hits_cost_no_io_until_the_ttl_passes) {
    RINGLET_REACTOR_OR_SKIP(r);
    fixture_dir d;
    files::file_cache_options o;
    o.ttl_ns = 50'000'000;
    files::file_cache c(o);
    auto a = r->run_until_done(look(c, d.root_fd.get(), "small.txt"));
    auto b = r->run_until_done(look(c, d.root_fd.get(), "small.txt"));
    EXPECT_EQ(a.get(), b.get());
    EXPECT_EQ(c.hits, 1u);
    EXPECT_EQ(c.misses, 1u);
    fixture_dir::write(d.root / "small.txt", "changed!");
    r->run_until_done([]() -> rt::task<void> { co_await rt::sleep_for(60'000'000); }());
    auto after = r->run_until_done(look(c, d.root_fd.get(), "small.txt"));
    EXPECT_EQ(after->content, "changed!");
    EXPECT_NE(after->etag, a->etag);
    EXPECT_EQ(c.misses, 2u);
}

TEST(file_cache, negative_results_are_cached_too) {
    RINGLET_REACTOR_OR_SKIP(r);
    fixture_dir d;
    files::file_cache c;
    auto a = r->run_until_done(look(c, d.root_fd.get(), "missing.txt"));
    auto b = r->run_until_done(look(c, d.root_fd.get(), "missing.txt"));
    EXPECT_EQ(a->error, ENOENT);
    EXPECT_EQ(b->error, ENOENT);
    EXPECT_EQ(c.misses, 1u);
}

TEST(file_cache, symlinks_may_not_leave_the_root) {
    RINGLET_REACTOR_OR_SKIP(r);
    fixture_dir d;
    files::file_cache c;
    auto escape = r->run_until_done(look(c, d.root_fd.get(), "escape.txt"));
    EXPECT_NE(escape->error, 0);
    EXPECT_TRUE(escape->content.empty());
    auto inside = r->run_until_done(look(c, d.root_fd.get(), "inside.txt"));
    EXPECT_EQ(inside->error, 0);
    EXPECT_EQ(inside->content, "hello");
    auto dotdot = r->run_until_done(look(c, d.root_fd.get(), "../outside/secret.txt"));
    EXPECT_EQ(dotdot->error, EXDEV);
}

TEST(file_cache, folders_and_sidecars_are_recognised) {
    RINGLET_REACTOR_OR_SKIP(r);
    fixture_dir d;
    files::file_cache c;
    auto dir = r->run_until_done(look(c, d.root_fd.get(), "dir"));
    EXPECT_EQ(dir->error, 0);
    EXPECT_TRUE(dir->is_dir);
    auto root = r->run_until_done(look(c, d.root_fd.get(), ""));
    EXPECT_TRUE(root->is_dir);
    auto page = r->run_until_done(look(c, d.root_fd.get(), "page.html"));
    EXPECT_EQ(page->sidecars, static_cast<std::uint8_t>(files::content_coding::br) |
                                  static_cast<std::uint8_t>(files::content_coding::gzip));
}

TEST(file_cache, expired_entries_give_back_their_descriptors) {
    RINGLET_REACTOR_OR_SKIP(r);
    fixture_dir d;
    fixture_dir::write(d.root / "big2.bin", std::string(100 * 1024, 'y'));
    fixture_dir::write(d.root / "big3.bin", std::string(100 * 1024, 'z'));
    files::file_cache_options o;
    o.ttl_ns = 20'000'000;
    o.max_open_files = 2;
    files::file_cache c(o);
    for (const char* f : {"big.bin", "big2.bin", "big3.bin"}) {
        auto info = r->run_until_done(look(c, d.root_fd.get(), f));
        EXPECT_EQ(info->error, 0) << f;
        EXPECT_TRUE(info->fd) << f; // served from an fd whether cached or not
    }
    EXPECT_EQ(c.open_files(), 2u); // the cap holds
    r->run_until_done([]() -> rt::task<void> { co_await rt::sleep_for(30'000'000); }());
    (void)r->run_until_done(look(c, d.root_fd.get(), "small.txt")); // a later miss sweeps
    EXPECT_EQ(c.open_files(), 0u);
}
