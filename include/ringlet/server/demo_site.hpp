// The demo site compiled into the binary (generated from src/server/demo/ by embed.cmake).
#pragma once

#include <span>
#include <string_view>

namespace ringlet::server {

struct embedded_file {
    std::string_view name;     // file name, no folders
    std::string_view contents; // the bytes
};

std::span<const embedded_file> demo_site();

} // namespace ringlet::server
