// Content-Type by file extension, from a built-in table of the common web types.
//
//   headers.add("Content-Type", mime_type(rel_path));
#pragma once

#include <string_view>

namespace ringlet::files {

// Content-Type for `path` by its last extension, compared case-insensitively ("a/B.JS" is
// JavaScript, "x.tar.gz" is gzip). The extension is what follows the last '.' of the last
// segment; a segment's leading '.' does not start one (".htaccess", ".env" have none).
// Covers html/htm, css, js/mjs, json, map, jsonld, xml, xhtml, xsl, txt, md, csv, ics, vtt,
// svg, png, apng, jpg/jpeg, gif, webp, avif, jxl, ico, bmp, tif/tiff, woff, woff2, ttf, otf,
// eot, wasm, pdf, epub, zip, gz, br, zst, xz, bz2, 7z, tar, mp4, m4v, webm, ogv, mov, mkv,
// mpg/mpeg, ogg/oga/opus, mp3, wav, m4a, aac, flac, weba, m3u8, mpd, webmanifest, appcache,
// rss, atom, yaml/yml, toml, gltf, glb.
// Textual types (text/*, JavaScript, JSON, XML and the +xml / +json types) carry
// "; charset=utf-8". Unknown or no extension -> "application/octet-stream".
// The returned view refers to static storage.
std::string_view mime_type(std::string_view path) noexcept;

} // namespace ringlet::files
