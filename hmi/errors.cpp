#include "hmi/errors.hpp"

#include <string>

#include "common/names.hpp"

namespace stopcall::hmi {
namespace {

constexpr names::Entry<Errc> kWireNames[] = {
    {Errc::malformed, "malformed"},
    {Errc::too_large, "too_large"},
    {Errc::unknown_type, "unknown_type"},
    {Errc::not_authorized, "not_authorized"},
    {Errc::invalid_argument, "invalid_argument"},
    {Errc::unavailable, "unavailable"},
    {Errc::rejected, "rejected"},
};
static_assert(names::distinct(kWireNames));

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "stopcall.hmi"; }
  std::string message(int value) const override {
    switch (static_cast<Errc>(value)) {
      case Errc::malformed:
        return "the screen sent something that is not a protocol message (a JSON object with a "
               "string \"type\", in a text frame)";
      case Errc::too_large:
        return "the screen sent a message larger than the server accepts";
      case Errc::unknown_type:
        return "the screen sent a message type this server does not know (page and daemon "
               "versions differ?)";
      case Errc::not_authorized:
        return "driver actions are only accepted from the driver console after it has "
               "authenticated with the console token";
      case Errc::invalid_argument:
        return "a field of the message is missing, of the wrong type or out of range";
      case Errc::unavailable:
        return "nothing on the bus handles driver actions right now (daemon starting up?)";
      case Errc::rejected:
        return "the action was refused";
    }
    return "unknown hmi error " + std::to_string(value);
  }
};

}  // namespace

const std::error_category& error_category() {
  static const Category category;  // function-local constant: the category object must be unique
  return category;
}

std::error_code make_error_code(Errc code) {
  return {static_cast<int>(code), error_category()};
}

std::string_view wire_name(Errc code) {
  return names::name_of(kWireNames, code, "error");
}

}  // namespace stopcall::hmi
