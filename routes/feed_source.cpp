#include "routes/feed_source.hpp"

#include <zip.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "routes/problem.hpp"

namespace stopcall::routes {

namespace fs = std::filesystem;

// Counts bytes against the per-file and per-feed budgets, whatever the file claims its size is.
class CountingStream : public ByteStream {
 public:
  CountingStream(FeedSource& feed, std::string name) : feed_(feed), name_(std::move(name)) {}

  std::size_t read(char* buffer, std::size_t size) final {
    std::size_t n = read_raw(buffer, size);
    file_read_ += n;
    feed_.total_read_ += n;
    if (file_read_ > feed_.limits_.max_file_bytes) {
      throw RouteError(Errc::feed_too_large,
                       name_ + ": larger than " +
                           std::to_string(feed_.limits_.max_file_bytes >> 20) +
                           " MiB uncompressed; refusing to import (damaged or hostile feed?)");
    }
    if (feed_.total_read_ > feed_.limits_.max_total_bytes) {
      throw RouteError(Errc::feed_too_large,
                       feed_.path() + ": more than " +
                           std::to_string(feed_.limits_.max_total_bytes >> 20) +
                           " MiB uncompressed in all; refusing to import");
    }
    return n;
  }

 protected:
  virtual std::size_t read_raw(char* buffer, std::size_t size) = 0;
  FeedSource& feed_;
  std::string name_;
  std::uint64_t file_read_ = 0;
};

bool FeedSource::has(const std::string& name) const {
  auto all = files();
  return std::find(all.begin(), all.end(), name) != all.end();
}

namespace {

class FileStream final : public CountingStream {
 public:
  FileStream(FeedSource& feed, const std::string& name, const fs::path& path)
      : CountingStream(feed, name), file_(std::fopen(path.c_str(), "rb")) {
    if (!file_) {
      throw RouteError(Errc::feed_unreadable, path.string() + ": " + std::strerror(errno));
    }
  }
  ~FileStream() override { std::fclose(file_); }

 private:
  std::size_t read_raw(char* buffer, std::size_t size) override {
    std::size_t n = std::fread(buffer, 1, size, file_);
    if (n == 0 && std::ferror(file_)) {
      throw RouteError(Errc::feed_unreadable, name_ + ": read error");
    }
    return n;
  }
  std::FILE* file_;
};

class FolderFeed final : public FeedSource {
 public:
  FolderFeed(const std::string& path, const FeedLimits& limits) : FeedSource(path, limits) {}

  std::vector<std::string> files() const override {
    std::vector<std::string> out;
    for (const auto& entry : fs::directory_iterator(path_)) {
      if (entry.is_regular_file()) out.push_back(entry.path().filename().string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  std::unique_ptr<ByteStream> open_file(const std::string& name) override {
    return std::make_unique<FileStream>(*this, name, fs::path(path_) / name);
  }
};

class ZipStream final : public CountingStream {
 public:
  ZipStream(FeedSource& feed, const std::string& name, zip_file_t* file)
      : CountingStream(feed, name), file_(file) {}
  ~ZipStream() override { zip_fclose(file_); }

 private:
  std::size_t read_raw(char* buffer, std::size_t size) override {
    zip_int64_t n = zip_fread(file_, buffer, size);
    if (n < 0) {
      throw RouteError(Errc::feed_unreadable, name_ + ": cannot decompress: " +
                                                  zip_error_strerror(zip_file_get_error(file_)));
    }
    return static_cast<std::size_t>(n);
  }
  zip_file_t* file_;
};

class ZipFeed final : public FeedSource {
 public:
  ZipFeed(const std::string& path, const FeedLimits& limits) : FeedSource(path, limits) {
    int err = 0;
    zip_ = zip_open(path.c_str(), ZIP_RDONLY, &err);
    if (!zip_) {
      zip_error_t error;
      zip_error_init_with_code(&error, err);
      std::string msg = path + ": not a readable zip archive: " + zip_error_strerror(&error);
      zip_error_fini(&error);
      throw RouteError(Errc::feed_unreadable, msg);
    }
    try {
      index_members();
    } catch (...) {
      zip_discard(zip_);  // the destructor does not run for a throwing constructor
      throw;
    }
  }
  ~ZipFeed() override { zip_discard(zip_); }

  std::vector<std::string> files() const override {
    std::vector<std::string> out;
    for (const auto& m : members_)
      out.push_back(m.name);
    return out;
  }

  std::unique_ptr<ByteStream> open_file(const std::string& name) override {
    auto it = std::find_if(members_.begin(), members_.end(),
                           [&](const Member& m) { return m.name == name; });
    if (it == members_.end()) throw RouteError(Errc::feed_unreadable, name + ": not in the feed");
    zip_file_t* file = zip_fopen_index(zip_, it->index, 0);
    if (!file) {
      throw RouteError(Errc::feed_unreadable, name + ": " + zip_strerror(zip_));
    }
    return std::make_unique<ZipStream>(*this, name, file);
  }

 private:
  struct Member {
    std::string name;
    zip_uint64_t index;
  };

  void index_members() {
    zip_int64_t count = zip_get_num_entries(zip_, 0);
    // Files at the top level, or all inside one folder (a common way feeds get zipped).
    std::vector<std::pair<std::string, zip_uint64_t>> all;
    for (zip_int64_t i = 0; i < count; ++i) {
      zip_stat_t st;
      if (zip_stat_index(zip_, i, 0, &st) != 0 || !(st.valid & ZIP_STAT_NAME)) continue;
      std::string name = st.name;
      if (name.empty() || name.back() == '/' || name.starts_with("__MACOSX/")) continue;
      if ((st.valid & ZIP_STAT_SIZE) && (st.valid & ZIP_STAT_COMP_SIZE) && st.comp_size > 0 &&
          st.size >= limits_.zip_ratio_from_bytes &&
          st.size / st.comp_size > limits_.max_zip_ratio) {
        throw RouteError(Errc::feed_too_large, path_ + ": " + name + " claims " +
                                                   std::to_string(st.size >> 20) + " MiB from " +
                                                   std::to_string(st.comp_size >> 10) +
                                                   " KiB compressed; refusing a likely zip bomb");
      }
      all.emplace_back(name, static_cast<zip_uint64_t>(i));
    }
    bool all_in_one_folder = !all.empty();
    std::string folder;
    for (const auto& [name, index] : all) {
      auto slash = name.find('/');
      std::string f = slash == std::string::npos ? "" : name.substr(0, slash + 1);
      if (f.empty() || name.find('/', slash + 1) != std::string::npos) {
        all_in_one_folder = false;
        break;
      }
      if (folder.empty()) folder = f;
      if (f != folder) {
        all_in_one_folder = false;
        break;
      }
    }
    for (const auto& [name, index] : all) {
      if (all_in_one_folder) {
        members_.push_back({name.substr(folder.size()), index});
      } else if (name.find('/') == std::string::npos) {
        members_.push_back({name, index});
      }
    }
    std::sort(members_.begin(), members_.end(),
              [](const Member& a, const Member& b) { return a.name < b.name; });
  }

  zip_t* zip_ = nullptr;
  std::vector<Member> members_;
};

}  // namespace

std::unique_ptr<FeedSource> FeedSource::open(const std::string& path, const FeedLimits& limits) {
  std::error_code ec;
  auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) {
    throw RouteError(Errc::feed_unreadable, path + ": no such file or folder");
  }
  if (fs::is_directory(status)) return std::make_unique<FolderFeed>(path, limits);
  return std::make_unique<ZipFeed>(path, limits);
}

}  // namespace stopcall::routes
