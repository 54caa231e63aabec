#include "load/report.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace ringlet::load {

namespace {

double rate(double n, double seconds) {
    return seconds > 0 ? n / seconds : 0.0;
}

// Fixed-point with `decimals` digits; non-finite values (which JSON cannot carry) become 0.
std::string fixed(double v, int decimals) {
    if (!std::isfinite(v)) v = 0;
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, decimals);
    if (ec != std::errc{}) return "0";
    return std::string(buf, end);
}

std::string pad_left(std::string s, std::size_t width) {
    if (s.size() < width) s.insert(0, width - s.size(), ' ');
    return s;
}

std::string us(std::uint64_t ns) {
    return fixed(double(ns) / 1e3, 3);
}

} // namespace

std::string_view error_kind_name(error_kind k) {
    switch (k) {
    case error_kind::connect:
        return "connect";
    case error_kind::tls:
        return "tls";
    case error_kind::timeout:
        return "timeout";
    case error_kind::reset:
        return "reset";
    case error_kind::bad_response:
        return "bad_response";
    }
    return "?";
}

void load_report::count_status(int code) noexcept {
    if (code >= 100 && code <= 599) {
        ++status[static_cast<std::size_t>(code)];
    } else {
        count_error(error_kind::bad_response);
    }
}

std::uint64_t load_report::answered() const noexcept {
    std::uint64_t n = 0;
    for (std::uint64_t c : status) n += c;
    return n;
}

std::uint64_t load_report::failed() const noexcept {
    std::uint64_t n = 0;
    for (std::uint64_t c : errors) n += c;
    return n;
}

void load_report::merge(const load_report& o) noexcept {
    requests_sent += o.requests_sent;
    for (std::size_t i = 0; i < status.size(); ++i) status[i] += o.status[i];
    for (std::size_t i = 0; i < errors.size(); ++i) errors[i] += o.errors[i];
    bytes_received += o.bytes_received;
    connections += o.connections;
    handshakes += o.handshakes;
    resumed_handshakes += o.resumed_handshakes;
    elapsed_seconds = std::max(elapsed_seconds, o.elapsed_seconds);
    latency.merge(o.latency);
}

std::string format_duration_ns(double ns) {
    if (!std::isfinite(ns) || ns < 0) ns = 0;
    const char* unit = "ns";
    double v = ns;
    // Switch units where rounding would print "1000": 999.7 us is "1.00ms".
    if (ns >= 999.5e6) {
        v = ns / 1e9;
        unit = "s";
    } else if (ns >= 999.5e3) {
        v = ns / 1e6;
        unit = "ms";
    } else if (ns >= 999.5) {
        v = ns / 1e3;
        unit = "us";
    }
    if (unit[0] == 'n') return fixed(v, 0) + unit;
    // Round first, so 9.996 becomes "10.0", not "10.00".
    const int decimals = v < 9.995 ? 2 : v < 99.95 ? 1 : 0;
    return fixed(v, decimals) + unit;
}

std::string format_text(const load_report& r) {
    const double t = r.elapsed_seconds;
    const histogram& h = r.latency;
    std::string out;
    out += pad_left("req/s", 14) + pad_left("MB/s", 12) + pad_left("handshakes/s", 14) + "\n";
    out += pad_left(fixed(rate(double(r.answered()), t), 1), 14) +
           pad_left(fixed(rate(double(r.bytes_received) / 1e6, t), 2), 12) +
           pad_left(fixed(rate(double(r.handshakes), t), 1), 14) + "\n\n";
    out += "latency";
    for (const char* col : {"p50", "p90", "p99", "p99.9", "max", "mean"}) out += pad_left(col, 10);
    out += "\n       ";
    if (h.count() == 0) {
        for (int i = 0; i < 6; ++i) out += pad_left("-", 10);
    } else {
        for (double p : {50.0, 90.0, 99.0, 99.9}) {
            out += pad_left(format_duration_ns(double(h.percentile(p))), 10);
        }
        out += pad_left(format_duration_ns(double(h.max())), 10);
        out += pad_left(format_duration_ns(h.mean()), 10);
    }
    out += "\n\n";
    out += "requests    " + std::to_string(r.requests_sent) + " sent, " +
           std::to_string(r.answered()) + " answered, " + std::to_string(r.failed()) +
           " failed in " + fixed(t, 2) + " s\n";
    out += "status     ";
    bool any = false;
    for (std::size_t code = 100; code < r.status.size(); ++code) {
        if (r.status[code] == 0) continue;
        out += (any ? ", " : " ") + std::to_string(code) + ": " + std::to_string(r.status[code]);
        any = true;
    }
    out += any ? "\n" : " none\n";
    out += "errors     ";
    any = false;
    for (std::size_t k = 0; k < error_kind_count; ++k) {
        if (r.errors[k] == 0) continue;
        out += (any ? ", " : " ") + std::string(error_kind_name(error_kind(k))) + ": " +
               std::to_string(r.errors[k]);
        any = true;
    }
    out += any ? "\n" : " none\n";
    out += "connections " + std::to_string(r.connections) + ", TLS handshakes " +
           std::to_string(r.handshakes) + " (" + std::to_string(r.resumed_handshakes) +
           " resumed)\n";
    if (h.saturated() > 0) {
        out += "note       " + std::to_string(h.saturated()) +
               " latencies above 60 s were counted as 60 s in the percentiles\n";
    }
    return out;
}

