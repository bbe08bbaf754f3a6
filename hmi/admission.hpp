// Who may connect to the screens' server, private to hmi/: the rules on a request's Host, Origin
// and query as pure functions (tested alone), and, in admission.cpp, ServerCore's places per kind
// of screen, the bus's own names and the wrong console tokens.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace stopcall::hmi::detail {

// Compares in time independent of where the first difference is.
bool token_matches(std::string_view expected, std::string_view given);

// The host of "host", "host:port", "[v6]" or "[v6]:port", lower case, without a trailing dot;
// an IP address in its usual text form. nullopt when it is none of these.
std::optional<std::string> host_part(std::string_view text);

// The value of `key` in a query string "a=1&b=2", percent-decoded; nullopt when absent.
std::optional<std::string> query_value(std::string_view query, std::string_view key);

}  // namespace stopcall::hmi::detail
