// stopcalld's TOML configuration (daemon/config.hpp, stopcall.example.toml) as a file. Promises
// checked: anything wrong is a ConfigError listing problems with file and line; a configuration
// that loads keeps its ranges (reconnect backoff ordered, languages named).
#include "daemon/config.hpp"
#include "fuzz/fuzz_support.hpp"

namespace {

using namespace stopcall;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::clear_scratch();
  auto path = fuzz::scratch_dir() / "stopcall.toml";
  fuzz::write_file(path, fuzz::as_text(data, size));
  try {
    auto config = daemon::load_config(path.string());
    fuzz::check(config.gpsd.reconnect_min <= config.gpsd.reconnect_max, "backoff out of order");
    fuzz::check(!config.languages.empty(), "no languages");
    for (const auto& l : config.languages)
      fuzz::check(!l.empty(), "an empty language tag");
  } catch (const daemon::ConfigError& e) {
    fuzz::check(!e.problems().empty(), "a ConfigError without problems");
    for (const auto& p : e.problems())
      fuzz::check(p.file == path.string(), "a problem that does not name the file");
  }
  return 0;
}
