// The announcement JSON of `stopcall-render` / `stopcalld render` (media/README.md,
// announcement_json.hpp). Promises checked: anything wrong is std::invalid_argument naming the
// field; an announcement that reads has segments, each of a known kind, clips with a path.
#include <stdexcept>

#include "fuzz/fuzz_support.hpp"
#include "media/announcement_json.hpp"

namespace {

using namespace stopcall;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    auto a = media::announcement_from_json(fuzz::as_text(data, size), "/var/lib/stopcall/clips");
    fuzz::check(!a.id.empty() && !a.segments.empty(), "an announcement without id or segments");
    for (const auto& s : a.segments) {
      if (s.kind == media::SegmentKind::clip) fuzz::check(!s.clip.empty(), "a clip without path");
    }
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
