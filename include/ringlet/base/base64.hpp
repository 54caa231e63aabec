// base64 (RFC 4648 section 4) and base64url (section 5), for PEM-free certificate plumbing and
// ACME's JOSE messages, which use base64url without padding everywhere (RFC 7515 section 2).
//
// Decoding is strict because its inputs come from the network (ACME tokens, EAB keys) and a
// lenient decoder would let two different strings mean the same bytes: no whitespace, no
// characters of the other alphabet, padding exactly where it belongs (base64: required to a
// multiple of 4; base64url: none), and the unused low bits of the last character must be zero.
//
//   std::string b = base64url_encode(sha256);       //
//   "n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg" auto raw = base64url_decode(token); //
//   std::nullopt when not canonical base64url
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace ringlet {

std::string base64_encode(std::span<const std::uint8_t> data);
std::string base64_encode(std::string_view data);
// Without '=' padding.
std::string base64url_encode(std::span<const std::uint8_t> data);
std::string base64url_encode(std::string_view data);

// The decoded bytes, or std::nullopt when `text` is not the canonical encoding of any byte string.
std::optional<std::string> base64_decode(std::string_view text);
std::optional<std::string> base64url_decode(std::string_view text);

// An ACME challenge token (RFC 8555 section 8.3): non-empty, only [A-Za-z0-9_-]. It is joined into
// URLs and file names, so nothing else may pass.
bool is_base64url_token(std::string_view s);

} // namespace ringlet
