// UTF-8 validation, for every text that reaches the bus from outside (feeds, control lines).
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace stopcall::routes {

// The offset of the first byte that does not start a valid UTF-8 sequence (overlong forms and
// surrogates are invalid), or nothing when all of `text` is valid.
std::optional<std::size_t> first_invalid_utf8(std::string_view text);

}  // namespace stopcall::routes
