// Test helpers for files: a scratch folder that goes away with everything in it, whole-file
// reads and writes, and a file's permission bits.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

namespace ringlet::test {

// A new folder /tmp/ringlet-<tag>-XXXXXX (mkdtemp: unique even within one process).
struct scratch_dir {
    std::string path;
    explicit scratch_dir(std::string_view tag) {
        std::string tmpl = "/tmp/ringlet-" + std::string(tag) + "-XXXXXX";
        if (const char* made = ::mkdtemp(tmpl.data())) path = made;
    }
    scratch_dir(const scratch_dir&) = delete;
    scratch_dir& operator=(const scratch_dir&) = delete;
    ~scratch_dir() {
        if (!path.empty()) std::filesystem::remove_all(path);
    }
};

inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline void write_file(const std::string& path, const std::string& data) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
}

// The permission bits of `path` (links followed), or 0 when it cannot be stat()ed.
inline unsigned mode_of(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return 0;
    return st.st_mode & 07777;
}

} // namespace ringlet::test
