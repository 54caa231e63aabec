#include "ringlet/files/path.hpp"

#include <algorithm>

namespace ringlet::files {

namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Removes the last segment of `out` (which has no trailing '/' while segments are appended).
void pop_segment(std::string& out) {
    const std::size_t slash = out.rfind('/');
    out.resize(slash == std::string::npos ? 0 : slash);
}

path_error fail(std::string& out, path_error e) {
    out.clear();
    return e;
}

} // namespace

path_error normalize_path(std::string_view raw, std::string& out) {
    out.clear();
    if (raw.empty() || raw.front() != '/') return path_error::not_absolute;
    // The result is never longer than the raw path (decoding only shrinks it, and the dropped
    // leading '/' pays for a kept trailing one) nor than max_path_length: one reservation.
    out.reserve(std::min(raw.size(), max_path_length));

    // Encoded separators are refused, so decoded segments correspond one to one to the raw
    // segments between '/' bytes: the path is decoded and normalised in a single pass, one raw
    // segment at a time, appending each decoded segment to `out` and undoing it on "..".
    std::size_t decoded_length = 0;
    std::size_t i = 0;
    bool trailing_slash = false;
    while (i < raw.size()) {
        ++i; // the '/' that starts this segment
        ++decoded_length;
        const std::size_t segment_start = out.size();
        if (segment_start != 0) out.push_back('/');
        const std::size_t name_start = out.size();
        while (i < raw.size() && raw[i] != '/') {
            char c = raw[i];
            if (c == '%') {
                const int hi = i + 2 < raw.size() ? hex_value(raw[i + 1]) : -1;
                const int lo = hi >= 0 ? hex_value(raw[i + 2]) : -1;
                if (lo < 0) return fail(out, path_error::bad_encoding);
                c = static_cast<char>(hi * 16 + lo);
                if (c == '/' || c == '\\') return fail(out, path_error::encoded_separator);
                i += 3;
            } else {
                if (c == '\\') return fail(out, path_error::backslash);
                ++i;
            }
            if (c == '\0') return fail(out, path_error::nul);
            if (++decoded_length > max_path_length) return fail(out, path_error::too_long);
            out.push_back(c);
        }
        const std::string_view name(out.data() + name_start, out.size() - name_start);
        if (name.empty() || name == "." || name == "..") {
            const bool parent = name == "..";
            out.resize(segment_start);
            if (parent) {
                // Climbing out of the root is an attack or a broken client either way; clamping
                // it to the root would hide a different file behind the same URL.
                if (out.empty()) return path_error::escapes_root;
                pop_segment(out);
            }
            // A final "." or ".." names a directory, like a final '/'.
            trailing_slash = true;
        } else {
            trailing_slash = false;
        }
    }
    if (decoded_length > max_path_length) return fail(out, path_error::too_long);
    if (trailing_slash && !out.empty()) out.push_back('/');
    return path_error::none;
}

bool has_dot_segment(std::string_view normalized) noexcept {
    for (std::size_t i = 0; i < normalized.size(); ++i) {
        if (normalized[i] == '.' && (i == 0 || normalized[i - 1] == '/')) return true;
    }
    return false;
}

} // namespace ringlet::files
