// Test helpers: the openssl CLI as an independent peer that checks what wolfCrypt produced, and
// a temporary folder for the files it reads.
#pragma once

#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

namespace ringlet::test {

struct run_result {
    int status = -1;
    std::string output; // stdout and stderr
};

// Runs a shell command (local tools only), capturing stdout, and stderr too unless told not to.
inline run_result run(const std::string& cmd, bool with_stderr = true) {
    run_result r;
    FILE* p = ::popen((cmd + (with_stderr ? " 2>&1" : " 2>/dev/null")).c_str(), "r");
    if (!p) return r;
    char buf[4096];
    while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) r.output.append(buf, n);
    int st = ::pclose(p);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return r;
}

inline bool have_openssl() {
    static const bool ok = run("openssl version").status == 0;
    return ok;
}

// A fresh folder under /tmp, removed with everything in it.
struct scratch_dir {
    std::string path;
    scratch_dir() {
        char tmpl[] = "/tmp/ringlet-crypto-test-XXXXXX";
        path = ::mkdtemp(tmpl);
    }
    ~scratch_dir() { std::filesystem::remove_all(path); }
    scratch_dir(const scratch_dir&) = delete;
    scratch_dir& operator=(const scratch_dir&) = delete;

    // Writes `data` to <path>/<name> and returns the file's path.
    std::string write(const std::string& name, std::string_view data) const {
        const std::string file = path + "/" + name;
        std::ofstream(file, std::ios::binary | std::ios::trunc)
            .write(data.data(), static_cast<std::streamsize>(data.size()));
        return file;
    }
    std::string read(const std::string& name) const {
        std::ifstream in(path + "/" + name, std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }
};

inline std::string to_hex(std::string_view bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : bytes) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

// SHA-256 of a file as lower-case hex, computed by openssl.
inline std::string openssl_sha256_hex(const std::string& file) {
    run_result r = run("openssl dgst -sha256 -r " + file);
    return r.output.substr(0, r.output.find(' '));
}

inline bool contains(const std::string& haystack, std::string_view needle) {
    return haystack.find(needle) != std::string::npos;
}

} // namespace ringlet::test

#define RINGLET_REQUIRE_OPENSSL()                                                                  \
    if (!::ringlet::test::have_openssl()) GTEST_SKIP() << "the openssl CLI is not installed"