std::string format_json(const load_report& r, const load_options& o) {
    const double t = r.elapsed_seconds;
    const histogram& h = r.latency;
    const auto num = [](std::uint64_t n) { return std::to_string(n); };
    std::string j = "{\n  \"schema\": \"ringlet-load/1\",\n  \"targets\": [";
    for (std::size_t i = 0; i < o.targets.size(); ++i) {
        j += (i ? ", " : "") + json_string(o.targets[i].url);
    }
    j += "],\n  \"mode\": " + json_string(mode_name(o.mode)) + ",\n";
    j += "  \"connections\": " + num(o.connections) + ", \"threads\": " + num(o.threads) +
         ", \"pipeline\": " + num(o.pipeline) + ",\n";
    j += "  \"elapsed_seconds\": " + fixed(t, 3) + ",\n";
    j += "  \"requests\": {\"sent\": " + num(r.requests_sent) +
         ", \"answered\": " + num(r.answered()) + ", \"failed\": " + num(r.failed()) +
         ", \"per_second\": " + fixed(rate(double(r.answered()), t), 3) + "},\n";
    j += "  \"bytes_received\": " + num(r.bytes_received) +
         ", \"megabytes_per_second\": " + fixed(rate(double(r.bytes_received) / 1e6, t), 3) + ",\n";
    j += "  \"connections_opened\": " + num(r.connections) + ",\n";
    j += "  \"handshakes\": {\"total\": " + num(r.handshakes) +
         ", \"resumed\": " + num(r.resumed_handshakes) +
         ", \"per_second\": " + fixed(rate(double(r.handshakes), t), 3) + "},\n";
    j += "  \"status\": {";
    bool first = true;
    for (std::size_t code = 100; code < r.status.size(); ++code) {
        if (r.status[code] == 0) continue;
        j += (first ? "\"" : ", \"") + num(code) + "\": " + num(r.status[code]);
        first = false;
    }
    j += "},\n  \"errors\": {";
    for (std::size_t k = 0; k < error_kind_count; ++k) {
        j +=
            (k ? ", " : "") + json_string(error_kind_name(error_kind(k))) + ": " + num(r.errors[k]);
    }
    j += "},\n";
    j += "  \"latency_us\": {\"count\": " + num(h.count()) + ", \"min\": " + us(h.min()) +
         ", \"mean\": " + fixed(h.mean() / 1e3, 3) + ", \"p50\": " + us(h.percentile(50)) +
         ", \"p90\": " + us(h.percentile(90)) + ", \"p99\": " + us(h.percentile(99)) +
         ", \"p99_9\": " + us(h.percentile(99.9)) + ", \"max\": " + us(h.max()) +
         ", \"saturated\": " + num(h.saturated()) + "}\n}\n";
    return j;
}

std::string format_progress(const progress_sample& now, const progress_sample& previous,
                            std::optional<double> duration,
                            std::optional<std::uint64_t> total_requests) {
    progress_sample from = previous;
    const bool monotonic = now.answered >= previous.answered &&
                           now.bytes_received >= previous.bytes_received &&
                           now.handshakes >= previous.handshakes;
    if (!(now.elapsed_seconds > previous.elapsed_seconds) || !monotonic) {
        from = progress_sample{}; // no usable window: rates over the whole run
    }
    const double window = now.elapsed_seconds - from.elapsed_seconds;
    std::string line("[");
    line.append(pad_left(fixed(now.elapsed_seconds, 1), 6)).append("s");
    if (duration) {
        line.append("/").append(fixed(*duration, *duration == std::floor(*duration) ? 0 : 1));
        line.append("s");
    }
    line.append("]  ").append(std::to_string(now.answered));
    if (total_requests) line.append("/").append(std::to_string(*total_requests));
    line.append(" answered  ")
        .append(fixed(rate(double(now.answered - from.answered), window), 0))
        .append(" req/s  ")
        .append(fixed(rate(double(now.bytes_received - from.bytes_received) / 1e6, window), 2))
        .append(" MB/s");
    if (now.handshakes > 0) {
        line.append("  ")
            .append(fixed(rate(double(now.handshakes - from.handshakes), window), 0))
            .append(" hs/s");
    }
    line.append("  ").append(std::to_string(now.failed)).append(" failed");
    return line;
}

} // namespace ringlet::load
