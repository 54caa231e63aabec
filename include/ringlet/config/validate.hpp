// `ringlet validate --config FILE`: check a config before deploying it, like `nginx -t`.
#pragma once

#include "ringlet/config/config.hpp"

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ringlet::config {

// `args` are the words after "validate":
//   --config FILE   the config to check (required)
//   --skip-ports    do not try to bind the listen addresses (e.g. while the server holds them)
//   --help, -h      usage on stdout, exit 0
// Reads FILE, parses it, checks the environment (folders, certificate files, free ports), then
// prints "config OK" on stdout and returns 0, or prints every error on stderr, one per line
// (config_error::to_string()), and returns 1. Warnings go to stderr either way, prefixed
// "warning: ". Usage errors print one line on stderr and return 2 (the CLI's convention).
int validate_command(std::span<const std::string_view> args);

// Reads, parses and checks a config file: the parsed config, or every problem as a one-line
// message (syntax, unknown keys, values, environment) naming the file, position and path.
// `warnings` (optional) gets the warnings of a config that parsed, whatever the checks found.
result<parsed_config> load_config_file(const std::string& file, environment_checks checks,
                                       std::vector<std::string>& messages,
                                       std::vector<std::string>* warnings = nullptr);

std::string_view validate_usage_text();

} // namespace ringlet::config
