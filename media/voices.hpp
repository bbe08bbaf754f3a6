// Which espeak-ng voice speaks which language. Pure lookup, no espeak here.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace stopcall::media {

class VoiceMap {
 public:
  // `overrides` (language tag -> voice) replace or extend the defaults:
  //   zh, zh-Hans, zh-CN, zh-SG, zh-TW, cmn -> cmn-latn-pinyin   (espeak-ng 1.51's `cmn` reads
  //                                                               pinyin as English)
  //   yue, zh-HK, zh-MO, zh-yue              -> yue
  //   en                                     -> en
  explicit VoiceMap(const std::map<std::string, std::string>& overrides = {});

  // The voice for a BCP 47 tag: the tag itself (case-insensitive), then with its last subtag
  // dropped, repeatedly ("en-GB" -> "en", "zh-Hans-CN" -> "zh-Hans" -> "zh"). nullopt when none.
  std::optional<std::string> voice_for(std::string_view lang) const;

 private:
  std::map<std::string, std::string> voices_;  // keys lower case
};

}  // namespace stopcall::media
