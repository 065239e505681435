// human_size: byte counts in decimal units for people ("512 B", "1.5 MB"), as the image
// commands print them.
#pragma once

#include <cstdint>
#include <string>

namespace cove {

enum class SizeDigits {
    kOneDecimal,        // "123.5 MB" (pull progress)
    kThreeSignificant,  // "123 MB", "1.5 MB" (docker-style tables)
};

// n bytes in B, kB, MB, GB or TB (powers of 1000); bytes are always whole ("512 B").
std::string human_size(int64_t n, SizeDigits digits);

}  // namespace cove
