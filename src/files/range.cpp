#include "ringlet/files/range.hpp"

#include "ringlet/http/syntax.hpp"

#include <limits>

namespace ringlet::files {

namespace {

using http::iequals;
using http::is_digit;
using http::is_ows;
using http::is_tchar;
using http::trim_ows;

constexpr std::uint64_t u64_max = std::numeric_limits<std::uint64_t>::max();

// A non-empty run of digits and its value, saturated at 2^64-1.
struct number {
    std::string_view digits;
    std::uint64_t value = 0;
    bool saturated = false;
};

bool parse_number(std::string_view s, number& n) {
    if (s.empty()) return false;
    n = number{s};
    for (const char c : s) {
        if (!is_digit(c)) return false;
        const auto d = static_cast<std::uint64_t>(c - '0');
        if (n.saturated || n.value > (u64_max - d) / 10) {
            n.saturated = true;
            n.value = u64_max;
        } else {
            n.value = n.value * 10 + d;
        }
    }
    return true;
}

// a > b on the exact decimal values, for when saturation has hidden the difference.
bool decimal_greater(std::string_view a, std::string_view b) {
    while (a.size() > 1 && a.front() == '0') a.remove_prefix(1);
    while (b.size() > 1 && b.front() == '0') b.remove_prefix(1);
    return a.size() != b.size() ? a.size() > b.size() : a > b;
}

enum class spec_result { invalid, unsatisfiable, satisfiable };

// One range-spec (already trimmed, non-empty) against `size`; fills `out` when satisfiable.
spec_result parse_spec(std::string_view spec, std::uint64_t size, byte_range& out) {
    const std::size_t dash = spec.find('-');
    if (dash == std::string_view::npos) return spec_result::invalid;
    number first, last;
    if (dash == 0) {
        // suffix-range = "-" suffix-length
        if (!parse_number(spec.substr(1), last)) return spec_result::invalid;
        if (last.value == 0 || size == 0) return spec_result::unsatisfiable;
        out.first = last.value >= size ? 0 : size - last.value;
        out.last = size - 1;
        return spec_result::satisfiable;
    }
    // int-range = first-pos "-" [ last-pos ]
    if (!parse_number(spec.substr(0, dash), first)) return spec_result::invalid;
    const bool has_last = dash + 1 < spec.size();
    if (has_last) {
        if (!parse_number(spec.substr(dash + 1), last)) return spec_result::invalid;
        const bool first_after_last = (first.saturated || last.saturated)
                                          ? decimal_greater(first.digits, last.digits)
                                          : first.value > last.value;
        if (first_after_last) return spec_result::invalid;
    }
    if (first.value >= size) return spec_result::unsatisfiable;
    out.first = first.value;
    out.last = has_last && last.value < size - 1 ? last.value : size - 1;
    return spec_result::satisfiable;
}

} // namespace

range_decision parse_range(std::string_view header, std::uint64_t size) noexcept {
    const range_decision ignore{};
    header = trim_ows(header);
    const std::size_t eq = header.find('=');
    if (eq == std::string_view::npos || !iequals(header.substr(0, eq), "bytes")) return ignore;

    // The whole list is validated before deciding: one invalid range-spec voids the header
    // (RFC 9110 14.2 "ignore a Range header field ... with an invalid ranges-specifier").
    std::string_view rest = header.substr(eq + 1);
    std::size_t specs = 0, satisfiable = 0;
    byte_range chosen{};
    for (;;) {
        const std::size_t comma = rest.find(',');
        const std::string_view spec = trim_ows(rest.substr(0, comma));
        if (!spec.empty()) {
            if (++specs > max_range_specs) return ignore;
            byte_range r;
            switch (parse_spec(spec, size, r)) {
            case spec_result::invalid:
                return ignore;
            case spec_result::unsatisfiable:
                break;
            case spec_result::satisfiable:
                if (++satisfiable == 1) chosen = r;
                break;
            }
        }
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
    }
    if (specs == 0) return ignore;
    if (satisfiable == 0) return {range_kind::unsatisfiable, {}};
    if (satisfiable > 1) return {range_kind::multiple, {}};
    return {range_kind::single, chosen};
}

} // namespace ringlet::files
