// Shared by the fuzz targets (fuzz/README.md): a scratch folder per process, files written from
// the input, feeds written as text sections, and checks of what a parser promises.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace stopcall::fuzz {

namespace fs = std::filesystem;

// A folder of this process's own under $TMPDIR (tools/fuzz points it at /dev/shm), emptied on
// each call and removed at exit.
const fs::path& scratch_dir();
void clear_scratch();

void write_file(const fs::path& path, std::string_view bytes);

// Several files in one input, as text: each starts at a line "--- NAME" and runs to the next such
// line. Lines before the first are a comment. Names other than [A-Za-z0-9._-]{1,64} are skipped.
struct Section {
  std::string name;
  std::string content;
};
std::vector<Section> split_sections(std::string_view input);

// The input's lines, without their line ends ('\n', '\r\n').
std::vector<std::string_view> split_lines(std::string_view input);

// A broken promise of the code under test: print it and abort, so the fuzzer keeps the input.
[[noreturn]] void broken(const std::string& what);
inline void check(bool ok, const std::string& what) {
  if (!ok) broken(what);
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace stopcall::fuzz
