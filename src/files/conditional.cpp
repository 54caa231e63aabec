#include "ringlet/files/conditional.hpp"

#include "ringlet/http/date.hpp"
#include "ringlet/http/syntax.hpp"

namespace ringlet::files {

namespace {

using http::is_ows;
using http::trim_ows;

// etagc = %x21 / %x23-7E / obs-text
bool is_etagc(char c) {
    const auto u = static_cast<unsigned char>(c);
    return u == 0x21 || (u >= 0x23 && u != 0x7f);
}

struct entity_tag {
    bool weak = false;
    std::string_view opaque; // including the quotes
};

// Parses one entity-tag at the start of `s`, advancing `s` past it. ',' is a legal etagc, so
// the list cannot be split on commas before the tags are delimited by their quotes.
bool take_entity_tag(std::string_view& s, entity_tag& tag) {
    std::size_t i = 0;
    tag.weak = s.size() >= 2 && s[0] == 'W' && s[1] == '/';
    if (tag.weak) i = 2;
    if (i >= s.size() || s[i] != '"') return false;
    std::size_t j = i + 1;
    while (j < s.size() && s[j] != '"') {
        if (!is_etagc(s[j])) return false;
        ++j;
    }
    if (j == s.size()) return false;
    tag.opaque = s.substr(i, j + 1 - i);
    s.remove_prefix(j + 1);
    return true;
}

entity_tag split_tag(std::string_view etag) {
    if (etag.size() >= 2 && etag[0] == 'W' && etag[1] == '/') return {true, etag.substr(2)};
    return {false, etag};
}

bool tags_match(const entity_tag& a, const entity_tag& b, bool strong) {
    if (strong && (a.weak || b.weak)) return false;
    return !a.opaque.empty() && a.opaque == b.opaque;
}

// Does the If-Match / If-None-Match value (non-empty) match the current entity-tag?
bool list_matches(std::string_view value, std::string_view current, bool strong) {
    value = trim_ows(value);
    if (value == "*") return true; // the representation exists
    const entity_tag ours = split_tag(current);
    // #entity-tag: elements separated by commas with OWS; empty elements are allowed.
    for (;;) {
        while (!value.empty() && (is_ows(value.front()) || value.front() == ',')) {
            value.remove_prefix(1);
        }
        if (value.empty()) return false;
        entity_tag theirs;
        if (!take_entity_tag(value, theirs)) return false;
        if (tags_match(theirs, ours, strong)) return true;
        value = trim_ows(value);
        if (!value.empty() && value.front() != ',') return false;
    }
}

bool if_range_matches(std::string_view value, const validators& v) {
    value = trim_ows(value);
    // An entity-tag starts with DQUOTE or W/ (a date may start with 'W': "Wed, ..."); anything
    // else must be an HTTP-date.
    if (value.starts_with('"') || value.starts_with("W/")) {
        entity_tag theirs;
        return take_entity_tag(value, theirs) && value.empty() &&
               tags_match(theirs, split_tag(v.etag), true);
    }
    const auto date = http::parse_http_date(value);
    return date && *date == v.mtime;
}

char* put_hex(char* p, std::uint64_t v) {
    char digits[16];
    int n = 0;
    do {
        digits[n++] = "0123456789abcdef"[v & 0xf];
        v >>= 4;
    } while (v != 0);
    while (n > 0) *p++ = digits[--n];
    return p;
}

} // namespace

condition_decision evaluate_conditions(const request_conditions& req,
                                       const validators& v) noexcept {
    condition_decision d;
    if (!req.if_range.empty()) d.honour_range = if_range_matches(req.if_range, v);

    if (!req.if_match.empty()) {
        if (!list_matches(req.if_match, v.etag, true)) {
            d.outcome = condition_outcome::precondition_failed;
            return d;
        }
    } else if (!req.if_unmodified_since.empty()) {
        const auto date = http::parse_http_date(req.if_unmodified_since);
        if (date && v.mtime > *date) {
            d.outcome = condition_outcome::precondition_failed;
            return d;
        }
    }

    if (!req.if_none_match.empty()) {
        if (list_matches(req.if_none_match, v.etag, false)) {
            d.outcome = req.get_or_head ? condition_outcome::not_modified
                                        : condition_outcome::precondition_failed;
        }
    } else if (req.get_or_head && !req.if_modified_since.empty()) {
        const auto date = http::parse_http_date(req.if_modified_since);
        if (date && v.mtime <= *date) d.outcome = condition_outcome::not_modified;
    }
    return d;
}

void make_etag(std::uint64_t inode, std::int64_t mtime_ns, std::uint64_t size,
               std::string_view suffix, std::string& out) {
    // Three 16-digit numbers, two dashes and two quotes at most: build on the stack, then copy
    // once so `out` reuses its buffer.
    char buf[3 * 16 + 2 + 1];
    char* p = buf;
    *p++ = '"';
    p = put_hex(p, inode);
    *p++ = '-';
    p = put_hex(p, static_cast<std::uint64_t>(mtime_ns));
    *p++ = '-';
    p = put_hex(p, size);
    out.assign(buf, p);
    out.append(suffix);
    out.push_back('"');
}

} // namespace ringlet::files
