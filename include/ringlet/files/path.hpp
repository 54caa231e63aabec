// Request-path sanitising: turns the path of a request target into a path relative to the
// document root, or refuses it.
//
// This is the traversal guard, so it is strict: anything ambiguous is an error rather than a
// guess, and nothing is clamped silently.
//
//   std::string rel;
//   if (normalize_path(target_path, rel) != path_error::none) return respond(400);
//   if (has_dot_segment(rel) && !serve_dotfiles) return respond(404);
//   openat(root_fd, rel.empty() ? "." : rel.c_str(), ...);
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ringlet::files {

enum class path_error {
    none,
    bad_encoding,      // '%' not followed by two hex digits
    nul,               // %00 or a raw NUL byte
    encoded_separator, // %2F or %5C (either case): a '/' or '\' hidden from routing
    backslash,         // a raw '\'
    escapes_root,      // a ".." segment with nothing left to remove
    not_absolute,      // empty, or not starting with '/'
    too_long,          // decoded path longer than max_path_length
};

// Upper bound on the percent-decoded request path (leading '/' included).
inline constexpr std::size_t max_path_length = 4096;

// `raw` is the path component of the request target only (the caller has split off "?query";
// '?' and '#' here are ordinary characters).
//
// Percent-decodes `raw` ONCE and removes dot-segments (RFC 3986 5.2.4), where a segment is
// "." or ".." after decoding ("%2e%2E" is ".."). Empty segments are dropped ("//a///b" is
// "a/b"), as the file system would. On success `out` is the root-relative path: no leading
// '/', segments joined by single '/', and a trailing '/' kept when the request path ends in '/'
// or in a "." / ".." segment, unless the result is the root itself, which is always "":
//   "/" -> "",  "/a/b/.." -> "a/",  "/a/./" -> "a/",  "/a/.." -> "",  "//a///b" -> "a/b".
// "%252e%252e" decodes once to the literal name "%2e%2e", which is not a dot-segment.
//
// Errors are reported for the first offending byte, scanning left to right, except that
// not_absolute is checked first. Other bytes (controls, non-ASCII, UTF-8 validity) are passed
// through unjudged. On error `out` is cleared. Allocates only if `out` lacks capacity.
path_error normalize_path(std::string_view raw, std::string& out);

// True if any segment of a normalised path starts with '.' (".git/config", "a/.env",
// "a/...b"): dotfiles are refused by default.
bool has_dot_segment(std::string_view normalized) noexcept;

} // namespace ringlet::files
