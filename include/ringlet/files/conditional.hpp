// Conditional requests (RFC 9110 13) against a file's validators, and the ETag we generate.
//
//   condition_decision d = evaluate_conditions(conds, {etag, st.mtime_seconds});
//   if (d.outcome == condition_outcome::not_modified) return respond(304);
//   if (d.outcome == condition_outcome::precondition_failed) return respond(412);
//   range_decision r = d.honour_range ? parse_range(range, size) : range_decision{};
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ringlet::files {

// Raw header field values from the request, empty if absent.
struct request_conditions {
    std::string_view if_match, if_none_match, if_modified_since, if_unmodified_since, if_range;
    bool get_or_head = true;
};

// The selected representation's validators. `etag` includes the quotes and may carry a "W/"
// prefix (ours are strong: "\"abc\""); empty means the representation has no entity-tag.
// `mtime` is Last-Modified in Unix seconds.
struct validators {
    std::string_view etag;
    std::int64_t mtime = 0;
};

enum class condition_outcome { proceed, not_modified, precondition_failed };

struct condition_decision {
    condition_outcome outcome = condition_outcome::proceed;
    bool honour_range = true;
};

// Evaluates the preconditions in RFC 9110 13.2.2 order; the representation is taken to exist.
// 1. If-Match present: "*" matches; otherwise a comma list of entity-tags compared strongly
//    (a weak tag on either side never matches). No match -> precondition_failed.
// 2. Else If-Unmodified-Since: a valid HTTP-date earlier than mtime -> precondition_failed;
//    an invalid date is ignored.
// 3. If-None-Match present: "*" matches; otherwise the list is compared weakly (W/ ignored).
//    A match -> not_modified for GET/HEAD, precondition_failed otherwise.
// 4. Else, for GET/HEAD only, If-Modified-Since: a valid date with mtime <= date ->
//    not_modified; an invalid date is ignored.
// honour_range (computed regardless of the outcome; it only matters for proceed) is false when
// If-Range is present and does not match: an entity-tag must match strongly (a weak tag never
// matches), an HTTP-date must equal mtime exactly, and a value that is neither never matches.
// A list element that is not a well-formed entity-tag ends the list: it and everything after it
// match nothing, so a garbled If-Match fails (412) and a garbled If-None-Match lets the
// request proceed.
condition_decision evaluate_conditions(const request_conditions& req, const validators& v) noexcept;

// Builds the strong ETag for a file into `out` (replacing its content):
//   "\"" <inode hex> "-" <mtime_ns hex> "-" <size hex> <suffix> "\""
// with lowercase hex without leading zeros; a negative mtime_ns is written as its 64-bit two's
// complement. `suffix` marks encoded variants (e.g. "-br") and must consist of etagc
// characters (no '"', no controls). Allocates only if `out` lacks capacity.
void make_etag(std::uint64_t inode, std::int64_t mtime_ns, std::uint64_t size,
               std::string_view suffix, std::string& out);

} // namespace ringlet::files
