// Rendered audio (speech, decoded clips) by key, least recently used evicted first, bounded by
// bytes of PCM. Thread-safe. An evicted entry stays alive while a playing announcement holds it.
#pragma once

#include <cstddef>
#include <list>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "media/pcm.hpp"

namespace stopcall::media {

struct CacheStats {
  std::size_t entries = 0;
  std::size_t bytes = 0;
  std::size_t hits = 0;
  std::size_t misses = 0;
  std::size_t evictions = 0;
};

class AudioCache {
 public:
  explicit AudioCache(std::size_t max_bytes) : max_bytes_(max_bytes) {}

  PcmPtr get(const std::string& key);  // nullptr on a miss; a hit becomes most recent
  // The entry without using it: neither the order nor the hit and miss counts change.
  PcmPtr peek(const std::string& key) const;
  // Stores (or replaces) an entry and evicts the least recent ones beyond the bound. An entry
  // larger than the whole bound is not stored.
  void put(const std::string& key, PcmPtr pcm);
  CacheStats stats() const;

  static std::size_t bytes_of(const PcmPtr& pcm) { return pcm ? pcm->size() * 2 : 0; }

 private:
  using Entry = std::pair<std::string, PcmPtr>;
  mutable std::mutex mu_;
  std::size_t max_bytes_;
  std::list<Entry> order_;  // most recent first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  CacheStats stats_;
};

}  // namespace stopcall::media
