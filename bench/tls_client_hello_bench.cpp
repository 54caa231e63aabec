// ClientHello pre-parser throughput on real hellos (see tests/tls/client_hello_test.cpp for how
// they were captured): curl 7.88.1 / OpenSSL 3.0.19 (517 bytes, padded, the common case), an
// OpenSSL TLS 1.3 resumption hello with pre_shared_key (606 bytes), and the curl hello split over
// two records, which takes the reassembly path through the scratch string.
#include "ringlet/tls/client_hello.hpp"
#include "tls/captured_hellos.hpp"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace {

using namespace ringlet::tls;
using ringlet::test::curl_hello;
using ringlet::test::openssl_psk;

// The curl hello re-recorded as two handshake records of 300 and 212 bytes.
std::vector<std::uint8_t> split_in_two(std::span<const std::uint8_t> rec) {
    const std::span<const std::uint8_t> msg = rec.subspan(5);
    std::vector<std::uint8_t> out;
    for (std::size_t at = 0; at < msg.size();) {
        const std::size_t n = std::min<std::size_t>(300, msg.size() - at);
        out.insert(out.end(), {22, 3, 1, static_cast<std::uint8_t>(n >> 8),
                               static_cast<std::uint8_t>(n & 0xff)});
        out.insert(out.end(), msg.begin() + static_cast<std::ptrdiff_t>(at),
                   msg.begin() + static_cast<std::ptrdiff_t>(at + n));
        at += n;
    }
    return out;
}

void parse(benchmark::State& state, std::span<const std::uint8_t> raw) {
    client_hello_info info;
    std::string scratch;
    scratch.reserve(max_client_hello + 4);
    for (auto _ : state) {
        // Hide the buffer from the optimiser so the parse cannot be hoisted out of the loop.
        const std::uint8_t* p = raw.data();
        benchmark::DoNotOptimize(p);
        const hello_result r = parse_client_hello(std::span(p, raw.size()), info, scratch);
        benchmark::DoNotOptimize(r);
        benchmark::DoNotOptimize(info);
        if (r.status != hello_status::complete) {
            state.SkipWithError("parse failed");
            break;
        }
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                            static_cast<std::int64_t>(raw.size()));
    state.counters["bytes_per_hello"] = static_cast<double>(raw.size());
}

void BM_parse_curl_hello(benchmark::State& state) {
    parse(state, curl_hello);
}
void BM_parse_openssl_psk_hello(benchmark::State& state) {
    parse(state, openssl_psk);
}
void BM_parse_curl_hello_two_records(benchmark::State& state) {
    static const std::vector<std::uint8_t> two = split_in_two(curl_hello);
    parse(state, two);
}

BENCHMARK(BM_parse_curl_hello);
BENCHMARK(BM_parse_openssl_psk_hello);
BENCHMARK(BM_parse_curl_hello_two_records);

} // namespace
