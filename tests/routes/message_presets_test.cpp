// messages.csv in the --extra folder: the emergency and service messages the driver can give, as
// the depot writes them, imported into the bundle, signed with it and read back by the daemon.
#include "routes/message_presets.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "routes/bundle.hpp"
#include "routes/bundle_check.hpp"
#include "routes/importer.hpp"
#include "routes/schema.hpp"
#include "routes/signing.hpp"
#include "routes/sqlite.hpp"
#include "test_feed.hpp"

namespace stopcall::routes {
namespace {

using namespace stopcall::routes::testing;
using ::testing::HasSubstr;
using ::testing::Not;

std::string all_messages(const Problems& problems) {
  std::string out;
  for (const auto& p : problems.kept())
    out += p.to_string() + "\n";
  return out;
}

// The small feed with `messages` as the extra folder's messages.csv, imported to dir/out.db.
ImportReport import_messages(const TempDir& dir, const std::string& messages) {
  write_feed(dir.path() / "feed", small_feed());
  write_file(dir.path() / "extra" / "messages.csv", messages);
  ImportOptions options;
  options.feed = dir / "feed";
  options.output = dir / "out.db";
  options.extra_dir = dir / "extra";
  return import_feed(options);
}

constexpr const char* kHeader =
    "message_id,kind,outputs,repeat_interval_s,repeat_count,expires_after_min,title_zh-Hans,"
    "title_en,text_zh-Hans,text_en,spoken_zh-Hans,spoken_en\n";

// Two messages the depot might write, in this order (not alphabetical).
constexpr const char* kTwoMessages =
    "message_id,kind,outputs,repeat_interval_s,repeat_count,expires_after_min,title_zh-Hans,"
    "title_en,text_zh-Hans,text_en,spoken_zh-Hans,spoken_en\n"
    "evacuate,emergency,,25,,,紧急疏散,Evacuate,请从最近的车门下车。,Leave by the nearest door.,,\n"
    "typhoon,service,exterior,,3,90,台风,Typhoon,8号风球,Signal No. 8,八号风球,Signal number "
    "eight\n";

TEST(MessagePresets, ComeBackThroughTheBundleInFileOrderWithEveryField) {
  TempDir dir;
  auto report = import_messages(dir, kTwoMessages);
  ASSERT_TRUE(report.written) << all_messages(report.problems);
  EXPECT_EQ(report.problems.warning_count(), 0u) << all_messages(report.problems);
  EXPECT_EQ(report.counts.message_presets, 2);

  auto bundle = Bundle::open(dir / "out.db");
  EXPECT_EQ(bundle.summary().message_presets, 2);
  auto presets = bundle.message_presets();
  ASSERT_EQ(presets.size(), 2u);

  const auto& evacuate = presets[0];
  EXPECT_EQ(evacuate.id, "evacuate");
  EXPECT_EQ(evacuate.kind, MessageKind::emergency);
  EXPECT_EQ(evacuate.title, (Names{{"zh-Hans", "紧急疏散"}, {"en", "Evacuate"}}));
  EXPECT_EQ(evacuate.text,
            (Names{{"zh-Hans", "请从最近的车门下车。"}, {"en", "Leave by the nearest door."}}));
  EXPECT_TRUE(evacuate.spoken.empty());
  EXPECT_TRUE(evacuate.interior);  // an emergency is said inside and out unless told otherwise
  EXPECT_TRUE(evacuate.exterior);
  EXPECT_EQ(evacuate.repeat_interval_s, 25);
  EXPECT_EQ(evacuate.repeat_count, 0);
  EXPECT_EQ(evacuate.expires_after_min, 0);

  const auto& typhoon = presets[1];
  EXPECT_EQ(typhoon.id, "typhoon");
  EXPECT_EQ(typhoon.kind, MessageKind::service);
  EXPECT_EQ(typhoon.title, (Names{{"zh-Hans", "台风"}, {"en", "Typhoon"}}));
  EXPECT_EQ(typhoon.text, (Names{{"zh-Hans", "8号风球"}, {"en", "Signal No. 8"}}));
  EXPECT_EQ(typhoon.spoken, (Names{{"zh-Hans", "八号风球"}, {"en", "Signal number eight"}}));
  EXPECT_FALSE(typhoon.interior);
  EXPECT_TRUE(typhoon.exterior);
  EXPECT_EQ(typhoon.repeat_interval_s, 0);
  EXPECT_EQ(typhoon.repeat_count, 3);
  EXPECT_EQ(typhoon.expires_after_min, 90);

  auto one = bundle.message_preset("typhoon");
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(one->spoken.at("en"), "Signal number eight");
  EXPECT_EQ(one->repeat_count, 3);
  EXPECT_FALSE(bundle.message_preset("nope").has_value());
}

TEST(MessagePresets, AServiceMessageIsSaidInsideOnlyUnlessTold) {
  TempDir dir;
  auto report = import_messages(dir,
                                "message_id,kind,text_en\n"
                                "toilet,service,Accessible toilet at the terminus.\n");
  ASSERT_TRUE(report.written) << all_messages(report.problems);
  auto toilet = Bundle::open(dir / "out.db").message_preset("toilet");
  ASSERT_TRUE(toilet.has_value());
  EXPECT_TRUE(toilet->interior);
  EXPECT_FALSE(toilet->exterior);
  EXPECT_TRUE(toilet->title.empty());
  EXPECT_EQ(toilet->repeat_count, 0);
}

TEST(MessagePresets, AFolderWithoutMessagesGivesNone) {
  TempDir dir;
  write_feed(dir.path() / "feed", small_feed());
  write_file(dir.path() / "extra" / "stop_phrases.csv", "stop_id,language,text\nSA,en,Metro\n");
  ImportOptions options;
  options.feed = dir / "feed";
  options.output = dir / "out.db";
  options.extra_dir = dir / "extra";
  ASSERT_TRUE(import_feed(options).written);
  auto bundle = Bundle::open(options.output);
  EXPECT_TRUE(bundle.message_presets().empty());
  EXPECT_EQ(bundle.summary().message_presets, 0);
}

// ---- what the depot gets wrong is refused, naming the file and line -------------------------

struct BadMessages {
  std::string name;
  std::string csv;
  std::string names;  // what the error message must contain
};

// Named in test output by its case, not its bytes.
void PrintTo(const BadMessages& bad, std::ostream* os) {
  *os << bad.name;
}

class RefusedMessages : public ::testing::TestWithParam<BadMessages> {};

TEST_P(RefusedMessages, AreRefusedNamingFileAndLine) {
  TempDir dir;
  auto report = import_messages(dir, GetParam().csv);
  EXPECT_FALSE(report.written);
  EXPECT_FALSE(fs::exists(dir.path() / "out.db"));
  EXPECT_THAT(all_messages(report.problems), HasSubstr("error: " + GetParam().names));
}

const std::string kOk = "ok,service,,,,,,,Fine,Fine,,\n";

INSTANTIATE_TEST_SUITE_P(
    Cases, RefusedMessages,
    ::testing::Values(
        BadMessages{"NoIdColumn", "kind,text_en\nservice,Hello\n",
                    "messages.csv:1: message_id: required column message_id is missing"},
        BadMessages{"NoKindColumn", "message_id,text_en\nhello,Hello\n",
                    "messages.csv:1: kind: required column kind is missing"},
        BadMessages{"NoTextColumn", "message_id,kind,title_en\nhello,service,Hello\n",
                    "messages.csv:1: text_<lang>: no text_<lang> column"},
        BadMessages{"LanguageTagWithUnderscore", "message_id,kind,text_zh_Hans\nhi,service,你好\n",
                    "messages.csv:1: text_zh_Hans: 'zh_Hans' is not a BCP 47 language tag"},
        BadMessages{"ColumnTwice", "message_id,kind,text_en,text_en\nhi,service,Hi,Hello\n",
                    "messages.csv:1: text_en: column text_en appears twice"},
        BadMessages{"MisspeltKind", kHeader + kOk + "fire,emergancy,,,,,,,Fire,Fire,,\n",
                    "messages.csv:3: kind: 'emergancy': must be 'emergency' or 'service'"},
        BadMessages{"EmptyKind", std::string(kHeader) + "fire,,,,,,,,Fire,Fire,,\n",
                    "messages.csv:2: kind: must be 'emergency' or 'service'"},
        BadMessages{"BadOutputs", std::string(kHeader) + "fire,emergency,inside,,,,,,F,F,,\n",
                    "messages.csv:2: outputs: 'inside': must be 'interior', 'exterior' or 'both'"},
        BadMessages{"NegativeInterval", std::string(kHeader) + "fire,emergency,,-5,,,,,F,F,,\n",
                    "messages.csv:2: repeat_interval_s: '-5': must be a whole number"},
        BadMessages{"FractionalCount", std::string(kHeader) + "hi,service,,,2.5,,,,H,H,,\n",
                    "messages.csv:2: repeat_count: '2.5': must be a whole number"},
        BadMessages{"ExpiryWithUnit", std::string(kHeader) + "hi,service,,,,30min,,,H,H,,\n",
                    "messages.csv:2: expires_after_min: '30min': must be a whole number"},
        BadMessages{"HugeNumber", std::string(kHeader) + "hi,service,,,99999999999,,,,H,H,,\n",
                    "messages.csv:2: repeat_count: '99999999999'"},
        BadMessages{"EmptyId", kHeader + kOk + ",service,,,,,,,Hello,Hello,,\n",
                    "messages.csv:3: message_id: every message needs a message_id"},
        BadMessages{"DuplicateId", kHeader + kOk + kOk,
                    "messages.csv:3: message_id: 'ok': already used on line 2"},
        BadMessages{"IdTooLong",
                    std::string(kHeader) + std::string(65, 'x') + ",service,,,,,,,Hi,Hi,,\n",
                    "messages.csv:2: message_id: '" + std::string(65, 'x') + "': longer than 64"},
        BadMessages{"IdWithALineBreak",
                    std::string(kHeader) + "\"two\nlines\",service,,,,,,,Hi,Hi,,\n",
                    "messages.csv:2: message_id: contains a control character"},
        BadMessages{"NoTextInAnyLanguage", std::string(kHeader) + "hi,service,,,,,你好,Hi,,,,\n",
                    "messages.csv:2: text: 'hi': the message has no text in any language"},
        BadMessages{"SpokenWithoutText", std::string(kHeader) + "hi,service,,,,,,,你好,,,Hello\n",
                    "messages.csv:2: spoken_en: a spoken form without a text_en"},
        BadMessages{"TextNotUtf8", kHeader + kOk + "hi,service,,,,,,,caf\xE9,cafe,,\n",
                    "messages.csv:3:"}),
    [](const auto& info) { return info.param.name; });

TEST(MessagePresets, AnIdOfExactly64BytesIsFine) {
  TempDir dir;
  auto report = import_messages(dir, kHeader + std::string(64, 'x') + ",service,,,,,,,Hi,Hi,,\n");
  EXPECT_TRUE(report.written) << all_messages(report.problems);
}

// ---- what is worth a look but imports -------------------------------------------------------

TEST(MessagePresets, AMessageLackingALanguageTheOthersHaveIsAWarning) {
  TempDir dir;
  auto report = import_messages(dir,
                                "message_id,kind,text_zh-Hans,text_yue,text_en\n"
                                "fire,emergency,车上发生火警,車上發生火警,Fire on the bus\n"
                                "toilet,service,终点站设有无障碍洗手间,,Accessible toilet\n");
  ASSERT_TRUE(report.written) << all_messages(report.problems);
  EXPECT_EQ(report.problems.warning_count(), 1u) << all_messages(report.problems);
  EXPECT_THAT(all_messages(report.problems),
              HasSubstr("warning: messages.csv:3: message_id: 'toilet': no text in yue, which "
                        "other messages have; said and shown in en, zh-Hans only"));
  auto toilet = Bundle::open(dir / "out.db").message_preset("toilet");
  ASSERT_TRUE(toilet.has_value());
  EXPECT_FALSE(toilet->text.contains("yue"));
}

TEST(MessagePresets, AColumnStopcallDoesNotReadIsAWarning) {
  TempDir dir;
  auto report = import_messages(dir,
                                "message_id,kind,text_en,titel_en\n"
                                "fire,emergency,Fire on the bus,Fire\n");
  ASSERT_TRUE(report.written) << all_messages(report.problems);
  EXPECT_THAT(all_messages(report.problems),
              HasSubstr("warning: messages.csv:1: titel_en: not a messages.csv column; ignored"));
}

// ---- bundles in the field and the signature -------------------------------------------------

TEST(MessagePresets, ABundleFromBeforePresetsStillOpensWithNone) {
  TempDir dir;
  ASSERT_TRUE(import_messages(dir, kTwoMessages).written);
  {
    // What an import before this change wrote: the same schema version without the tables.
    sql::Db db(dir / "out.db", sql::Db::Mode::read_write);
    db.exec("DROP TABLE message_texts; DROP TABLE message_presets;");
    EXPECT_EQ(db.user_version(), kSchemaVersion);
  }
  auto keys = generate_keypair(dir / "depot.key", dir / "depot.pub");
  sign_bundle(dir / "out.db", keys.secret);
  verify_bundle(dir / "out.db", keys.public_key);

  auto bundle = Bundle::open(dir / "out.db");
  EXPECT_TRUE(bundle.message_presets().empty());
  EXPECT_FALSE(bundle.message_preset("evacuate").has_value());
  EXPECT_EQ(bundle.summary().message_presets, 0);
  EXPECT_EQ(bundle.load_trip("T1").stops.size(), 3u);
  EXPECT_FALSE(check_bundle(dir / "out.db").has_errors());
}

TEST(MessagePresets, ChangingAPresetAfterSigningBreaksTheSignature) {
  TempDir dir;
  ASSERT_TRUE(import_messages(dir, kTwoMessages).written);
  auto keys = generate_keypair(dir / "depot.key", dir / "depot.pub");
  sign_bundle(dir / "out.db", keys.secret);
  const std::string signed_bytes = read_bytes(dir.path() / "out.db");
  verify_bundle(dir / "out.db", keys.public_key);

  for (const char* change :
       {"UPDATE message_texts SET text='Stay on the bus.' WHERE message_id='evacuate' AND "
        "purpose='text' AND language='en'",
        "UPDATE message_presets SET exterior=0 WHERE message_id='evacuate'",
        "DELETE FROM message_presets WHERE message_id='typhoon'"}) {
    write_file(dir.path() / "out.db", signed_bytes);
    {
      sql::Db db(dir / "out.db", sql::Db::Mode::read_write);
      db.exec(change);
    }
    auto msg = error_message(Errc::signature_mismatch,
                             [&] { verify_bundle(dir / "out.db", keys.public_key); });
    EXPECT_THAT(msg, HasSubstr("changed after")) << change;
  }
}

// ---- the demo route's messages --------------------------------------------------------------

TEST(MessagePresets, TheDemoRouteShipsMessagesInItsThreeLanguages) {
  TempDir dir;
  ImportOptions options;
  options.feed = source_dir() + "/routes/demo/shenzhen-101";
  options.extra_dir = source_dir() + "/routes/demo/shenzhen-101-extra";
  options.output = dir / "demo.db";
  auto report = import_feed(options);
  ASSERT_TRUE(report.written) << all_messages(report.problems);
  EXPECT_EQ(report.problems.warning_count(), 0u) << all_messages(report.problems);

  auto bundle = Bundle::open(options.output);
  std::vector<std::string> ids;
  for (const auto& m : bundle.message_presets()) {
    ids.push_back(m.id);
    for (const char* lang : {"zh-Hans", "yue", "en"}) {
      EXPECT_FALSE(m.text.at(lang).empty()) << m.id << " " << lang;
      // A console button holds a word or two.
      EXPECT_LE(m.title.at(lang).size(), std::string_view(lang) == "en" ? 20u : 18u)
          << m.id << " " << lang;
    }
  }
  EXPECT_THAT(ids, ::testing::IsSupersetOf(
                       {"evacuate", "fire", "breakdown", "detour", "typhoon", "toilet"}));
  EXPECT_EQ(bundle.message_preset("evacuate")->kind, MessageKind::emergency);
  EXPECT_EQ(bundle.message_preset("fire")->kind, MessageKind::emergency);
  EXPECT_EQ(bundle.message_preset("detour")->kind, MessageKind::service);

  // "No. 8" on the screen is said as a word.
  auto typhoon = bundle.message_preset("typhoon");
  ASSERT_TRUE(typhoon.has_value());
  EXPECT_THAT(typhoon->text.at("en"), HasSubstr("No. 8"));
  EXPECT_THAT(typhoon->spoken.at("en"), HasSubstr("number eight"));
  EXPECT_THAT(typhoon->spoken.at("zh-Hans"), HasSubstr("八号"));
  EXPECT_THAT(typhoon->spoken.at("yue"), HasSubstr("八號"));
  EXPECT_THAT(typhoon->spoken.at("yue"), Not(HasSubstr("8")));
}

}  // namespace
}  // namespace stopcall::routes
