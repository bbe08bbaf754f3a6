// Reading a GTFS feed's files from a folder or a zip archive, as byte streams with hard limits:
// a zip bomb or a runaway file stops with a clear error instead of exhausting memory or disk.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace stopcall::routes {

struct FeedLimits {
  std::uint64_t max_file_bytes = 4ull << 30;   // uncompressed size of one file
  std::uint64_t max_total_bytes = 8ull << 30;  // uncompressed size of everything read
  std::size_t max_record_bytes = 64 << 10;     // one CSV record (a "huge line")
  std::uint64_t max_zip_ratio = 1000;          // declared uncompressed / compressed, per member
  std::uint64_t zip_ratio_from_bytes = 64ull << 20;  // ...checked for members at least this large
};

// A stream of bytes from one file of the feed.
class ByteStream {
 public:
  virtual ~ByteStream() = default;
  // Reads up to `size` bytes; returns 0 at the end. Throws RouteError on failure or over a limit.
  virtual std::size_t read(char* buffer, std::size_t size) = 0;
};

// Bytes already in memory, handed out at most `chunk` bytes a read, so that records straddle the
// reader's buffer the way they do in a file (the tests and the fuzz targets read feeds this way).
class MemoryStream : public ByteStream {
 public:
  explicit MemoryStream(std::string data, std::size_t chunk = 7)
      : data_(std::move(data)), chunk_(std::max<std::size_t>(chunk, 1)) {}
  std::size_t read(char* buffer, std::size_t size) override {
    const std::size_t n = std::min({size, chunk_, data_.size() - pos_});
    std::memcpy(buffer, data_.data() + pos_, n);
    pos_ += n;
    return n;
  }

 private:
  std::string data_;
  std::size_t chunk_;
  std::size_t pos_ = 0;
};

class FeedSource {
 public:
  virtual ~FeedSource() = default;
  // Opens a folder or a .zip; throws RouteError(feed_unreadable) with the reason.
  static std::unique_ptr<FeedSource> open(const std::string& path, const FeedLimits& limits);

  // File names at the feed's top level (a zip whose files sit in one subfolder is accepted).
  virtual std::vector<std::string> files() const = 0;
  bool has(const std::string& name) const;
  virtual std::unique_ptr<ByteStream> open_file(const std::string& name) = 0;
  const std::string& path() const { return path_; }

 protected:
  FeedSource(std::string path, FeedLimits limits) : path_(std::move(path)), limits_(limits) {}
  std::string path_;
  FeedLimits limits_;
  std::uint64_t total_read_ = 0;  // shared budget across files
  friend class CountingStream;
};

}  // namespace stopcall::routes
