#include "ringlet/http/request.hpp"

namespace ringlet::http {

std::string_view method_name(method m) noexcept {
    switch (m) {
    case method::get:
        return "GET";
    case method::head:
        return "HEAD";
    case method::post:
        return "POST";
    case method::put:
        return "PUT";
    case method::delete_:
        return "DELETE";
    case method::connect:
        return "CONNECT";
    case method::options:
        return "OPTIONS";
    case method::trace:
        return "TRACE";
    case method::patch:
        return "PATCH";
    case method::unknown:
        break;
    }
    // An empty name rather than a made-up one, so a caller that echoes it cannot mistake it for a
    // method the client sent; the sent spelling is in request::method_name.
    return {};
}

} // namespace ringlet::http
