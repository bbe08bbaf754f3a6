// The screens' WebSocket messages (hmi/PROTOCOL.md, protocol.hpp): the input as one text frame
// from a passenger display or the driver console, and the reply the server sends back. Promises
// checked: nothing throws; the reply is one JSON object echoing the id and type it could read.
#include <nlohmann/json.hpp>

#include "fuzz/fuzz_support.hpp"
#include "hmi/protocol.hpp"

namespace {

using namespace stopcall;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  hmi::ClientMessage message = hmi::parse_client_message(fuzz::as_text(data, size));
  fuzz::check(message.body.has_value() != !message.error.ok(),
              "a message both read and refused, or neither");
  std::string reply = hmi::encode_reply(message.id, message.type,
                                        message.body ? hmi::Reply::success() : message.error, 0);
  auto j = nlohmann::json::parse(reply, nullptr, false);
  fuzz::check(j.is_object(), "the reply is not a JSON object: " + reply);
  if (!message.id.empty()) {
    fuzz::check(j["id"] == message.id, "the reply does not echo the id: " + reply);
  }
  return 0;
}
