#include "load/report.hpp"

#include <gtest/gtest.h>

#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

using namespace ringlet::load;

namespace {

bool contains(std::string_view hay, std::string_view needle) {
    return hay.find(needle) != std::string_view::npos;
}

// 10 s, 1000 answered (990 x 200, 10 x 404), 1 timeout, 2 resets, 5 MB, 64 handshakes.
load_report sample_report() {
    load_report r;
    r.requests_sent = 1002;
    for (int i = 0; i < 990; ++i) r.count_status(200);
    for (int i = 0; i < 10; ++i) r.count_status(404);
    r.count_error(error_kind::timeout);
    r.count_error(error_kind::reset);
    r.count_error(error_kind::reset);
    r.bytes_received = 5'000'000;
    r.connections = 64;
    r.handshakes = 64;
    r.resumed_handshakes = 16;
    r.elapsed_seconds = 10;
    for (int i = 1; i <= 1000; ++i) r.latency.record(std::uint64_t(i) * 1000); // 1 us .. 1 ms
    return r;
}

load_options sample_options() {
    load_options o;
    target t;
    t.url = "https://localhost:8443/a\"b\\c";
    o.targets.push_back(t);
    o.connections = 64;
    o.threads = 2;
    return o;
}

struct python_result {
    bool ran = false;
    std::string out;
};

// Runs `script` with python3 on `input` as stdin; ran=false when python3 is missing.
python_result python(const std::string& script, const std::string& input) {
    if (std::system("python3 -c pass >/dev/null 2>&1") != 0) return {};
    const auto dir = std::filesystem::temp_directory_path();
    const std::string base = "ringlet-load-json-" + std::to_string(::getpid());
    const auto in = dir / (base + ".json"), py = dir / (base + ".py");
    std::ofstream(in) << input;
    std::ofstream(py) << script;
    const std::string cmd = "python3 " + py.string() + " < " + in.string() + " 2>&1";
    python_result r{true, {}};
    if (FILE* f = ::popen(cmd.c_str(), "r")) {
        std::array<char, 4096> buf{};
        while (std::size_t n = std::fread(buf.data(), 1, buf.size(), f))
            r.out.append(buf.data(), n);
        ::pclose(f);
    }
    std::filesystem::remove(in);
    std::filesystem::remove(py);
    return r;
}

} // namespace

TEST(report, counts_statuses_errors_and_merges) {
    load_report a = sample_report();
    EXPECT_EQ(a.answered(), 1000u);
    EXPECT_EQ(a.failed(), 3u);
    a.count_status(99); // not a status code: a bad response
    a.count_status(600);
    EXPECT_EQ(a.answered(), 1000u);
    EXPECT_EQ(a.errors[std::size_t(error_kind::bad_response)], 2u);

    load_report b = sample_report();
    b.elapsed_seconds = 12;
    b.latency.record(5'000'000);
    a.merge(b);
    EXPECT_EQ(a.requests_sent, 2004u);
    EXPECT_EQ(a.status[200], 1980u);
    EXPECT_EQ(a.status[404], 20u);
    EXPECT_EQ(a.errors[std::size_t(error_kind::reset)], 4u);
    EXPECT_EQ(a.failed(), 8u);
    EXPECT_EQ(a.bytes_received, 10'000'000u);
    EXPECT_EQ(a.handshakes, 128u);
    EXPECT_EQ(a.resumed_handshakes, 32u);
    EXPECT_EQ(a.elapsed_seconds, 12.0); // threads ran side by side: the longest, not the sum
    EXPECT_EQ(a.latency.count(), 2001u);
    EXPECT_EQ(a.latency.max(), 5'000'000u);
}

TEST(report, text_shows_rates_latencies_statuses_and_errors) {
    const std::string t = format_text(sample_report());
    EXPECT_TRUE(contains(t, "req/s")) << t;
    EXPECT_TRUE(contains(t, "100.0")) << t; // 1000 answered / 10 s
    EXPECT_TRUE(contains(t, "0.50")) << t;  // 5 MB / 10 s
    EXPECT_TRUE(contains(t, "6.4")) << t;   // 64 handshakes / 10 s
    EXPECT_TRUE(contains(t, "p99.9")) << t;
    EXPECT_TRUE(contains(t, "500us")) << t;  // p50 of 1..1000 us
    EXPECT_TRUE(contains(t, "900us")) << t;  // p90
    EXPECT_TRUE(contains(t, "990us")) << t;  // p99
    EXPECT_TRUE(contains(t, "1.00ms")) << t; // p99.9 and max
    EXPECT_TRUE(contains(t, "1002 sent, 1000 answered, 3 failed in 10.00 s")) << t;
    EXPECT_TRUE(contains(t, "200: 990, 404: 10")) << t;
    EXPECT_TRUE(contains(t, "timeout: 1, reset: 2")) << t;
    EXPECT_FALSE(contains(t, "connect:")) << t; // kinds that did not happen are left out
    EXPECT_TRUE(contains(t, "64 (16 resumed)")) << t;
    EXPECT_EQ(t.back(), '\n');

    const std::string empty = format_text(load_report{});
    EXPECT_TRUE(contains(empty, "status      none")) << empty;
    EXPECT_TRUE(contains(empty, "errors      none")) << empty;
    EXPECT_TRUE(contains(empty, "0.0")) << empty; // no division by zero elapsed
}

