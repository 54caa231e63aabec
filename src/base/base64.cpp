#include "ringlet/base/base64.hpp"

#include <array>

namespace ringlet {

namespace {

constexpr char std_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char url_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string encode(std::span<const std::uint8_t> in, const char* alphabet, bool pad) {
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= in.size(); i += 3) {
        const std::uint32_t v = in[i] << 16 | in[i + 1] << 8 | in[i + 2];
        out += alphabet[v >> 18];
        out += alphabet[v >> 12 & 63];
        out += alphabet[v >> 6 & 63];
        out += alphabet[v & 63];
    }
    const std::size_t rest = in.size() - i;
    if (rest == 0) return out;
    const std::uint32_t v = in[i] << 16 | (rest == 2 ? in[i + 1] << 8 : 0);
    out += alphabet[v >> 18];
    out += alphabet[v >> 12 & 63];
    if (rest == 2) out += alphabet[v >> 6 & 63];
    if (pad) out.append(3 - rest, '=');
    return out;
}

using table = std::array<std::int8_t, 256>;

constexpr table make_table(const char* alphabet) {
    table t{};
    for (auto& v : t) v = -1;
    for (int i = 0; i < 64; ++i)
        t[static_cast<unsigned char>(alphabet[i])] = static_cast<std::int8_t>(i);
    return t;
}

constexpr table std_table = make_table(std_alphabet);
constexpr table url_table = make_table(url_alphabet);

// Decodes unpadded text; rejects a dangling single character and non-zero unused bits.
std::optional<std::string> decode(std::string_view in, const table& t) {
    if (in.size() % 4 == 1) return std::nullopt;
    std::string out;
    out.reserve(in.size() / 4 * 3 + 2);
    std::uint32_t acc = 0;
    int bits = 0;
    for (char c : in) {
        const int v = t[static_cast<unsigned char>(c)];
        if (v < 0) return std::nullopt;
        acc = (acc << 6 | static_cast<std::uint32_t>(v)) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>(acc >> bits & 0xff);
        }
    }
    // 2 or 4 bits left over at the end: they must be zero in a canonical encoding.
    if ((acc & ((1u << bits) - 1)) != 0) return std::nullopt;
    return out;
}

std::span<const std::uint8_t> as_bytes(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

} // namespace

std::string base64_encode(std::span<const std::uint8_t> data) {
    return encode(data, std_alphabet, true);
}

std::string base64_encode(std::string_view data) {
    return base64_encode(as_bytes(data));
}

std::string base64url_encode(std::span<const std::uint8_t> data) {
    return encode(data, url_alphabet, false);
}

std::string base64url_encode(std::string_view data) {
    return base64url_encode(as_bytes(data));
}

std::optional<std::string> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) return std::nullopt;
    std::size_t pad = 0;
    while (pad < 2 && pad < text.size() && text[text.size() - 1 - pad] == '=') ++pad;
    return decode(text.substr(0, text.size() - pad), std_table);
}

std::optional<std::string> base64url_decode(std::string_view text) {
    return decode(text, url_table);
}

bool is_base64url_token(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (url_table[static_cast<unsigned char>(c)] < 0) return false;
    return true;
}

} // namespace ringlet
