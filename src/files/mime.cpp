#include "ringlet/files/mime.hpp"

#include "ringlet/base/ascii.hpp"

#include <algorithm>
#include <cstddef>

namespace ringlet::files {

namespace {

struct mime_entry {
    std::string_view extension; // lower case
    std::string_view type;
};

// Sorted by extension for binary search (checked below); extensions are lower case.
constexpr mime_entry mime_table[] = {
    {"7z", "application/x-7z-compressed"},
    {"aac", "audio/aac"},
    {"apng", "image/apng"},
    {"appcache", "text/cache-manifest; charset=utf-8"},
    {"atom", "application/atom+xml; charset=utf-8"},
    {"avif", "image/avif"},
    {"bmp", "image/bmp"},
    {"br", "application/x-brotli"},
    {"bz2", "application/x-bzip2"},
    {"css", "text/css; charset=utf-8"},
    {"csv", "text/csv; charset=utf-8"},
    {"eot", "application/vnd.ms-fontobject"},
    {"epub", "application/epub+zip"},
    {"flac", "audio/flac"},
    {"gif", "image/gif"},
    {"glb", "model/gltf-binary"},
    {"gltf", "model/gltf+json; charset=utf-8"},
    {"gz", "application/gzip"},
    {"htm", "text/html; charset=utf-8"},
    {"html", "text/html; charset=utf-8"},
    {"ico", "image/x-icon"},
    {"ics", "text/calendar; charset=utf-8"},
    {"jpeg", "image/jpeg"},
    {"jpg", "image/jpeg"},
    {"js", "text/javascript; charset=utf-8"},
    {"json", "application/json; charset=utf-8"},
    {"jsonld", "application/ld+json; charset=utf-8"},
    {"jxl", "image/jxl"},
    {"m3u8", "application/vnd.apple.mpegurl"},
    {"m4a", "audio/mp4"},
    {"m4v", "video/mp4"},
    {"map", "application/json; charset=utf-8"},
    {"md", "text/markdown; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"mkv", "video/x-matroska"},
    {"mov", "video/quicktime"},
    {"mp3", "audio/mpeg"},
    {"mp4", "video/mp4"},
    {"mpd", "application/dash+xml; charset=utf-8"},
    {"mpeg", "video/mpeg"},
    {"mpg", "video/mpeg"},
    {"oga", "audio/ogg"},
    {"ogg", "audio/ogg"},
    {"ogv", "video/ogg"},
    {"opus", "audio/ogg"},
    {"otf", "font/otf"},
    {"pdf", "application/pdf"},
    {"png", "image/png"},
    {"rss", "application/rss+xml; charset=utf-8"},
    {"svg", "image/svg+xml; charset=utf-8"},
    {"tar", "application/x-tar"},
    {"tif", "image/tiff"},
    {"tiff", "image/tiff"},
    {"toml", "application/toml; charset=utf-8"},
    {"ttf", "font/ttf"},
    {"txt", "text/plain; charset=utf-8"},
    {"vtt", "text/vtt; charset=utf-8"},
    {"wasm", "application/wasm"},
    {"wav", "audio/wav"},
    {"weba", "audio/webm"},
    {"webm", "video/webm"},
    {"webmanifest", "application/manifest+json; charset=utf-8"},
    {"webp", "image/webp"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"xhtml", "application/xhtml+xml; charset=utf-8"},
    {"xml", "application/xml; charset=utf-8"},
    {"xsl", "application/xslt+xml; charset=utf-8"},
    {"xz", "application/x-xz"},
    {"yaml", "application/yaml; charset=utf-8"},
    {"yml", "application/yaml; charset=utf-8"},
    {"zip", "application/zip"},
    {"zst", "application/zstd"},
};

constexpr bool entry_less(const mime_entry& a, const mime_entry& b) {
    return a.extension < b.extension;
}
static_assert(std::is_sorted(std::begin(mime_table), std::end(mime_table), entry_less));
static_assert(std::adjacent_find(std::begin(mime_table), std::end(mime_table),
                                 [](const mime_entry& a, const mime_entry& b) {
                                     return a.extension == b.extension;
                                 }) == std::end(mime_table));

constexpr std::size_t longest_extension = [] {
    std::size_t n = 0;
    for (const mime_entry& e : mime_table) n = std::max(n, e.extension.size());
    return n;
}();

constexpr std::string_view default_type = "application/octet-stream";

} // namespace

std::string_view mime_type(std::string_view path) noexcept {
    const std::size_t slash = path.rfind('/');
    const std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
    const std::size_t dot = name.rfind('.');
    if (dot == std::string_view::npos || dot == 0) return default_type;
    const std::string_view ext = name.substr(dot + 1);
    // Anything longer than the longest known extension cannot match; this also bounds the
    // stack buffer used to fold the case without allocating.
    if (ext.empty() || ext.size() > longest_extension) return default_type;
    char lower[longest_extension];
    for (std::size_t i = 0; i < ext.size(); ++i) {
        lower[i] = ascii_lower(ext[i]);
    }
    const mime_entry key{std::string_view(lower, ext.size()), {}};
    const auto* it =
        std::lower_bound(std::begin(mime_table), std::end(mime_table), key, entry_less);
    if (it == std::end(mime_table) || it->extension != key.extension) return default_type;
    return it->type;
}

} // namespace ringlet::files