TEST(report, json_parses_and_carries_the_numbers) {
    const std::string j = format_json(sample_report(), sample_options());
    const python_result r = python(R"(
import json, sys
d = json.load(sys.stdin)
assert d["schema"] == "ringlet-load/1", d["schema"]
assert d["targets"] == ['https://localhost:8443/a"b\\c'], d["targets"]
assert d["mode"] == "keepalive"
assert (d["connections"], d["threads"], d["pipeline"]) == (64, 2, 1)
assert d["elapsed_seconds"] == 10
assert d["requests"] == {"sent": 1002, "answered": 1000, "failed": 3, "per_second": 100}, d["requests"]
assert d["bytes_received"] == 5000000 and d["megabytes_per_second"] == 0.5
assert d["connections_opened"] == 64
assert d["handshakes"] == {"total": 64, "resumed": 16, "per_second": 6.4}, d["handshakes"]
assert d["status"] == {"200": 990, "404": 10}, d["status"]
assert list(d["status"]) == ["200", "404"]
assert d["errors"] == {"connect": 0, "tls": 0, "timeout": 1, "reset": 2, "bad_response": 0}
l = d["latency_us"]
assert l["count"] == 1000 and l["min"] == 1 and l["max"] == 1000, l
assert abs(l["mean"] - 500.5) < 1e-9, l
assert abs(l["p50"] - 500) <= 0.5 and abs(l["p90"] - 900) <= 1 and abs(l["p99"] - 990) <= 1, l
assert abs(l["p99_9"] - 999) <= 1 and l["saturated"] == 0, l
print("OK")
)",
                                   j);
    if (!r.ran) GTEST_SKIP() << "no python3";
    EXPECT_EQ(r.out, "OK\n") << r.out << "\n" << j;

    const python_result e = python("import json,sys; d=json.load(sys.stdin); "
                                   "print(d['latency_us']['p99'], d['requests']['per_second'])",
                                   format_json(load_report{}, load_options{}));
    EXPECT_EQ(e.out, "0.0 0.0\n") << e.out;
}

TEST(report, json_strings_are_escaped) {
    EXPECT_EQ(json_string("plain"), "\"plain\"");
    EXPECT_EQ(json_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
    EXPECT_EQ(json_string(std::string_view("\n\t\x01\x7f", 4)), "\"\\n\\t\\u0001\\u007f\"");
    EXPECT_EQ(json_string(std::string_view("\0", 1)), "\"\\u0000\"");
    EXPECT_EQ(json_string("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
              "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""); // valid UTF-8 passes
    EXPECT_EQ(json_string("\xff"), "\"\\ufffd\"");
    EXPECT_EQ(json_string("\xc3"), "\"\\ufffd\"");                       // truncated
    EXPECT_EQ(json_string("\xc0\xaf"), "\"\\ufffd\\ufffd\"");            // overlong '/'
    EXPECT_EQ(json_string("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\""); // a surrogate
    const python_result r =
        python("import json,sys; print(json.load(sys.stdin) == 'x\"\\\\\\n\\x01\\ufffd')",
               json_string("x\"\\\n\x01\xfe"));
    if (r.ran) {
        EXPECT_EQ(r.out, "True\n") << r.out;
    }
}

TEST(report, durations_keep_three_significant_digits) {
    EXPECT_EQ(format_duration_ns(850), "850ns");
    EXPECT_EQ(format_duration_ns(999.4), "999ns");
    EXPECT_EQ(format_duration_ns(999.7), "1.00us");
    EXPECT_EQ(format_duration_ns(12'345), "12.3us");
    EXPECT_EQ(format_duration_ns(999'700), "1.00ms");
    EXPECT_EQ(format_duration_ns(1'234'567), "1.23ms");
    EXPECT_EQ(format_duration_ns(9'996'000), "10.0ms");
    EXPECT_EQ(format_duration_ns(250e6), "250ms");
    EXPECT_EQ(format_duration_ns(2.5e9), "2.50s");
    EXPECT_EQ(format_duration_ns(-5), "0ns");
}

TEST(report, progress_line_uses_the_window_since_the_previous_sample) {
    const progress_sample prev{2.0, 20000, 1, 20'000'000, 0};
    const progress_sample now{3.0, 30500, 4, 30'270'000, 0};
    const std::string l = format_progress(now, prev, 10.0, std::nullopt);
    EXPECT_EQ(l, "[   3.0s/10s]  30500 answered  10500 req/s  10.27 MB/s  4 failed");
    // Bounded by requests, fractional duration, handshakes shown once there are some.
    const std::string h = format_progress({1.5, 300, 0, 0, 150}, {1.0, 100, 0, 0, 50}, 2.5, 1000);
    EXPECT_EQ(h, "[   1.5s/2.5s]  300/1000 answered  400 req/s  0.00 MB/s  200 hs/s  0 failed");
    // No usable window (first sample, or a clock that did not move): rates over the whole run.
    const std::string first =
        format_progress({2.0, 1000, 0, 0, 0}, {2.0, 1000, 0, 0, 0}, std::nullopt, std::nullopt);
    EXPECT_EQ(first, "[   2.0s]  1000 answered  500 req/s  0.00 MB/s  0 failed");
    EXPECT_EQ(format_progress({}, {}, std::nullopt, std::nullopt),
              "[   0.0s]  0 answered  0 req/s  0.00 MB/s  0 failed");
}
