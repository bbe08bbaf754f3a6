// The rules on a WebSocket handshake's Host, Origin and query, as pure functions: the names a
// Host header may take, the query's percent-decoding, and the console token's comparison.
#include "hmi/admission.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace stopcall::hmi::detail {
namespace {

using Expected = std::optional<std::string>;

TEST(Admission, HostPartTakesTheNameOrAddressWithoutThePort) {
  const std::pair<std::string_view, Expected> cases[] = {
      {"bus-0417", "bus-0417"},
      {"Bus-0417.Local:8080", "bus-0417.local"},  // lower case
      {"localhost.", "localhost"},
      {"10.0.1.1:80", "10.0.1.1"},
      {"[::1]:8080", "::1"},
      {"[0:0:0:0:0:0:0:1]", "::1"},  // an address in its usual text form
      // Not a host at all:
      {"", std::nullopt},
      {":8080", std::nullopt},
      {"::1", std::nullopt},  // a bare IPv6 address has no place for a port
      {"[::1", std::nullopt},
      {"[::1]x", std::nullopt},
  };
  for (const auto& [header, host] : cases)
    EXPECT_EQ(host_part(header), host) << "Host: " << header;
}

TEST(Admission, QueryValueIsPercentDecoded) {
  const std::string_view query = "role=driver&token=a%2Bb+c&empty&bad=%zz&role=passenger";
  EXPECT_EQ(query_value(query, "token"), "a+b c");
  EXPECT_EQ(query_value(query, "role"), "driver") << "the first of two";
  EXPECT_EQ(query_value(query, "empty"), "") << "a key without a value";
  EXPECT_EQ(query_value(query, "bad"), "") << "a bad escape gives nothing, not the raw text";
  EXPECT_EQ(query_value(query, "missing"), std::nullopt);
  EXPECT_EQ(query_value("", "role"), std::nullopt);
}

TEST(Admission, TokenMatchesOnlyTheWholeToken) {
  EXPECT_TRUE(token_matches("s3cret", "s3cret"));
  for (const std::string_view wrong : {"s3cre", "s3cret!", "S3cret", ""})
    EXPECT_FALSE(token_matches("s3cret", wrong)) << wrong;
  EXPECT_FALSE(token_matches("", "")) << "no token configured: nobody signs in";
}

}  // namespace
}  // namespace stopcall::hmi::detail
