// Certificate lookup by SNI as a reactor does it: `cell.read()->find(sni)` on a cert_table
// published through rt::rcu_cell, with a quiescent() every 64 lookups (a loop turn).
//
// Tables: N exact names "siteI.example" plus max(1, N/10) wildcards "*.wI.example", spread
// round-robin over min(N, 100) entries that share one internal-CA certificate (the lookup
// cost depends on the name maps, not on how many contexts exist; 10,000 contexts would only
// make the set-up slow). Lookups cycle through 256 different names so that a large table is
// not read from one hot cache line:
//   exact     "siteI.example"
//   wildcard  "www.wI.example"  (exact miss, then the parent hit)
//   miss      "nosuchI.invalid" (both misses, the default entry)
//   upper     "SiteI.Example."  (case folding and the trailing dot)
#include "ringlet/runtime/rcu.hpp"
#include "ringlet/tls/cert_table.hpp"
#include "tls_bench_support.hpp"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace ringlet;

enum class lookup { exact, wildcard, miss, upper };

rt::rcu_domain& domain() {
    static rt::rcu_domain d;
    return d;
}

// One published table per size, built on first use and kept for the process.
rt::rcu_cell<tls::cert_table>* table_of(std::size_t n, std::string& err) {
    rt::rcu_domain& d = domain(); // constructed first so that it is destroyed after the cells
    static std::map<std::size_t, std::unique_ptr<rt::rcu_cell<tls::cert_table>>> cells;
    if (auto it = cells.find(n); it != cells.end()) return it->second.get();
    static std::optional<bench::issued> cert = bench::issue_certificate({"localhost"}, err);
    if (!cert) return nullptr;
    const std::size_t wild = std::max<std::size_t>(1, n / 10);
    std::vector<tls::cert_source> sources(std::min<std::size_t>(n, 100));
    for (auto& s : sources) s.cert = cert->cert;
    for (std::size_t i = 0; i < n; ++i) {
        sources[i % sources.size()].names.push_back("site" + std::to_string(i) + ".example");
    }
    for (std::size_t i = 0; i < wild; ++i) {
        sources[i % sources.size()].names.push_back("*.w" + std::to_string(i) + ".example");
    }
    auto keys = std::make_shared<const tls::ticket_keys>(tls::ticket_keys::generate(0));
    auto t = tls::cert_table::build(std::move(sources), 1, keys, false, 1, err);
    if (!t) return nullptr;
    auto cell = std::make_unique<rt::rcu_cell<tls::cert_table>>(d, std::move(*t));
    return cells.emplace(n, std::move(cell)).first->second.get();
}

std::vector<std::string> queries(std::size_t n, lookup kind) {
    const std::size_t wild = std::max<std::size_t>(1, n / 10);
    std::vector<std::string> q;
    for (std::size_t k = 0; k < 256; ++k) {
        const std::size_t i = (k * 7919) % n, w = (k * 7919) % wild;
        switch (kind) {
        case lookup::exact:
            q.push_back("site" + std::to_string(i) + ".example");
            break;
        case lookup::wildcard:
            q.push_back("www.w" + std::to_string(w) + ".example");
            break;
        case lookup::miss:
            q.push_back("nosuch" + std::to_string(k) + ".invalid");
            break;
        case lookup::upper:
            q.push_back("Site" + std::to_string(i) + ".Example.");
            break;
        }
    }
    return q;
}

void find(benchmark::State& state, lookup kind) {
    const auto n = static_cast<std::size_t>(state.range(0));
    std::string err;
    rt::rcu_cell<tls::cert_table>* cell = table_of(n, err);
    if (!cell) {
        state.SkipWithError(err.c_str());
        return;
    }
    rt::rcu_reader reader(domain());
    const std::vector<std::string> q = queries(n, kind);
    // Check once that each query lands where it should, so the loop measures the right path.
    const tls::cert_entry* fallback = cell->read()->entries().front().get();
    for (const std::string& s : q) {
        const tls::cert_entry* e = cell->read()->find(s);
        const bool hit = e && (kind == lookup::miss ? e == fallback : true);
        if (!hit) {
            state.SkipWithError("lookup went the wrong way");
            return;
        }
    }
    std::uint32_t i = 0;
    for (auto _ : state) {
        const std::string& s = q[i & 255];
        const tls::cert_entry* e = cell->read()->find(s);
        benchmark::DoNotOptimize(e);
        if ((++i & 63) == 0) reader.quiescent();
    }
    state.counters["names"] = double(n + std::max<std::size_t>(1, n / 10));
}

void BM_find_exact(benchmark::State& s) {
    find(s, lookup::exact);
}
void BM_find_wildcard(benchmark::State& s) {
    find(s, lookup::wildcard);
}
void BM_find_miss(benchmark::State& s) {
    find(s, lookup::miss);
}
void BM_find_upper_case_dot(benchmark::State& s) {
    find(s, lookup::upper);
}

BENCHMARK(BM_find_exact)->Arg(1)->Arg(100)->Arg(10000);
BENCHMARK(BM_find_wildcard)->Arg(1)->Arg(100)->Arg(10000);
BENCHMARK(BM_find_miss)->Arg(1)->Arg(100)->Arg(10000);
BENCHMARK(BM_find_upper_case_dot)->Arg(1)->Arg(100)->Arg(10000);

} // namespace
