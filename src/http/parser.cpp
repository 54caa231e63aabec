#include "ringlet/http/parser.hpp"

#include "ringlet/http/syntax.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <limits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace ringlet::http {

namespace {

// RFC 9112 2.2 asks servers to skip "at least one" empty line before the request line (some
// clients send a stray CRLF after a POST body). A few are tolerated; a longer run of
// them is not a client quirk, and the 5th empty line is parsed as an (invalid) request line.
constexpr int max_leading_empty_lines = 4;

// ---- character classes ----------------------------------------------------------------------

// token character (RFC 9110 5.6.2)
constexpr std::uint8_t cls_tchar = 1;
// may appear in Host or an absolute-form authority (reg-name, IP literal, port)
constexpr std::uint8_t cls_host = 2;

constexpr std::array<std::uint8_t, 256> make_classes() {
    std::array<std::uint8_t, 256> t{};
    for (int c = '0'; c <= '9'; ++c) t[c] |= cls_tchar | cls_host;
    for (int c = 'a'; c <= 'z'; ++c) t[c] |= cls_tchar | cls_host;
    for (int c = 'A'; c <= 'Z'; ++c) t[c] |= cls_tchar | cls_host;
    for (char c : std::string_view("!#$%&'*+-.^_`|~"))
        t[static_cast<unsigned char>(c)] |= cls_tchar;
    // unreserved / sub-delims / pct-encoded / ':' for the port / '[' ']' for IPv6 literals. '@'
    // (userinfo) and '/' are deliberately absent: a Host that could smuggle a path is rejected.
    for (char c : std::string_view("-._~!$&'()*+,;=%:[]"))
        t[static_cast<unsigned char>(c)] |= cls_host;
    return t;
}
constexpr std::array<std::uint8_t, 256> classes = make_classes();

inline bool is_tchar(char c) {
    return classes[static_cast<unsigned char>(c)] & cls_tchar;
}
inline bool is_host_char(char c) {
    return classes[static_cast<unsigned char>(c)] & cls_host;
}

// First byte in [p, end) that is <= Max or DEL (0x7F); end if none. Max = 0x20 finds CTLs and
// SP (request-target), Max = 0x1F finds CTLs (field values; the caller skips HT).
//
// `lo` is the start of the whole buffer: for the final partial block the scan re-reads the last
// 16 bytes of the range (which lie inside the buffer) instead of falling back to a byte loop, so
// short values cost one vector compare. Nothing outside [lo, end) is ever read.
template <unsigned Max>
const char* find_ctl(const char* p, const char* end, const char* lo) {
#if defined(__SSE2__)
    const __m128i max = _mm_set1_epi8(static_cast<char>(Max));
    const __m128i del = _mm_set1_epi8(0x7f);
    auto hits = [&](const char* at) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(at));
        const __m128i low = _mm_cmpeq_epi8(_mm_min_epu8(v, max), v); // v <= Max, unsigned
        return static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(low, _mm_cmpeq_epi8(v, del))));
    };
    while (end - p >= 16) {
        if (unsigned m = hits(p)) return p + __builtin_ctz(m);
        p += 16;
    }
    if (p == end) return end;
    if (end - lo >= 16) {
        const char* q = end - 16;
        const unsigned m = hits(q) >> (p - q);
        return m ? p + __builtin_ctz(m) : end;
    }
#else
    (void)lo;
#endif
    for (; p < end; ++p) {
        const auto c = static_cast<unsigned char>(*p);
        if (c <= Max || c == 0x7f) return p;
    }
    return end;
}

// field-value = *( VCHAR / obs-text / SP / HTAB ): everything but CTLs other than HT, and DEL.
bool valid_field_value(const char* p, const char* end, const char* lo) {
    for (;;) {
        p = find_ctl<0x1f>(p, end, lo);
        if (p == end) return true;
        if (*p != '\t') return false;
        ++p;
    }
}

bool valid_host(std::string_view h) {
    for (char c : h)
        if (!is_host_char(c)) return false;
    return true;
}

// ASCII case-insensitive equality with a literal of lower-case letters and punctuation from
// 0x21-0x3F ('-', ':', '/'). OR-ing 0x20 maps only 'A'-'Z' onto letters and only CTLs onto that
// punctuation; CTLs other than HT never reach here (names, values and targets are checked first)
// and HT maps to ')', which no literal contains, so this is exact without a per-byte branch.
// equals_lower expects the caller to have checked that the length matches.
template <std::size_t N>
bool equals_lower(std::string_view s, const char (&lit)[N]) {
    for (std::size_t i = 0; i + 1 < N; ++i)
        if ((s[i] | 0x20) != lit[i]) return false;
    return true;
}
template <std::size_t N>
bool iequals(std::string_view s, const char (&lit)[N]) {
    return s.size() == N - 1 && equals_lower(s, lit);
}

