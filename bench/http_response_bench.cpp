// Response-head formatting as the server writes it for a static file (see
// src/server/file_response.cpp and session.cpp): Server and a cached Date line, Content-Type,
// Content-Length, Last-Modified (formatted from the file's mtime per response), ETag,
// Accept-Ranges. The head string is reused across iterations like a connection's, so this is the
// steady state (no allocation). Also the HTTP-date pieces on their own: formatting (Date once a
// second per reactor, Last-Modified per response) and parsing (If-Modified-Since).
#include "ringlet/http/date.hpp"
#include "ringlet/http/response.hpp"

#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace {

using namespace ringlet::http;

constexpr std::string_view server_line = "Server: ringlet\r\n";
constexpr std::string_view date_line = "Date: Tue, 14 May 2024 09:26:53 GMT\r\n";
constexpr std::int64_t mtime = 1715678813; // 2024-05-14 09:26:53 UTC
constexpr std::string_view etag = "\"1a2b3c-17cf0e4a91b2c3d4-5f1e\"";

void BM_head_200_static_file(benchmark::State& state) {
    std::string head;
    head.reserve(1024);
    std::int64_t t = mtime;
    std::uint64_t length = 24350;
    for (auto _ : state) {
        benchmark::DoNotOptimize(t);
        benchmark::DoNotOptimize(length);
        char lm[http_date_size];
        format_http_date(t, lm);
        response_writer w(head, 200);
        w.raw(server_line).raw(date_line);
        w.header("Content-Type", "text/css; charset=utf-8");
        w.header("Content-Length", length);
        w.header("Last-Modified", std::string_view(lm, sizeof lm))
            .header("ETag", etag)
            .raw("Accept-Ranges: bytes\r\n");
        const std::string_view out = w.finish();
        benchmark::DoNotOptimize(out.data());
    }
    state.counters["head_bytes"] = double(head.size());
    state.SetBytesProcessed(std::int64_t(state.iterations()) * std::int64_t(head.size()));
}

void BM_head_304_not_modified(benchmark::State& state) {
    std::string head;
    head.reserve(1024);
    std::int64_t t = mtime;
    for (auto _ : state) {
        benchmark::DoNotOptimize(t);
        char lm[http_date_size];
        format_http_date(t, lm);
        response_writer w(head, 304);
        w.raw(server_line).raw(date_line);
        w.header("ETag", etag).header("Last-Modified", std::string_view(lm, sizeof lm));
        const std::string_view out = w.finish();
        benchmark::DoNotOptimize(out.data());
    }
    state.counters["head_bytes"] = double(head.size());
}

void BM_format_http_date(benchmark::State& state) {
    std::int64_t t = mtime;
    char buf[http_date_size];
    for (auto _ : state) {
        benchmark::DoNotOptimize(t);
        format_http_date(t, buf);
        benchmark::DoNotOptimize(buf);
        ++t; // a different second each time: no shortcut for repeated input
    }
}

// What a reactor does once a second: format the date and rebuild its cached "Date:" line.
void BM_date_line_refresh(benchmark::State& state) {
    std::string line;
    line.reserve(64);
    std::int64_t t = mtime;
    for (auto _ : state) {
        char buf[http_date_size];
        format_http_date(t++, buf);
        line.assign("Date: ").append(buf, sizeof buf).append("\r\n");
        benchmark::DoNotOptimize(line.data());
    }
}

void BM_parse_http_date_imf(benchmark::State& state) {
    const std::string_view s = "Tue, 14 May 2024 09:26:53 GMT";
    if (parse_http_date(s) != mtime) {
        state.SkipWithError("parse_http_date disagrees");
        return;
    }
    for (auto _ : state) {
        const char* p = s.data();
        benchmark::DoNotOptimize(p);
        auto r = parse_http_date(std::string_view(p, s.size()));
        benchmark::DoNotOptimize(r);
    }
}

BENCHMARK(BM_head_200_static_file);
BENCHMARK(BM_head_304_not_modified);
BENCHMARK(BM_format_http_date);
BENCHMARK(BM_date_line_refresh);
BENCHMARK(BM_parse_http_date_imf);

} // namespace
