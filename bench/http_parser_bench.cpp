// Request-head parser throughput on the two requests a static server sees most: a browser
// sub-resource fetch (Chrome 124, 552 bytes, 13 fields) and a minimal curl GET.
#include "ringlet/http/parser.hpp"

#include <benchmark/benchmark.h>

#include <cstdint>
#include <string_view>

namespace {

using namespace ringlet::http;

constexpr std::string_view chrome_get =
    "GET /assets/css/main.css?v=3f9a2c HTTP/1.1\r\n"
    "Host: www.example.com\r\n"
    "Connection: keep-alive\r\n"
    "sec-ch-ua: \"Chromium\";v=\"124\", \"Google Chrome\";v=\"124\", \"Not-A.Brand\";v=\"99\"\r\n"
    "sec-ch-ua-mobile: ?0\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36\r\n"
    "sec-ch-ua-platform: \"Linux\"\r\n"
    "Accept: text/css,*/*;q=0.1\r\n"
    "Sec-Fetch-Site: same-origin\r\n"
    "Sec-Fetch-Mode: no-cors\r\n"
    "Sec-Fetch-Dest: style\r\n"
    "Referer: https://www.example.com/\r\n"
    "Accept-Encoding: gzip, deflate, br, zstd\r\n"
    "Accept-Language: en-US,en;q=0.9\r\n"
    "\r\n";

constexpr std::string_view curl_get = "GET / HTTP/1.1\r\n"
                                      "Host: localhost:8080\r\n"
                                      "User-Agent: curl/7.88.1\r\n"
                                      "Accept: */*\r\n"
                                      "\r\n";

void parse(benchmark::State& state, std::string_view raw) {
    request req;
    for (auto _ : state) {
        // Hide the buffer from the optimiser so the parse cannot be hoisted out of the loop.
        const char* p = raw.data();
        benchmark::DoNotOptimize(p);
        const parse_result r = parse_request(std::string_view(p, raw.size()), req);
        benchmark::DoNotOptimize(r);
        benchmark::DoNotOptimize(req);
        if (r.status != parse_status::complete) {
            state.SkipWithError("parse failed");
            break;
        }
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                            static_cast<std::int64_t>(raw.size()));
    state.counters["bytes_per_request"] = static_cast<double>(raw.size());
}

void BM_parse_chrome_get(benchmark::State& state) {
    parse(state, chrome_get);
}
void BM_parse_curl_get(benchmark::State& state) {
    parse(state, curl_get);
}

BENCHMARK(BM_parse_chrome_get);
BENCHMARK(BM_parse_curl_get);

} // namespace