method lookup_method(std::string_view m) {
    // Methods are case-sensitive (RFC 9110 9.1): "get" is an unknown method, not GET.
    switch (m.size()) {
    case 3:
        if (m == "GET") return method::get;
        if (m == "PUT") return method::put;
        break;
    case 4:
        if (m == "HEAD") return method::head;
        if (m == "POST") return method::post;
        break;
    case 5:
        if (m == "PATCH") return method::patch;
        if (m == "TRACE") return method::trace;
        break;
    case 6:
        if (m == "DELETE") return method::delete_;
        break;
    case 7:
        if (m == "OPTIONS") return method::options;
        if (m == "CONNECT") return method::connect;
        break;
    }
    return method::unknown;
}

// Content-Length = 1*DIGIT, or (RFC 9110 8.6) a comma list of identical values, which a
// recipient may collapse. Anything else — signs, spaces inside a number, empty elements,
// differing values, overflow — is ambiguous framing and rejected.
bool parse_content_length(std::string_view v, std::uint64_t& out) {
    constexpr std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
    std::size_t i = 0;
    bool have = false;
    std::uint64_t first = 0;
    for (;;) {
        while (i < v.size() && is_ows(v[i])) ++i;
        if (i == v.size() || !is_digit(v[i])) return false;
        std::uint64_t n = 0;
        for (; i < v.size() && is_digit(v[i]); ++i) {
            const auto d = static_cast<std::uint64_t>(v[i] - '0');
            if (n > (max - d) / 10) return false;
            n = n * 10 + d;
        }
        while (i < v.size() && is_ows(v[i])) ++i;
        if (have && n != first) return false;
        first = n;
        have = true;
        if (i == v.size()) break;
        if (v[i] != ',') return false;
        ++i;
    }
    out = first;
    return true;
}

// What the header loop remembers beyond what `request` holds.
struct head_state {
    bool host_from_target = false; // absolute-form authority already set request::host
    bool seen_host = false;
    bool conn_close = false;
    bool conn_keep_alive = false;
};

void scan_connection(std::string_view v, head_state& st) {
    // #element list: empty elements are allowed; unknown options are ignored here.
    for (;;) {
        const std::size_t comma = v.find(',');
        const std::string_view tok = trim_ows(v.substr(0, comma));
        if (iequals(tok, "close"))
            st.conn_close = true;
        else if (iequals(tok, "keep-alive"))
            st.conn_keep_alive = true;
        if (comma == std::string_view::npos) return;
        v.remove_prefix(comma + 1);
    }
}

// The first non-empty occurrence wins: a server must not guess how to merge repeated
// conditionals, and the request cannot hold a merged copy without allocating.
inline void set_first(std::string_view& slot, std::string_view value) {
    if (slot.empty()) slot = value;
}

// Applies one header field to the request. Returns 0 or an error status.
int apply_field(std::string_view name, std::string_view value, request& out, head_state& st) {
    // Dispatch on length first: most browser headers (User-Agent, Accept, Sec-*) are rejected by
    // the switch without touching their bytes.
    switch (name.size()) {
    case 4:
        if (equals_lower(name, "host")) {
            // RFC 9112 3.2: more than one Host, or an invalid one, is a 400 even when an
            // absolute-form target overrides it.
            if (st.seen_host || !valid_host(value)) return 400;
            st.seen_host = true;
            if (!st.host_from_target) out.host = value;
        }
        break;
    case 5:
        if (equals_lower(name, "range")) set_first(out.range, value);
        break;
    case 8:
        if (equals_lower(name, "if-match"))
            set_first(out.if_match, value);
        else if (equals_lower(name, "if-range"))
            set_first(out.if_range, value);
        break;
    case 10:
        if (equals_lower(name, "connection")) scan_connection(value, st);
        break;
    case 13:
        if (equals_lower(name, "if-none-match")) set_first(out.if_none_match, value);
        break;
    case 14:
        if (equals_lower(name, "content-length")) {
            std::uint64_t n = 0;
            if (!parse_content_length(value, n)) return 400;
            if (out.has_content_length && n != out.content_length) return 400;
            out.has_content_length = true;
            out.content_length = n;
        }
        break;
    case 15:
        if (equals_lower(name, "accept-encoding")) set_first(out.accept_encoding, value);
        break;
    case 17:
        if (equals_lower(name, "transfer-encoding"))
            out.has_transfer_encoding = true;
        else if (equals_lower(name, "if-modified-since"))
            set_first(out.if_modified_since, value);
        break;
    case 19:
        if (equals_lower(name, "if-unmodified-since")) set_first(out.if_unmodified_since, value);
        break;
    }
    return 0;
}

