// The small lexical pieces of HTTP field values (RFC 9110 5.6) that the parsers of requests,
// ranges, conditionals, dates and content codings share. All pure and constexpr.
#pragma once

#include <string_view>

#include "ringlet/base/ascii.hpp"

namespace ringlet::http {

// OWS: optional whitespace, SP or HTAB.
constexpr bool is_ows(char c) noexcept {
    return c == ' ' || c == '\t';
}
constexpr bool is_digit(char c) noexcept {
    return c >= '0' && c <= '9';
}

// tchar: the characters of a token.
constexpr bool is_tchar(char c) noexcept {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c)) return true;
    return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

constexpr std::string_view trim_ows(std::string_view s) noexcept {
    while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
    return s;
}

// ASCII case-insensitive equality with `lower`, which must already be lower case.
constexpr bool iequals(std::string_view a, std::string_view lower) noexcept {
    if (a.size() != lower.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (ascii_lower(a[i]) != lower[i]) return false;
    }
    return true;
}

} // namespace ringlet::http
