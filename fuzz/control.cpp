// The control socket's line protocol (daemon/vehicle/CONTROL.md, control.hpp): each line of the
// input as the daemon reads a command, and as stopcallctl reads a reply. Promises checked: nothing
// throws; a command that parses encodes to a line that parses to the same command; every error
// reply encodes to a line stopcallctl reads back as that error.
#include "daemon/vehicle/control.hpp"
#include "fuzz/fuzz_support.hpp"

namespace {

using namespace stopcall::daemon::vehicle;
namespace fuzz = stopcall::fuzz;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  for (auto line : fuzz::split_lines(fuzz::as_text(data, size))) {
    Parsed parsed = parse_command(line);
    if (parsed.command) {
      std::string encoded = encode_command(*parsed.command, parsed.id);
      Parsed again = parse_command(encoded);
      fuzz::check(again.command.has_value(),
                  "an encoded command does not parse: " + encoded + ": " + again.error.message);
      fuzz::check(encode_command(*again.command, again.id) == encoded,
                  "a command changes through encoding: " + encoded);
    } else {
      fuzz::check(!parsed.error.ok && !parsed.error.error.empty(), "a refusal without an error");
      Reply back = parse_reply(encode_reply(parsed.error, parsed.id));
      fuzz::check(
          !back.ok && back.error == parsed.error.error && back.message == parsed.error.message,
          "an error reply does not read back: " + parsed.error.message);
    }
    Reply reply = parse_reply(line);
    encode_reply(reply, "r");  // stopcallctl prints what it got; the daemon never sends this
  }
  return 0;
}
