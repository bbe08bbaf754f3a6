// A byte stream over a string, for readers of feed files without a feed on disk.
#pragma once

#include <algorithm>
#include <cstring>
#include <string>

#include "routes/feed_source.hpp"

namespace stopcall::routes::testing {

// Hands out at most `chunk` bytes a read, so records straddle buffer boundaries the way they do
// in a real file.
class StringStream : public ByteStream {
 public:
  explicit StringStream(std::string data, std::size_t chunk = 7)
      : data_(std::move(data)), chunk_(chunk) {}
  std::size_t read(char* buffer, std::size_t size) override {
    std::size_t n = std::min({size, chunk_, data_.size() - pos_});
    std::memcpy(buffer, data_.data() + pos_, n);
    pos_ += n;
    return n;
  }

 private:
  std::string data_;
  std::size_t chunk_;
  std::size_t pos_ = 0;
};

}  // namespace stopcall::routes::testing
