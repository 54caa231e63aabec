// Content negotiation for precompressed sidecar files ("app.js.br" next to "app.js").
//
//   content_coding c = choose_coding(accept_encoding, sidecars_present);
//   if (c != content_coding::identity) {
//       open(path + sidecar_suffix(c)); headers.add("Content-Encoding", coding_name(c));
//   }
//   headers.add("Vary", "Accept-Encoding");
#pragma once

#include <cstdint>
#include <string_view>

namespace ringlet::files {

// Bit values, so that a set of available sidecars is a mask: br | gzip = 5.
enum class content_coding : std::uint8_t { identity = 0, br = 1, zstd = 2, gzip = 4 };

// Picks the coding to serve given the Accept-Encoding value and the bitmask of sidecars present
// (`available`; bits other than br/zstd/gzip are ignored).
// - Members are "coding [OWS ';' OWS 'q=' qvalue]", comma separated with OWS; tokens and "q"
//   are case-insensitive; "x-gzip" means gzip. qvalue follows RFC 9110 12.4.2 exactly ("0",
//   "0.5", "0.123", "1", "1.000"; not "0.1234", "1.5", ".5"). A malformed member (bad token,
//   bad qvalue, any other parameter) is ignored as if absent; the others still count.
// - A coding's q is that of its own member; if it is listed more than once the lowest q counts.
//   An unlisted coding takes the q of "*" if present, else it is not acceptable.
// - Among available codings with q > 0, the highest q wins; ties go br > zstd > gzip.
// - "identity" competes only when listed explicitly: it wins if its q is strictly higher than
//   the best coding's ("gzip;q=0.5, identity" -> identity). "identity;q=0" or "*;q=0" are not
//   honoured as a refusal of identity: the result is always servable.
// - An empty value (absent header included: the caller cannot tell them apart) -> identity.
//   RFC 9110 12.5.3 allows any coding when the header is absent, but clients that omit it
//   (curl, scripts) usually cannot decode.
// Returns identity when nothing qualifies.
content_coding choose_coding(std::string_view accept_encoding, std::uint8_t available) noexcept;

// "br", "zstd", "gzip", "identity" (also for values that are not a single coding).
std::string_view coding_name(content_coding c) noexcept;

// The sidecar file suffix: ".br", ".zst", ".gz", "" for identity (and non-single values).
std::string_view sidecar_suffix(content_coding c) noexcept;

} // namespace ringlet::files
