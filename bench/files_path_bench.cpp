// Request-path normalisation (files::normalize_path), run once per request before any file
// system call, on the paths a static site sees and on the hostile ones a scanner sends. The
// output string keeps its capacity across iterations, as a connection's does, so the numbers
// are the steady state (no allocation). Each case checks its expected verdict once first.
#include "ringlet/files/path.hpp"

#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace {

using namespace ringlet::files;

std::string repeat(std::string_view s, int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out.append(s);
    return out;
}

void normalize(benchmark::State& state, std::string_view raw, path_error expected) {
    std::string out;
    out.reserve(max_path_length);
    if (normalize_path(raw, out) != expected) {
        state.SkipWithError("unexpected verdict");
        return;
    }
    for (auto _ : state) {
        const char* p = raw.data();
        benchmark::DoNotOptimize(p);
        const path_error e = normalize_path(std::string_view(p, raw.size()), out);
        benchmark::DoNotOptimize(e);
        benchmark::DoNotOptimize(out.data());
    }
    state.SetBytesProcessed(std::int64_t(state.iterations()) * std::int64_t(raw.size()));
}

// Typical.
void BM_root(benchmark::State& s) {
    normalize(s, "/", path_error::none);
}
void BM_index_html(benchmark::State& s) {
    normalize(s, "/index.html", path_error::none);
}
void BM_asset(benchmark::State& s) {
    normalize(s, "/assets/css/main.3f9a2c.css", path_error::none);
}
void BM_deep_blog_post(benchmark::State& s) {
    normalize(s, "/blog/2024/05/why-we-rewrote-the-build-in-a-weekend/index.html",
              path_error::none);
}
void BM_percent_encoded(benchmark::State& s) {
    normalize(s, "/docs/caf%C3%A9%20menu%20(2024).pdf", path_error::none);
}

// Hostile.
void BM_dotdot_escape(benchmark::State& s) {
    normalize(s, "/static/../../../../etc/passwd", path_error::escapes_root);
}
void BM_encoded_dotdot_escape(benchmark::State& s) {
    normalize(s, "/%2e%2e/%2E%2e/%2e%2E/etc/passwd", path_error::escapes_root);
}
void BM_encoded_slash(benchmark::State& s) {
    normalize(s, "/..%2f..%2f..%2fetc%2fpasswd", path_error::encoded_separator);
}
void BM_double_encoded(benchmark::State& s) {
    normalize(s, "/%252e%252e/%252e%252e/etc/passwd", path_error::none);
}
void BM_nul_byte(benchmark::State& s) {
    normalize(s, "/index.html%00.png", path_error::nul);
}
void BM_dot_segments_4k(benchmark::State& s) {
    static const std::string p = repeat("/", 1) + repeat("a/./b/../", 400) + "index.html"; // 3.6 KB
    normalize(s, p, path_error::none);
}
void BM_slashes_4k(benchmark::State& s) {
    static const std::string p = repeat("/", 4000) + "index.html";
    normalize(s, p, path_error::none);
}
void BM_too_long(benchmark::State& s) {
    static const std::string p = repeat("/", 1) + repeat("x", 8192);
    normalize(s, p, path_error::too_long);
}

void BM_has_dot_segment(benchmark::State& state) {
    const std::string_view rel = "blog/2024/05/why-we-rewrote-the-build-in-a-weekend/index.html";
    for (auto _ : state) {
        const char* p = rel.data();
        benchmark::DoNotOptimize(p);
        benchmark::DoNotOptimize(has_dot_segment(std::string_view(p, rel.size())));
    }
}

BENCHMARK(BM_root);
BENCHMARK(BM_index_html);
BENCHMARK(BM_asset);
BENCHMARK(BM_deep_blog_post);
BENCHMARK(BM_percent_encoded);
BENCHMARK(BM_dotdot_escape);
BENCHMARK(BM_encoded_dotdot_escape);
BENCHMARK(BM_encoded_slash);
BENCHMARK(BM_double_encoded);
BENCHMARK(BM_nul_byte);
BENCHMARK(BM_dot_segments_4k);
BENCHMARK(BM_slashes_4k);
BENCHMARK(BM_too_long);
BENCHMARK(BM_has_dot_segment);

} // namespace
