// stopcall-render (render_main): the documented example rendered to a WAV file and a cues file,
// checked against each other; usage errors.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "test_support.hpp"

namespace stopcall::media {
namespace {

using test::Analysis;
using test::ScratchDir;

struct ToolRun {
  int status = -1;
  std::string output;  // stdout and stderr
};

ToolRun render(const std::string& args) {
  ::unsetenv("GST_DEBUG");
  const std::string command =
      std::string(STOPCALL_BINARY_DIR) + "/media/stopcall-render " + args + " 2>&1";
  ToolRun run;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return run;
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr)
    run.output += buffer;
  const int raw = ::pclose(pipe);
  run.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  return run;
}

std::vector<nlohmann::json> read_cues(const std::filesystem::path& file) {
  std::vector<nlohmann::json> cues;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);)
    cues.push_back(nlohmann::json::parse(line));
  return cues;
}

TEST(MediaRender, TheDocumentedExample) {
  ScratchDir dir;
  std::filesystem::copy_file(
      std::filesystem::path(STOPCALL_SOURCE_DIR) /
          "routes/demo/shenzhen-101-extra/clips/huizhanzhongxin-phrase-yue.wav",
      dir / "x.wav");
  std::ofstream(dir / "a.json") << R"({"id":"a1","priority":"stop","segments":[
      {"kind":"chime"},
      {"kind":"speech","text":"下一站，车公庙","lang":"zh"},
      {"kind":"pause","ms":300},
      {"kind":"speech","text":"Next stop: Chegongmiao","lang":"en"},
      {"kind":"clip","path":"x.wav","text":"可轉乘地鐵1號線、4號線","lang":"yue"}]})";
  const ToolRun run =
      render("--announcement " + (dir / "a.json").string() + " --out " +
             (dir / "out.wav").string() + " --cues " + (dir / "cues.jsonl").string());
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_EQ(run.output, "");

  const auto cues = read_cues(dir / "cues.jsonl");
  ASSERT_EQ(cues.size(), 5u);
  const char* kinds[] = {"chime", "speech", "pause", "speech", "clip"};
  for (std::size_t i = 0; i < cues.size(); ++i) {
    EXPECT_EQ(cues[i]["segment"], i);
    EXPECT_EQ(cues[i]["kind"], kinds[i]);
    if (i > 0) {
      EXPECT_DOUBLE_EQ(cues[i]["start_ms"].get<double>(), cues[i - 1]["end_ms"].get<double>());
    }
  }
  EXPECT_EQ(cues[1]["text"], "下一站，车公庙");
  EXPECT_EQ(cues[1]["lang"], "zh");
  EXPECT_EQ(cues[4]["text"], "可轉乘地鐵1號線、4號線");
  EXPECT_EQ(cues[4]["lang"], "yue");
  EXPECT_NEAR(cues[2]["end_ms"].get<double>() - cues[2]["start_ms"].get<double>(), 300.0, 0.1);

  const Analysis wav(dir / "out.wav");
  EXPECT_EQ(wav.wav().rate, 22050);
  const double chime = cues[0]["start_ms"];
  EXPECT_FALSE(wav.first_sound(0, chime - 10, Analysis::kSilence));
  EXPECT_NEAR(*wav.first_sound(0, chime + 200), chime, 30.0);
  const double en = cues[3]["start_ms"];
  EXPECT_NEAR(*wav.first_sound(cues[2]["start_ms"].get<double>() + 15, en + 500), en, 30.0);
  const double end = cues[4]["end_ms"];
  EXPECT_NEAR(*wav.last_sound(cues[4]["start_ms"], wav.length_ms()), end, 30.0);
  EXPECT_FALSE(wav.first_sound(end + 20, wav.length_ms(), Analysis::kSilence));
}

TEST(MediaRender, UsageAndInputErrors) {
  ScratchDir dir;
  EXPECT_EQ(render("--out x.wav --cues x.jsonl").status, 2);
  std::ofstream(dir / "bad.json") << R"({"id":"a","segments":[{"kind":"speech","text":"x"}]})";
  const ToolRun bad = render("--announcement " + (dir / "bad.json").string() + " --out " +
                             (dir / "o.wav").string() + " --cues " + (dir / "c.jsonl").string());
  EXPECT_EQ(bad.status, 1);
  EXPECT_NE(bad.output.find("segments[0]: missing 'lang'"), std::string::npos) << bad.output;
  std::ofstream(dir / "a.json") << R"({"id":"a","segments":[{"kind":"chime"}]})";
  const ToolRun unwritable =
      render("--announcement " + (dir / "a.json").string() +
             " --out /nonexistent-folder/o.wav --cues " + (dir / "c.jsonl").string());
  EXPECT_EQ(unwritable.status, 1);
  EXPECT_NE(unwritable.output.find("cannot write /nonexistent-folder/o.wav"), std::string::npos)
      << unwritable.output;
}

TEST(MediaRender, MissingClipIsSpokenAndWarned) {
  ScratchDir dir;
  std::ofstream(dir / "a.json")
      << R"({"id":"a","segments":[{"kind":"clip","path":"gone.opus","text":"OCT","lang":"en"}]})";
  const ToolRun run = render("--announcement " + (dir / "a.json").string() + " --out " +
                             (dir / "o.wav").string() + " --cues " + (dir / "c.jsonl").string());
  ASSERT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("warning: clip_fallback"), std::string::npos) << run.output;
  const auto cues = read_cues(dir / "c.jsonl");
  ASSERT_EQ(cues.size(), 1u);
  const Analysis wav(dir / "o.wav");
  EXPECT_NEAR(*wav.first_sound(0, wav.length_ms()), cues[0]["start_ms"].get<double>(), 30.0);
}

}  // namespace
}  // namespace stopcall::media
