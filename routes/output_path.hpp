// What the depot tool may write over. Its outputs are written aside and renamed into place, and
// rename(2) replaces whatever has the name: `import -o /dev/null` run as root would turn the
// device into a bundle file. So an output path (or a bundle in the install folder) that exists and
// is not a regular file is refused before anything is written; so is an install folder that is
// not a folder. A symbolic link is refused too: rename would replace the link, not what it names.
#pragma once

#include <sys/stat.h>

#include <string>

#include "routes/problem.hpp"

namespace stopcall::routes {

// What stands at `path`, for a message ("a character device"); empty when nothing does.
inline std::string what_is_at(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return {};
  switch (st.st_mode & S_IFMT) {
    case S_IFREG:
      return "a regular file";
    case S_IFDIR:
      return "a folder";
    case S_IFLNK:
      return "a symbolic link";
    case S_IFCHR:
      return "a character device";
    case S_IFBLK:
      return "a block device";
    case S_IFIFO:
      return "a named pipe";
    case S_IFSOCK:
      return "a socket";
    default:
      return "not a regular file";
  }
}

// Throws RouteError(`code`) when `path` exists and is not a regular file.
inline void refuse_unless_regular_or_absent(const std::string& path, Errc code) {
  const std::string what = what_is_at(path);
  if (what.empty() || what == "a regular file") return;
  throw RouteError(code, path + " is " + what + ", not a bundle file; not replacing it");
}

// Throws RouteError(`code`) when `dir` exists and is not a folder.
inline void refuse_unless_folder_or_absent(const std::string& dir, Errc code) {
  const std::string what = what_is_at(dir);
  if (what.empty() || what == "a folder") return;
  struct stat st {};
  if (what == "a symbolic link" && ::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return;
  throw RouteError(code, dir + " is " + what + ", not a folder for bundles");
}

}  // namespace stopcall::routes
