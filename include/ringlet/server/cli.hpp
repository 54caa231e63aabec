// The command line: `ringlet serve|version|help`. Parsing is a pure function so every bad input
// has a tested message; cli_main() wires it to the server and the exit code.
//
// Exit codes: 0 success, 1 runtime failure (cannot listen, io_uring unavailable...),
// 2 usage error (unknown option, missing or malformed value).
#pragma once

#include "ringlet/server/server.hpp"

#include <span>
#include <string>
#include <string_view>

namespace ringlet::server {

// `args` are the words after "serve". Each --root starts a new site; the --host flags after it
// name that site. Returns false and sets `error` (one line, naming the flag) on bad input.
bool parse_serve_args(std::span<const std::string_view> args, server_options& out,
                      std::string& error);

std::string_view usage_text();
std::string_view serve_usage_text();

int cli_main(int argc, char** argv);

} // namespace ringlet::server
