#include "ringlet/http/response.hpp"

#include <charconv>

namespace ringlet::http {

std::string_view reason_phrase(int status) {
    switch (status) {
    case 200:
        return "OK";
    case 204:
        return "No Content";
    case 206:
        return "Partial Content";
    case 301:
        return "Moved Permanently";
    case 302:
        return "Found";
    case 304:
        return "Not Modified";
    case 308:
        return "Permanent Redirect";
    case 400:
        return "Bad Request";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 411:
        return "Length Required";
    case 412:
        return "Precondition Failed";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 416:
        return "Range Not Satisfiable";
    case 421:
        return "Misdirected Request";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Unknown";
    }
}

response_writer::response_writer(std::string& out, int status) : out_(out) {
    out_.clear();
    out_.append("HTTP/1.1 ");
    char code[4];
    std::to_chars(code, code + 3, status);
    out_.append(code, 3).push_back(' ');
    out_.append(reason_phrase(status)).append("\r\n");
}

response_writer& response_writer::header(std::string_view name, std::string_view value) {
    out_.append(name).append(": ").append(value).append("\r\n");
    return *this;
}

response_writer& response_writer::header(std::string_view name, std::uint64_t value) {
    char digits[24];
    auto r = std::to_chars(digits, digits + sizeof digits, value);
    return header(name, std::string_view(digits, static_cast<std::size_t>(r.ptr - digits)));
}

response_writer& response_writer::raw(std::string_view lines) {
    out_.append(lines);
    return *this;
}

std::string_view response_writer::finish() {
    out_.append("\r\n");
    return out_;
}

} // namespace ringlet::http
