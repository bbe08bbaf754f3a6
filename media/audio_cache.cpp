#include "media/audio_cache.hpp"

namespace stopcall::media {

PcmPtr AudioCache::get(const std::string& key) {
  std::lock_guard lock(mu_);
  const auto it = index_.find(key);
  if (it == index_.end()) {
    ++stats_.misses;
    return nullptr;
  }
  ++stats_.hits;
  order_.splice(order_.begin(), order_, it->second);
  return it->second->second;
}

PcmPtr AudioCache::peek(const std::string& key) const {
  std::lock_guard lock(mu_);
  const auto it = index_.find(key);
  return it == index_.end() ? nullptr : it->second->second;
}

void AudioCache::put(const std::string& key, PcmPtr pcm) {
  std::lock_guard lock(mu_);
  if (const auto it = index_.find(key); it != index_.end()) {
    stats_.bytes -= bytes_of(it->second->second);
    order_.erase(it->second);
    index_.erase(it);
  }
  const std::size_t size = bytes_of(pcm);
  if (size > max_bytes_) return;
  while (!order_.empty() && stats_.bytes + size > max_bytes_) {
    stats_.bytes -= bytes_of(order_.back().second);
    index_.erase(order_.back().first);
    order_.pop_back();
    ++stats_.evictions;
  }
  order_.emplace_front(key, std::move(pcm));
  index_[key] = order_.begin();
  stats_.bytes += size;
}

CacheStats AudioCache::stats() const {
  std::lock_guard lock(mu_);
  CacheStats s = stats_;
  s.entries = index_.size();
  return s;
}

}  // namespace stopcall::media
