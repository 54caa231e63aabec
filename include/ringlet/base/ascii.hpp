// ASCII case folding for protocol text (host names, header names, extensions): no locale, so
// the same bytes fold the same way everywhere.
#pragma once

#include <string>
#include <string_view>

namespace ringlet {

constexpr char ascii_lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

inline std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = ascii_lower(c);
    return out;
}

} // namespace ringlet
