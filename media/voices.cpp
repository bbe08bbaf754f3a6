#include "media/voices.hpp"

#include <algorithm>
#include <cctype>

namespace stopcall::media {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::replace(out.begin(), out.end(), '_', '-');
  return out;
}

}  // namespace

VoiceMap::VoiceMap(const std::map<std::string, std::string>& overrides) {
  for (const char* tag : {"zh", "zh-hans", "zh-cn", "zh-sg", "zh-tw", "cmn"}) {
    voices_[tag] = "cmn-latn-pinyin";
  }
  for (const char* tag : {"yue", "zh-hk", "zh-mo", "zh-yue"})
    voices_[tag] = "yue";
  voices_["en"] = "en";
  for (const auto& [tag, voice] : overrides)
    voices_[lower(tag)] = voice;
}

std::optional<std::string> VoiceMap::voice_for(std::string_view lang) const {
  std::string tag = lower(lang);
  while (!tag.empty()) {
    if (auto it = voices_.find(tag); it != voices_.end()) return it->second;
    const auto dash = tag.rfind('-');
    if (dash == std::string::npos) break;
    tag.resize(dash);
  }
  return std::nullopt;
}

}  // namespace stopcall::media
