#include "ringlet/files/mime.hpp"

#include <gtest/gtest.h>

#include <string_view>

namespace {

using ringlet::files::mime_type;

constexpr std::string_view octet = "application/octet-stream";

TEST(MimeType, Table) {
    struct row {
        std::string_view path;
        std::string_view want;
    };
    const row rows[] = {
        {"index.html", "text/html; charset=utf-8"},
        {"a/b/page.htm", "text/html; charset=utf-8"},
        {"style.css", "text/css; charset=utf-8"},
        {"app.js", "text/javascript; charset=utf-8"},
        {"mod.mjs", "text/javascript; charset=utf-8"},
        {"data.json", "application/json; charset=utf-8"},
        {"app.js.map", "application/json; charset=utf-8"},
        {"feed.xml", "application/xml; charset=utf-8"},
        {"readme.txt", "text/plain; charset=utf-8"},
        {"README.md", "text/markdown; charset=utf-8"},
        {"t.csv", "text/csv; charset=utf-8"},
        {"logo.svg", "image/svg+xml; charset=utf-8"},
        {"p.png", "image/png"},
        {"p.jpg", "image/jpeg"},
        {"p.jpeg", "image/jpeg"},
        {"p.gif", "image/gif"},
        {"p.webp", "image/webp"},
        {"p.avif", "image/avif"},
        {"favicon.ico", "image/x-icon"},
        {"p.bmp", "image/bmp"},
        {"f.woff", "font/woff"},
        {"f.woff2", "font/woff2"},
        {"f.ttf", "font/ttf"},
        {"f.otf", "font/otf"},
        {"f.eot", "application/vnd.ms-fontobject"},
        {"m.wasm", "application/wasm"},
        {"d.pdf", "application/pdf"},
        {"a.zip", "application/zip"},
        {"a.gz", "application/gzip"},
        {"a.tar.gz", "application/gzip"},
        {"a.br", "application/x-brotli"},
        {"a.zst", "application/zstd"},
        {"a.tar", "application/x-tar"},
        {"v.mp4", "video/mp4"},
        {"v.webm", "video/webm"},
        {"a.ogg", "audio/ogg"},
        {"a.mp3", "audio/mpeg"},
        {"a.wav", "audio/wav"},
        {"a.m4a", "audio/mp4"},
        {"v.mov", "video/quicktime"},
        {"site.webmanifest", "application/manifest+json; charset=utf-8"},
        {"x.appcache", "text/cache-manifest; charset=utf-8"},
        {"cal.ics", "text/calendar; charset=utf-8"},
        {"feed.rss", "application/rss+xml; charset=utf-8"},
        {"feed.atom", "application/atom+xml; charset=utf-8"},
        {"c.yaml", "application/yaml; charset=utf-8"},
        {"c.yml", "application/yaml; charset=utf-8"},
        {"a.7z", "application/x-7z-compressed"},
        // Case-insensitive.
        {"INDEX.HTML", "text/html; charset=utf-8"},
        {"Photo.JpG", "image/jpeg"},
        {"site.WebManifest", "application/manifest+json; charset=utf-8"},
        // Extension of the last segment only.
        {"dir.html/file", octet},
        {"dir.d/file.css", "text/css; charset=utf-8"},
        {"/abs/path/x.png", "image/png"},
        // No or unknown extension.
        {"", octet},
        {"Makefile", octet},
        {"a/", octet},
        {"a.", octet},
        {"a.unknown", octet},
        {"a.exe", octet},
        {".htaccess", octet},
        {"a/.env", octet},
        {".config.json", "application/json; charset=utf-8"},
        {"a.htmlx", octet},
        {"a.htm1", octet},
        {"a.averyveryverylongextension", octet},
        {"a.webmanifestx", octet},
        {"a.H\xc3\x89", octet},
        {std::string_view("a.js\0", 5), octet},
    };
    for (const row& r : rows) {
        SCOPED_TRACE(r.path);
        EXPECT_EQ(mime_type(r.path), r.want);
    }
}

} // namespace
