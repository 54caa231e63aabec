// Range request interpretation (RFC 9110 14.1-14.2) for a single-part 206 server.
//
//   range_decision d = parse_range(range_header, st.size);
//   switch (d.kind) {
//   case range_kind::single: send 206 with d.range; break;
//   case range_kind::unsatisfiable: send 416 with "Content-Range: bytes */<size>"; break;
//   case range_kind::none: case range_kind::multiple: send 200 with the whole file;
//   }
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ringlet::files {

// An inclusive byte range [first, last]; never empty.
struct byte_range {
    std::uint64_t first = 0, last = 0;
    std::uint64_t length() const { return last - first + 1; }
};

enum class range_kind { none, single, unsatisfiable, multiple };

// `range` is meaningful only for range_kind::single; otherwise it is {0, 0}.
struct range_decision {
    range_kind kind = range_kind::none;
    byte_range range{};
};

// More range-specs than this make the whole header be ignored.
inline constexpr std::size_t max_range_specs = 100;

// Interprets a Range header value against a representation of `size` bytes:
// - none (serve 200): empty header; a unit other than "bytes" (compared case-insensitively);
//   invalid syntax anywhere in the list ("bytes=5-1", "bytes=abc", "bytes=", "bytes=,", a space
//   inside a range-spec, a sign); more than max_range_specs range-specs.
// - single: exactly one satisfiable range-spec after discarding the unsatisfiable ones, clamped
//   to the representation: "500-" runs to the end, "-500" is the last 500 bytes (the whole file
//   if it is shorter), a last-pos beyond the end is clamped to size - 1.
// - unsatisfiable (416): every range-spec unsatisfiable, i.e. first-pos >= size or "-0"; on an
//   empty representation every range-spec, suffix ranges included, is unsatisfiable.
// - multiple: two or more satisfiable range-specs (overlapping or not, they are not coalesced);
//   the caller serves 200.
// Syntax: optional spaces/tabs around the whole value, around each comma and after '='; empty
// list elements ("0-1,,2-3") are ignored as RFC 9110 5.6.1 asks. Digit strings of any length
// are accepted: values beyond 2^64-1 saturate, which never changes the outcome (such a
// first-pos is unsatisfiable, such a last-pos or suffix-length reaches the end), and
// first-pos > last-pos is decided on the exact decimal values.
range_decision parse_range(std::string_view header, std::uint64_t size) noexcept;

} // namespace ringlet::files
