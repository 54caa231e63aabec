// Positions (byte offset to line:column), edit distance and JSON quoting: what the config reader
// needs to point at and print what it found. Separate from the parse (json_tree.cpp) because
// none of it depends on simdjson or on how the tree was built.
#include "config/json_syntax.hpp"
#include "config/json_tree.hpp"
#include "ringlet/base/json_writer.hpp"

#include <algorithm>

namespace ringlet::config::detail {

text_position position_at(std::string_view text, std::size_t offset) {
    return position_finder(text).at(offset);
}

position_finder::position_finder(std::string_view text) : text_(text) {
    line_starts_.push_back(starts_with_bom(text) ? 3 : 0);
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\n') line_starts_.push_back(i + 1);
    }
    offset_ = line_starts_[0];
}

text_position position_finder::at(std::size_t offset) {
    offset = std::clamp(offset, line_starts_[0], std::max(line_starts_[0], text_.size()));
    if (offset < offset_) {
        auto line = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset) - 1;
        offset_ = *line;
        position_ = {static_cast<int>(line - line_starts_.begin()) + 1, 1};
    }
    for (; offset_ < offset; ++offset_) {
        char c = text_[offset_];
        if (c == '\n') {
            ++position_.line;
            position_.column = 1;
        } else if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) {
            ++position_.column;
        }
    }
    return position_;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t above = row[j];
            std::size_t substitute = diagonal + (lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1);
            row[j] = std::min({above + 1, row[j - 1] + 1, substitute});
            diagonal = above;
        }
    }
    return row[b.size()];
}

std::string quoted(std::string_view s) {
    return json_string(s); // as JSON writes it, so the reader can search the file for it
}

} // namespace ringlet::config::detail
