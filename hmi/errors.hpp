// The HMI's one error catalogue: why a screen's message was refused. Each code travels to the
// screen as the `error` string of a `reply` (see PROTOCOL.md); the category's messages are what a
// driver or a depot worker reading the console or the log can act on.
#pragma once

#include <string_view>
#include <system_error>

namespace stopcall::hmi {

enum class Errc {
  malformed = 1,     // not a JSON object with a string "type", or a binary frame
  too_large,         // the message is larger than HmiConfig::max_client_message
  unknown_type,      // "type" names no message of this protocol version
  not_authorized,    // a driver action from a passenger display, or before `auth`
  invalid_argument,  // a field is missing, of the wrong type or out of range
  unavailable,       // nothing on the bus handles driver actions right now
  rejected,          // the daemon refused the action (its message says why)
};

const std::error_category& error_category();
std::error_code make_error_code(Errc code);

// The wire name of a code: "malformed", "too_large", ... (stable, part of the protocol).
std::string_view wire_name(Errc code);

}  // namespace stopcall::hmi

template <>
struct std::is_error_code_enum<stopcall::hmi::Errc> : std::true_type {};
