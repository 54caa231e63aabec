#include "ringlet/http/response_parser.hpp"

#include "ringlet/http/date.hpp"
#include "ringlet/http/syntax.hpp"

#include <limits>

namespace ringlet::http {

namespace {

constexpr bool is_ctl(char c) noexcept {
    auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
}

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Calls fn(token) for each element of a comma-separated list, trimmed, empty ones skipped.
template <class Fn>
void for_each_element(std::string_view list, Fn fn) {
    while (!list.empty()) {
        std::size_t comma = list.find(',');
        std::string_view item = trim_ows(list.substr(0, comma));
        if (!item.empty()) fn(item);
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
}

bool parse_u64(std::string_view s, std::uint64_t& out) noexcept {
    if (s.empty() || s.size() > 19) return false;
    std::uint64_t v = 0;
    for (char c : s) {
        if (!is_digit(c)) return false;
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    out = v;
    return true;
}

struct line_reader {
    std::string_view buf;
    std::size_t pos;
    // The next line without its line end; false if it has not fully arrived. `bad` is set for a
    // CR that is not part of a CRLF.
    bool next(std::string_view& line, bool& bad) noexcept {
        std::size_t nl = buf.find('\n', pos);
        if (nl == std::string_view::npos) return false;
        line = buf.substr(pos, nl - pos);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        bad = line.find('\r') != std::string_view::npos;
        pos = nl + 1;
        return true;
    }
};

response_result error(std::string_view why) noexcept {
    return {response_status::error, 0, why};
}

bool parse_status_line(std::string_view line, response_head& out) noexcept {
    // "HTTP/1.x NNN[ reason]"
    if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || !is_digit(line[7]) ||
        line[8] != ' ') {
        return false;
    }
    if (!is_digit(line[9]) || !is_digit(line[10]) || !is_digit(line[11])) return false;
    int status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    if (status < 100 || status > 599) return false;
    std::string_view reason;
    if (line.size() > 12) {
        if (line[12] != ' ') return false;
        reason = line.substr(13);
        for (char c : reason) {
            if (is_ctl(c)) return false;
        }
    }
    out.minor_version = line[7] - '0';
    out.status = status;
    out.reason = reason;
    return true;
}

// Framing and persistence from the parsed fields (RFC 9112 6.3, 9.3).
std::string_view decide_framing(bool head_request, response_head& out) noexcept {
    out.framing = body_framing::until_close;
    out.content_length = 0;
    bool have_te = false, chunked_last = false, have_cl = false;
    bool close = false, keep_alive = false;
    std::uint64_t cl = 0;
    for (const header_field& f : out.headers()) {
        if (iequals(f.name, "transfer-encoding")) {
            have_te = true;
            for_each_element(f.value,
                             [&](std::string_view t) { chunked_last = iequals(t, "chunked"); });
        } else if (iequals(f.name, "content-length")) {
            bool bad = false;
            std::size_t seen = 0;
            for_each_element(f.value, [&](std::string_view v) {
                std::uint64_t n = 0;
                ++seen;
                if (!parse_u64(v, n) || (have_cl && n != cl)) bad = true;
                cl = n;
                have_cl = true;
            });
            if (bad || seen == 0) return "invalid Content-Length";
        } else if (iequals(f.name, "connection")) {
            for_each_element(f.value, [&](std::string_view t) {
                if (iequals(t, "close")) close = true;
                if (iequals(t, "keep-alive")) keep_alive = true;
            });
        }
    }
    out.keep_alive = !close && (out.minor_version >= 1 || keep_alive);
    int s = out.status;
    if (head_request || s < 200 || s == 204 || s == 304) {
        out.framing = body_framing::none;
    } else if (have_te) {
        out.framing = chunked_last ? body_framing::chunked : body_framing::until_close;
    } else if (have_cl) {
        out.content_length = cl;
        out.framing = cl == 0 ? body_framing::none : body_framing::content_length;
    }
    if (out.framing == body_framing::until_close) out.keep_alive = false;
    return {};
}

// One head starting at `pos`; on complete, `pos` is past its empty line.
response_result parse_one(std::string_view buf, std::size_t& pos, bool head_request,
                          response_head& out, const response_limits& limits) noexcept {
    line_reader lines{buf, pos};
    std::string_view line;
    bool bad = false;
    if (!lines.next(line, bad)) return {response_status::incomplete};
    if (bad || !parse_status_line(line, out)) return error("malformed status line");
    out.field_count = 0;
    for (;;) {
        if (!lines.next(line, bad)) return {response_status::incomplete};
        if (bad) return error("bare CR in a header field");
        if (line.empty()) break;
        if (is_ows(line.front())) return error("obsolete line folding in a header field");
        std::size_t colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0) return error("malformed header field");
        std::string_view name = line.substr(0, colon);
        for (char c : name) {
            if (!is_tchar(c)) return error("malformed header field name");
        }
        std::string_view value = trim_ows(line.substr(colon + 1));
        for (char c : value) {
            if (is_ctl(c)) return error("control character in a header field value");
        }
        if (out.field_count >= limits.fields || out.field_count >= max_response_fields) {
            return error("too many header fields");
        }
        out.fields[out.field_count++] = {name, value};
    }
    pos = lines.pos;
    std::string_view why = decide_framing(head_request, out);
    if (!why.empty()) return error(why);
    return {response_status::complete, pos};
}

} // namespace

std::optional<std::string_view> response_head::find(std::string_view name) const noexcept {
    for (const header_field& f : headers()) {
        if (f.name.size() != name.size()) continue;
        bool same = true;
        for (std::size_t i = 0; i < name.size() && same; ++i) {
            same = ascii_lower(f.name[i]) == ascii_lower(name[i]);
        }
        if (same) return f.value;
    }
    return std::nullopt;
}

response_result parse_response(std::string_view buf, bool head_request, response_head& out,
                               const response_limits& limits) noexcept {
    bool truncated = buf.size() > limits.head;
    std::string_view view = buf.substr(0, limits.head);
    std::size_t pos = 0;
    for (;;) {
        response_result r = parse_one(view, pos, head_request, out, limits);
        if (r.status == response_status::incomplete && truncated) {
            return error("response head too large");
        }
        if (r.status != response_status::complete) return r;
        if (out.status >= 200 || out.status == 101) return r;
        // An interim response: the final one follows.
    }
}

// --- chunked ---------------------------------------------------------------------------------

void chunked_decoder::reset() noexcept {
    state_ = state::size_first;
    size_ = 0;
    line_ = 0;
    error_ = {};
}

chunked_decoder::step_result chunked_decoder::fail(std::size_t consumed,
                                                   std::string_view why) noexcept {
    state_ = state::failed;
    error_ = why;
    return {consumed, {}};
}

chunked_decoder::step_result chunked_decoder::step(std::string_view in) noexcept {
    std::size_t i = 0;
    while (i < in.size()) {
        char c = in[i];
        bool size_line = state_ == state::size_first || state_ == state::size ||
                         state_ == state::size_ows || state_ == state::ext ||
                         state_ == state::size_lf;
        if (size_line && ++line_ > limits_.line) return fail(i, "chunk size line too long");
        bool end_of_size_line = false;
        switch (state_) {
        case state::size_first: {
            int v = hex_value(c);
            if (v < 0) return fail(i, "invalid chunk size");
            size_ = static_cast<std::uint64_t>(v);
            state_ = state::size;
            break;
        }
        case state::size: {
            int v = hex_value(c);
            if (v >= 0) {
                if (size_ > (std::numeric_limits<std::uint64_t>::max() >> 4)) {
                    return fail(i, "chunk size too large");
                }
                size_ = size_ * 16 + static_cast<std::uint64_t>(v);
            } else if (c == ';') {
                state_ = state::ext;
            } else if (is_ows(c)) {
                state_ = state::size_ows;
            } else if (c == '\r') {
                state_ = state::size_lf;
            } else if (c == '\n') {
                end_of_size_line = true;
            } else {
                return fail(i, "invalid chunk size");
            }
            break;
        }
        case state::size_ows:
            if (c == ';') {
                state_ = state::ext;
            } else if (c == '\r') {
                state_ = state::size_lf;
            } else if (c == '\n') {
                end_of_size_line = true;
            } else if (!is_ows(c)) {
                return fail(i, "invalid chunk size");
            }
            break;
        case state::ext:
            if (c == '\r') {
                state_ = state::size_lf;
            } else if (c == '\n') {
                end_of_size_line = true;
            } else if (is_ctl(c)) {
                return fail(i, "invalid chunk extension");
            }
            break;
        case state::size_lf:
            if (c != '\n') return fail(i, "bare CR in a chunk size line");
            end_of_size_line = true;
            break;
        case state::data: {
            std::size_t n = static_cast<std::size_t>(
                std::min<std::uint64_t>(size_, static_cast<std::uint64_t>(in.size() - i)));
            std::string_view data = in.substr(i, n);
            size_ -= n;
            if (size_ == 0) state_ = state::data_cr;
            return {i + n, data};
        }
        case state::data_cr:
            if (c == '\r') {
                state_ = state::data_lf;
            } else if (c == '\n') {
                state_ = state::size_first;
                line_ = 0;
            } else {
                return fail(i, "missing CRLF after chunk data");
            }
            break;
        case state::data_lf:
            if (c != '\n') return fail(i, "missing CRLF after chunk data");
            state_ = state::size_first;
            line_ = 0;
            break;
        case state::trailer_start:
        case state::trailer:
            if (++line_ > limits_.trailers) return fail(i, "trailer section too large");
            if (c == '\r') {
                state_ = state_ == state::trailer_start ? state::final_lf : state::trailer_lf;
            } else if (c == '\n') {
                if (state_ == state::trailer_start) {
                    state_ = state::done;
                    return {i + 1, {}};
                }
                state_ = state::trailer_start;
            } else if (is_ctl(c)) {
                return fail(i, "control character in a trailer field");
            } else {
                state_ = state::trailer;
            }
            break;
        case state::trailer_lf:
            if (c != '\n') return fail(i, "bare CR in a trailer field");
            state_ = state::trailer_start;
            break;
        case state::final_lf:
            if (c != '\n') return fail(i, "bare CR after the last chunk");
            state_ = state::done;
            return {i + 1, {}};
        case state::done:
        case state::failed:
            return {i, {}};
        }
        ++i;
        if (end_of_size_line) {
            if (size_ > limits_.chunk_size) return fail(i, "chunk larger than the limit");
            line_ = 0;
            state_ = size_ == 0 ? state::trailer_start : state::data;
        }
    }
    return {i, {}};
}

// --- field values ----------------------------------------------------------------------------

std::optional<std::int64_t> parse_retry_after(std::string_view value,
                                              std::int64_t now_unix) noexcept {
    value = trim_ows(value);
    std::uint64_t secs = 0;
    if (!value.empty() && is_digit(value.front())) {
        if (!parse_u64(value, secs) || secs > (std::uint64_t{1} << 40)) return std::nullopt;
        return static_cast<std::int64_t>(secs);
    }
    auto when = parse_http_date(value, now_unix);
    if (!when) return std::nullopt;
    return *when > now_unix ? *when - now_unix : 0;
}

result<std::vector<link>> parse_link_header(std::string_view v) {
    std::vector<link> out;
    std::size_t i = 0;
    auto bad = [] { return result<std::vector<link>>(fail_errno(EINVAL)); };
    auto skip_ows = [&] {
        while (i < v.size() && is_ows(v[i])) ++i;
    };
    for (;;) {
        while (i < v.size() && (is_ows(v[i]) || v[i] == ',')) ++i;
        if (i == v.size()) break;
        if (v[i] != '<') return bad();
        std::size_t close = v.find('>', i + 1);
        if (close == std::string_view::npos) return bad();
        std::string_view uri = v.substr(i + 1, close - i - 1);
        for (char c : uri) {
            if (is_ctl(c) || c == ' ' || c == '<') return bad();
        }
        i = close + 1;
        bool have_rel = false;
        for (;;) {
            skip_ows();
            if (i == v.size() || v[i] == ',') break;
            if (v[i] != ';') return bad();
            ++i;
            skip_ows();
            std::size_t name_start = i;
            while (i < v.size() && is_tchar(v[i])) ++i;
            std::string_view name = v.substr(name_start, i - name_start);
            if (name.empty()) return bad();
            skip_ows();
            std::string_view value;
            if (i < v.size() && v[i] == '=') {
                ++i;
                skip_ows();
                if (i < v.size() && v[i] == '"') {
                    std::size_t start = ++i;
                    while (i < v.size() && v[i] != '"') {
                        if (v[i] == '\\') ++i; // quoted-pair
                        ++i;
                    }
                    if (i >= v.size()) return bad();
                    value = v.substr(start, i - start);
                    ++i;
                } else {
                    std::size_t start = i;
                    while (i < v.size() && is_tchar(v[i])) ++i;
                    value = v.substr(start, i - start);
                    if (value.empty()) return bad();
                }
            }
            // Only the first rel counts (RFC 8288 3.3); its value is space-separated types.
            if (iequals(name, "rel") && !have_rel) {
                have_rel = true;
                std::size_t p = 0;
                while (p < value.size()) {
                    while (p < value.size() && (value[p] == ' ' || value[p] == '\t')) ++p;
                    std::size_t start = p;
                    while (p < value.size() && value[p] != ' ' && value[p] != '\t') ++p;
                    if (p > start) out.push_back({uri, value.substr(start, p - start)});
                }
            }
        }
    }
    return out;
}

} // namespace ringlet::http
