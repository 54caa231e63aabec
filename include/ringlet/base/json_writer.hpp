// json_writer: builds small JSON texts (ACME request payloads and JWS headers) byte-exactly.
//
// Byte-exact matters because ACME signs the serialized text: the JWK thumbprint (RFC 7638) hashes
// a canonical form with members in lexicographic order and no whitespace, so the writer emits
// members in the order given and never inserts whitespace. Strings are escaped per RFC 8259:
// '"', '\\' and control characters (U+0000..U+001F) are escaped, everything else (including UTF-8
// multi-byte sequences, which callers must supply well-formed) is copied as is.
//
//   json_object o;
//   o.add("alg", "ES256").add_raw("jwk", jwk_json(key)).add("url", url);
//   std::string text = o.str();      // {"alg":"ES256","jwk":{...},"url":"https://..."}
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ringlet {

// How a string's bytes become JSON. `exact`: as described above (what ACME signs). `sanitized`,
// for text from the outside world (URLs, server headers in a report): DEL is escaped too and
// every byte that is not part of well-formed UTF-8 (overlong forms, surrogates, truncated or
// stray bytes) becomes U+FFFD, so the output is valid JSON whatever the input.
enum class json_bytes { exact, sanitized };

// Appends `s` as a JSON string literal, quotes included.
void append_json_string(std::string& out, std::string_view s, json_bytes = json_bytes::exact);
std::string json_string(std::string_view s, json_bytes = json_bytes::exact);

// Length of the well-formed UTF-8 sequence that starts `s` (1-4), or 0 if there is none.
std::size_t utf8_sequence_length(std::string_view s) noexcept;

// One JSON object, members appended in call order. Not validating: `add_raw` takes already
// serialized JSON (an object, array, number...) and duplicate keys are the caller's business.
class json_object {
public:
    json_object& add(std::string_view key, std::string_view value);
    json_object& add(std::string_view key, const char* value) {
        return add(key, std::string_view(value));
    }
    json_object& add(std::string_view key, bool value);
    json_object& add_number(std::string_view key, std::int64_t value);
    json_object& add_raw(std::string_view key, std::string_view json);

    // The text so far, closed: "{}" when nothing was added.
    std::string str() const { return text_ + "}"; }

private:
    void key(std::string_view k);
    std::string text_ = "{";
};

} // namespace ringlet
