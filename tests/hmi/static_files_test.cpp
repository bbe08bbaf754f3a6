// What the web server may read: only regular files under the web root, whatever the target says.
#include "hmi/static_files.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <random>

namespace stopcall::hmi {
namespace {

namespace fs = std::filesystem;

class StaticFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device random;
    base_ = fs::temp_directory_path() / ("hmi-static-" + std::to_string(random()));
    fs::create_directories(base_ / "web" / "css");
    fs::create_directories(base_ / "web" / ".git");
    write(base_ / "web" / "index.html", "<html>");
    write(base_ / "web" / "driver.html", "<html>");
    write(base_ / "web" / "css" / "display.css", "body{}");
    write(base_ / "web" / ".git" / "config", "hidden");
    write(base_ / "web" / "%2e%2e", "literal name");
    write(base_ / "secret.txt", "secret");
    fs::create_symlink(base_ / "secret.txt", base_ / "web" / "escape.txt");
    fs::create_symlink(base_ / "web" / "index.html", base_ / "web" / "alias.html");
  }
  void TearDown() override { fs::remove_all(base_); }

  static void write(const fs::path& file, const std::string& text) { std::ofstream(file) << text; }
  StaticFile resolve(std::string_view target) { return resolve_static(base_ / "web", target); }

  fs::path base_;
};

TEST_F(StaticFiles, ServesFilesUnderTheRoot) {
  auto index = resolve("/");
  ASSERT_EQ(index.status, 200);
  EXPECT_EQ(index.path.filename(), "index.html");
  EXPECT_EQ(index.content_type, "text/html; charset=utf-8");

  // The driver console's address.
  auto driver = resolve("/driver");
  ASSERT_EQ(driver.status, 200);
  EXPECT_EQ(driver.path.filename(), "driver.html");

  auto css = resolve("/css/display.css?v=3#top");
  ASSERT_EQ(css.status, 200);
  EXPECT_EQ(css.content_type, "text/css; charset=utf-8");

  EXPECT_EQ(resolve("/css%2Fdisplay.css").status, 200);  // an encoded slash is still a slash
  EXPECT_EQ(resolve("/alias.html").status, 200);         // a symlink that stays inside
  // Double encoding decodes once: a file literally named "%2e%2e", not a parent directory.
  EXPECT_EQ(resolve("/%252e%252e").status, 200);
}

TEST_F(StaticFiles, RefusesTraversal) {
  for (const char* target : {"/../secret.txt",
                             "/css/../../secret.txt",
                             "/%2e%2e/secret.txt",
                             "/%2E%2E/secret.txt",
                             "/..%2fsecret.txt",
                             "/%2e%2e%2fsecret.txt",
                             "/css/%2e%2e/%2e%2e/secret.txt",
                             "/./index.html",
                             "//secret.txt",
                             "///etc/passwd",
                             "/css//display.css",
                             "/..\\secret.txt",
                             "/%5c..%5csecret.txt",
                             "/index.html%00.css",
                             "/%zz",
                             "/%2",
                             "secret.txt",
                             "",
                             "*",
                             "http://example.com/index.html"}) {
    auto file = resolve(target);
    EXPECT_EQ(file.status, 400) << target;
    EXPECT_TRUE(file.path.empty()) << target;
  }
  EXPECT_EQ(resolve(std::string(2000, '/')).status, 400);
}

TEST_F(StaticFiles, HidesWhatIsNotAPage) {
  EXPECT_EQ(resolve("/escape.txt").status, 404);  // symlink out of the root
  EXPECT_EQ(resolve("/.git/config").status, 404);
  EXPECT_EQ(resolve("/%2egit/config").status, 404);
  EXPECT_EQ(resolve("/css").status, 404);  // a directory
  EXPECT_EQ(resolve("/missing.html").status, 404);
  EXPECT_EQ(resolve("/etc/passwd").status, 404);  // absolute paths are inside the root
  EXPECT_EQ(resolve_static(base_ / "no-such-root", "/index.html").status, 404);
}

TEST(ContentType, NamesTheTypesThePagesUse) {
  EXPECT_EQ(content_type_for("a.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(content_type_for("a.svg"), "image/svg+xml");
  EXPECT_EQ(content_type_for("a.json"), "application/json");
  EXPECT_EQ(content_type_for("a.png"), "image/png");
  EXPECT_EQ(content_type_for("a"), "application/octet-stream");
  EXPECT_EQ(content_type_for("a.exe"), "application/octet-stream");
}

TEST(PercentDecode, DecodesOnceAndRejectsBadEscapes) {
  std::string out;
  ASSERT_TRUE(percent_decode("a%20b%2F%2e", out));
  EXPECT_EQ(out, "a b/.");
  ASSERT_TRUE(percent_decode("%252e", out));
  EXPECT_EQ(out, "%2e");
  EXPECT_FALSE(percent_decode("%", out));
  EXPECT_FALSE(percent_decode("%4", out));
  EXPECT_FALSE(percent_decode("%g0", out));
}

}  // namespace
}  // namespace stopcall::hmi
