// The internal CA's file operations (internal_ca.cpp): whole-file reads, folder creation and
// atomic replacement, each durable against a crash. Private to src/certs; apart so that
// internal_ca.cpp holds only what the CA's files contain and when they change.
#pragma once

#include "ringlet/base/result.hpp"

#include <sys/types.h>

#include <string>
#include <string_view>

namespace ringlet::certs::detail {

// Reads a whole regular file. On failure the code is the errno (ENOENT for a missing file) and
// `error` names the path.
result<std::string> read_file(const std::string& path, std::string& error);

// mkdir -p; every folder it creates gets mode 0700 (whatever the umask) and is made durable by
// an fsync of its parent. Existing folders are left as they are.
result<void> make_dirs(const std::string& path, std::string& error);

// Replaces dir/name atomically: a temporary file in the same folder, written, fsynced and renamed
// over the old one, then the folder fsynced so that the rename itself survives a crash.
result<void> write_file_atomic(const std::string& dir, const std::string& name,
                               std::string_view data, mode_t mode, std::string& error);

} // namespace ringlet::certs::detail
