// One table of names read both ways: what the bus prints is what it parses back.
#include "common/names.hpp"

#include <gtest/gtest.h>

namespace stopcall::names {
namespace {

enum class Door { open, closed, stuck };

constexpr Entry<Door> kDoors[] = {{Door::open, "open"}, {Door::closed, "closed"}};
static_assert(distinct(kDoors));
static_assert(name_of(kDoors, Door::closed) == "closed");  // usable at compile time
static_assert(value_of(kDoors, "open") == Door::open);

TEST(Names, EveryValueIsPrintedAndParsedBack) {
  for (const auto& entry : kDoors) {
    EXPECT_EQ(name_of(kDoors, entry.value), entry.name);
    EXPECT_EQ(value_of(kDoors, entry.name), entry.value);
  }
}

TEST(Names, AValueTheTableLacksGetsTheFallback) {
  EXPECT_EQ(name_of(kDoors, Door::stuck), "unknown");
  EXPECT_EQ(name_of(kDoors, Door::stuck, "?"), "?");
}

TEST(Names, OnlyTheExactNameParses) {
  EXPECT_EQ(value_of(kDoors, "Open"), std::nullopt);
  EXPECT_EQ(value_of(kDoors, "open "), std::nullopt);
  EXPECT_EQ(value_of(kDoors, ""), std::nullopt);
  EXPECT_EQ(value_of(kDoors, "stuck"), std::nullopt);
}

TEST(Names, ATableWithAValueOrANameTwiceIsNotDistinct) {
  constexpr Entry<Door> same_value[] = {{Door::open, "open"}, {Door::open, "ajar"}};
  constexpr Entry<Door> same_name[] = {{Door::open, "open"}, {Door::closed, "open"}};
  static_assert(!distinct(same_value));
  static_assert(!distinct(same_name));
}

}  // namespace
}  // namespace stopcall::names