// One field line without its line end: [p, end). Returns 0 or an error status.
int parse_field_line(const char* p, const char* end, const char* lo, request& out, head_state& st) {
    // A leading SP / HT (obs-fold, or whitespace before the first field) fails here: it is not a
    // tchar, so the name is empty. So does whitespace between the name and the colon.
    const char* name_begin = p;
    while (p < end && is_tchar(*p)) ++p;
    if (p == name_begin || p == end || *p != ':') return 400;
    const std::string_view name(name_begin, static_cast<std::size_t>(p - name_begin));
    ++p;
    if (!valid_field_value(p, end, lo)) return 400;
    while (p < end && is_ows(*p)) ++p;
    while (end > p && is_ows(end[-1])) --end;
    const std::string_view value(p, static_cast<std::size_t>(end - p));
    out.headers[out.header_count++] = header{name, value};
    return apply_field(name, value, out, st);
}

// Splits an absolute-form target ("http://authority/path?query") into host, path and query.
int parse_absolute_form(std::string_view target, request& out, head_state& st) {
    std::size_t scheme = 0;
    if (target.size() >= 7 && equals_lower(target.substr(0, 7), "http://"))
        scheme = 7;
    else if (target.size() >= 8 && equals_lower(target.substr(0, 8), "https://"))
        scheme = 8;
    else
        return 400;
    std::string_view rest = target.substr(scheme);
    const std::size_t auth_end = std::min(rest.find('/'), rest.find('?'));
    const std::string_view authority = rest.substr(0, auth_end);
    // RFC 9110 4.2.1: an http(s) URI with an empty host is invalid; userinfo ('@') is not a host
    // character, so "http://user@host/" is rejected too (4.2.4).
    if (authority.empty() || !valid_host(authority)) return 400;
    out.host = authority;
    st.host_from_target = true;
    rest.remove_prefix(authority.size());
    const std::size_t q = rest.find('?');
    out.path = rest.substr(0, q);
    if (q != std::string_view::npos) out.query = rest.substr(q + 1);
    if (out.path.empty()) out.path = "/";
    return 0;
}

// The request line without its line end: [p, end). Returns 0 or an error status.
int parse_request_line(const char* p, const char* end, const char* lo, request& out,
                       head_state& st) {
    // method SP request-target SP HTTP-version, where the version is exactly 8 bytes: find the
    // method from the left, the version from the right, and the target is what lies between.
    const char* m = p;
    while (m < end && is_tchar(*m)) ++m;
    const auto len = static_cast<std::size_t>(end - p);
    const auto method_len = static_cast<std::size_t>(m - p);
    // Shortest valid tail after the method: SP, a 1-byte target, SP, "HTTP/1.1".
    if (method_len == 0 || len < method_len + 11 || *m != ' ') return 400;
    const char* v = end - 8;
    if (v[-1] != ' ' || std::memcmp(v, "HTTP/", 5) != 0 || !is_digit(v[5]) || v[6] != '.' ||
        !is_digit(v[7]))
        return 400;
    const char* t = m + 1;
    const char* t_end = v - 1;
    // No CTL, SP or DEL inside: this also rejects double spaces and a bare CR.
    if (find_ctl<0x20>(t, t_end, lo) != t_end) return 400;

    out.method_name = std::string_view(p, method_len);
    out.target = std::string_view(t, static_cast<std::size_t>(t_end - t));
    const std::string_view target = out.target;
    bool asterisk = false;
    if (target[0] == '/') {
        const std::size_t q = target.find('?');
        out.path = target.substr(0, q);
        if (q != std::string_view::npos) out.query = target.substr(q + 1);
    } else if (target == "*") {
        asterisk = true;
    } else if (int s = parse_absolute_form(target, out, st)) {
        return s;
    }

    // Syntax is fine from here on; the rest are semantic answers, version first so that an
    // HTTP/2 preface ("PRI * HTTP/2.0") gets 505.
    if (v[5] != '1') return 505;
    out.version_minor = v[7] == '0' ? 0 : 1;
    out.method = lookup_method(out.method_name);
    if (out.method == method::unknown) return 501;
    if (asterisk && out.method != method::options) return 400;
    return 0;
}

