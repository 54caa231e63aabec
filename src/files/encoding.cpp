#include "ringlet/files/encoding.hpp"

#include "ringlet/http/syntax.hpp"

#include <algorithm>

namespace ringlet::files {

namespace {

using http::iequals;
using http::is_digit;
using http::is_ows;
using http::is_tchar;
using http::trim_ows;

// q-values in thousandths: 0..1000. -1 means "not listed".
constexpr int unlisted = -1;

// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ), in thousandths.
bool parse_qvalue(std::string_view s, int& q) {
    if (s.empty() || (s[0] != '0' && s[0] != '1')) return false;
    const bool one = s[0] == '1';
    int value = one ? 1000 : 0;
    if (s.size() > 1) {
        if (s[1] != '.' || s.size() > 5) return false;
        int scale = 100;
        for (const char c : s.substr(2)) {
            if (!is_digit(c) || (one && c != '0')) return false;
            value += (c - '0') * scale;
            scale /= 10;
        }
    }
    q = value;
    return true;
}

// Splits one list member into its coding token and q (1000 when no weight is given).
bool parse_member(std::string_view member, std::string_view& token, int& q) {
    const std::size_t semi = member.find(';');
    token = trim_ows(member.substr(0, semi));
    if (token.empty() || !std::all_of(token.begin(), token.end(), is_tchar)) return false;
    q = 1000;
    if (semi == std::string_view::npos) return true;
    const std::string_view weight = trim_ows(member.substr(semi + 1));
    if (weight.size() < 2 || (weight[0] != 'q' && weight[0] != 'Q') || weight[1] != '=') {
        return false;
    }
    return parse_qvalue(weight.substr(2), q);
}

struct preferences {
    int br = unlisted, zstd = unlisted, gzip = unlisted, identity = unlisted, any = unlisted;
};

void record(int& slot, int q) {
    slot = slot == unlisted ? q : std::min(slot, q);
}

} // namespace

content_coding choose_coding(std::string_view accept_encoding, std::uint8_t available) noexcept {
    preferences p;
    std::string_view rest = accept_encoding;
    for (;;) {
        const std::size_t comma = rest.find(',');
        const std::string_view member = trim_ows(rest.substr(0, comma));
        std::string_view token;
        int q = 0;
        if (!member.empty() && parse_member(member, token, q)) {
            if (iequals(token, "br"))
                record(p.br, q);
            else if (iequals(token, "zstd"))
                record(p.zstd, q);
            else if (iequals(token, "gzip") || iequals(token, "x-gzip"))
                record(p.gzip, q);
            else if (iequals(token, "identity"))
                record(p.identity, q);
            else if (token == "*")
                record(p.any, q);
        }
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
    }

    // Candidates in tie-break order: a later one must beat an earlier one strictly.
    struct candidate {
        content_coding coding;
        int q;
    };
    const candidate candidates[] = {
        {content_coding::br, p.br},
        {content_coding::zstd, p.zstd},
        {content_coding::gzip, p.gzip},
    };
    content_coding best = content_coding::identity;
    int best_q = 0;
    for (const candidate& c : candidates) {
        if ((available & static_cast<std::uint8_t>(c.coding)) == 0) continue;
        const int q = c.q == unlisted ? p.any : c.q;
        if (q > best_q) {
            best = c.coding;
            best_q = q;
        }
    }
    if (best != content_coding::identity && p.identity > best_q) return content_coding::identity;
    return best;
}

std::string_view coding_name(content_coding c) noexcept {
    switch (c) {
    case content_coding::br:
        return "br";
    case content_coding::zstd:
        return "zstd";
    case content_coding::gzip:
        return "gzip";
    case content_coding::identity:
        break;
    }
    return "identity";
}

std::string_view sidecar_suffix(content_coding c) noexcept {
    switch (c) {
    case content_coding::br:
        return ".br";
    case content_coding::zstd:
        return ".zst";
    case content_coding::gzip:
        return ".gz";
    case content_coding::identity:
        break;
    }
    return "";
}

} // namespace ringlet::files
