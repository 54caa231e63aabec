// The strict JSON reader under the ACME document parsers (messages.cpp): typed accessors on
// simdjson's DOM that put the failing key path in `error`. Private to src/certs/acme; kept apart so
// that messages.cpp says only what each ACME document holds, not how a field is read.
#pragma once

#include "ringlet/base/result.hpp"
#include "ringlet/certs/acme/messages.hpp"

// SIMDJSON_EXCEPTIONS=0 comes from CMake (simdjson::simdjson): error codes only.
#include <simdjson.h>

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ringlet::certs::acme::detail {

namespace dom = simdjson::dom;

// The enumerator whose name is `s`, looking at the first `count` names only.
template <class E, std::size_t N>
std::optional<E> value_of(const std::array<std::string_view, N>& names, std::string_view s,
                          std::size_t count = N) noexcept {
    for (std::size_t i = 0; i < count; ++i) {
        if (names[i] == s) return static_cast<E>(i);
    }
    return std::nullopt;
}

// "pending, ready or valid": what a status may be, for messages.
template <std::size_t N>
std::string one_of(const std::array<std::string_view, N>& names) {
    std::string out;
    for (std::size_t i = 0; i < N; ++i) {
        if (i > 0) out += i + 1 == N ? " or " : ", ";
        out += names[i];
    }
    return out;
}

// Text from the server as it may appear in a log line: printable, one line, bounded.
std::string shown(std::string_view s, std::size_t max = 60);

// `path` in double quotes, as messages show key paths. Appended, not "\"" + path: g++ 12 warns
// falsely about the latter (-Wrestrict, PR 105651) once the reader's accessors are out of line.
std::string quoted_path(std::string_view path);

// The key path of `key` in the object at `prefix`: "meta.website", or "key" at the top level.
std::string join(std::string_view prefix, std::string_view key);

// The key path of item `i` of the array at `prefix`: "challenges[2]".
std::string at_index(std::string_view prefix, std::size_t i);

enum class need { required, optional };

// Reads one document: typed accessors that name the failing key path in `error`.
class reader {
public:
    reader(std::string_view what, std::string& error) : what_(what), error_(error) {}

    // Parses `json`, which must be one object of at most max_message_bytes.
    bool open(std::string_view json, dom::object& root);

    unexpected<std::error_code> failure() const { return fail_errno(code_); }

    bool fail(std::string message);

    bool wrong_type(std::string_view path, dom::element v, std::string_view expected);

    // Finds `key` in `o`. JSON null counts as absent. Absent and required is an error.
    bool find(dom::object o, std::string_view prefix, std::string_view key, need n,
              std::optional<dom::element>& out);

    bool as_string(dom::element v, std::string_view path, std::string& out);
    bool as_url(dom::element v, std::string_view path, std::string& out);
    bool as_time(dom::element v, std::string_view path, std::optional<std::int64_t>& out);

    template <std::size_t N, class E>
    bool as_enum(dom::element v, std::string_view path,
                 const std::array<std::string_view, N>& names, E& out) {
        std::string text;
        if (!as_string(v, path, text)) return false;
        auto e = value_of<E>(names, text);
        if (!e) {
            return fail(quoted_path(path) + " is " + shown(text) + ", expected " + one_of(names));
        }
        out = *e;
        return true;
    }

    bool as_object(dom::element v, std::string_view path, dom::object& out);
    bool as_array(dom::element v, std::string_view path, dom::array& out);

    // The common case: a field read with one of the as_ functions above.
    template <class F>
    bool field(dom::object o, std::string_view prefix, std::string_view key, need n, F&& read) {
        std::optional<dom::element> v;
        if (!find(o, prefix, key, n, v)) return false;
        return !v || read(*v, join(prefix, key));
    }

    template <std::size_t N, class E>
    bool enum_field(dom::object o, std::string_view prefix, std::string_view key,
                    const std::array<std::string_view, N>& names, E& out) {
        return field(o, prefix, key, need::required, [&](dom::element v, const std::string& p) {
            return as_enum(v, p, names, out);
        });
    }

    // An object member, read by `read(object, path)`.
    template <class F>
    bool object_field(dom::object o, std::string_view prefix, std::string_view key, need n,
                      F&& read) {
        return field(o, prefix, key, n, [&](dom::element v, const std::string& p) {
            dom::object inner;
            return as_object(v, p, inner) && read(inner, p);
        });
    }

    // An array of objects, each read by `read(object, "key[i]")`.
    template <class F>
    bool objects_field(dom::object o, std::string_view prefix, std::string_view key, need n,
                       F&& read) {
        return field(o, prefix, key, n, [&](dom::element v, const std::string& p) {
            dom::array items;
            if (!as_array(v, p, items)) return false;
            std::size_t i = 0;
            for (dom::element item : items) {
                std::string item_path = at_index(p, i++);
                dom::object inner;
                if (!as_object(item, item_path, inner) || !read(inner, item_path)) return false;
            }
            return true;
        });
    }

    bool string_field(dom::object o, std::string_view prefix, std::string_view key, need n,
                      std::string& out);
    bool url_field(dom::object o, std::string_view prefix, std::string_view key, need n,
                   std::string& out);
    bool time_field(dom::object o, std::string_view prefix, std::string_view key, need n,
                    std::optional<std::int64_t>& out);
    bool bool_field(dom::object o, std::string_view prefix, std::string_view key, bool& out);

    // An array of strings (URLs when `urls`).
    bool strings_field(dom::object o, std::string_view prefix, std::string_view key, need n,
                       bool urls, std::vector<std::string>& out);

private:
    std::string_view what_;
    std::string& error_;
    int code_ = EBADMSG;
    dom::parser parser_{max_message_bytes};
};

} // namespace ringlet::certs::acme::detail