void reset(request& r) {
    // Field by field rather than `r = request{}`: that would also zero the 3.2 KB headers array,
    // which costs more than parsing a small request.
    r.method = method::unknown;
    r.method_name = {};
    r.target = {};
    r.path = {};
    r.query = {};
    r.host = {};
    r.version_minor = 1;
    r.keep_alive = true;
    r.has_content_length = false;
    r.content_length = 0;
    r.has_transfer_encoding = false;
    r.accept_encoding = {};
    r.if_none_match = {};
    r.if_modified_since = {};
    r.if_match = {};
    r.if_unmodified_since = {};
    r.range = {};
    r.if_range = {};
    r.header_count = 0;
}

constexpr parse_result incomplete() {
    return {parse_status::incomplete, 0, 0};
}
constexpr parse_result failed(int status) {
    return {parse_status::error, 0, status};
}

std::size_t saturating_add(std::size_t a, std::size_t b) {
    return a > std::numeric_limits<std::size_t>::max() - b ? std::numeric_limits<std::size_t>::max()
                                                           : a + b;
}

} // namespace

parse_result parse_request(std::string_view buf, request& out,
                           const parser_limits& limits) noexcept {
    reset(out);
    // An empty view may have a null data(), which memchr must not see.
    if (buf.empty()) return incomplete();
    const char* const b = buf.data();
    const std::size_t size = buf.size();
    std::size_t pos = 0;

    for (int i = 0; i < max_leading_empty_lines && pos < size; ++i) {
        if (b[pos] == '\n') {
            ++pos;
        } else if (b[pos] == '\r') {
            if (pos + 1 == size) return incomplete();
            if (b[pos + 1] != '\n') break; // bare CR: the request-line check rejects it
            pos += 2;
        } else {
            break;
        }
    }

    head_state st;

    // Request line. Only the first request_line + 2 bytes (content plus CRLF) are searched for the
    // line end, so the 414 decision depends on the same bytes whether or not more have arrived.
    {
        const std::size_t avail = size - pos;
        const std::size_t window = std::min(avail, saturating_add(limits.request_line, 2));
        const char* lf = static_cast<const char*>(std::memchr(b + pos, '\n', window));
        if (lf == nullptr) {
            // The content is at least everything seen, minus a CR that might end it.
            const std::size_t known = avail - (avail > 0 && b[size - 1] == '\r' ? 1 : 0);
            return known > limits.request_line ? failed(414) : incomplete();
        }
        const char* line_end = lf;
        if (line_end > b + pos && line_end[-1] == '\r') --line_end;
        if (static_cast<std::size_t>(line_end - (b + pos)) > limits.request_line)
            return failed(414);
        if (int s = parse_request_line(b + pos, line_end, b, out, st)) return failed(s);
        pos = static_cast<std::size_t>(lf - b) + 1;
    }

    // Header block. Each line end is searched for only within what is left of the block budget,
    // which makes 431 a function of the first header_block bytes, like 414 above.
    const std::size_t block_start = pos;
    const std::size_t max_fields = std::min(limits.fields, max_headers);
    for (;;) {
        const std::size_t budget = limits.header_block - (pos - block_start);
        const std::size_t avail = size - pos;
        const char* lf =
            static_cast<const char*>(std::memchr(b + pos, '\n', std::min(avail, budget)));
        if (lf == nullptr) return avail >= budget ? failed(431) : incomplete();
        const char* line_end = lf;
        if (line_end > b + pos && line_end[-1] == '\r') --line_end;
        if (line_end == b + pos) {
            pos = static_cast<std::size_t>(lf - b) + 1;
            break;
        }
        if (out.header_count == max_fields) return failed(431);
        if (int s = parse_field_line(b + pos, line_end, b, out, st)) return failed(s);
        pos = static_cast<std::size_t>(lf - b) + 1;
    }

    const bool http11 = out.version_minor == 1;
    if (http11 && !st.seen_host) return failed(400);
    // RFC 9112 6.1 / 6.3: both framings at once is the classic smuggling vector, and an HTTP/1.0
    // recipient cannot know chunked, so its framing is faulty either way.
    if (out.has_transfer_encoding && (out.has_content_length || !http11)) return failed(400);
    out.keep_alive = http11 ? !st.conn_close : st.conn_keep_alive && !st.conn_close;
    return {parse_status::complete, pos, 0};
}

int reject_status(const request& r) noexcept {
    switch (r.method) {
    case method::get:
    case method::head:
        break;
    case method::unknown:
        return 501;
    default:
        return 405;
    }
    if (r.has_transfer_encoding) return 411;
    if (r.has_content_length && r.content_length > 0) return 413;
    return 0;
}

} // namespace ringlet::http
