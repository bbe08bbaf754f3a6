// The names of an enum's values, written once: a constexpr array of {value, name} pairs read both
// ways, so that what is printed and what is parsed cannot drift apart. Header only and pure (no
// I/O): the core modules use it too.
//
// clang-format off
//   constexpr names::Entry<Kind> kKinds[] = {{Kind::emergency, "emergency"},
//                                            {Kind::service,   "service"}};
//   static_assert(names::distinct(kKinds));
//
//   names::name_of(kKinds, Kind::service)      -> "service"
//   names::value_of(kKinds, "emergency")       -> Kind::emergency
//   names::value_of(kKinds, "Emergency")       -> nullopt (names are exact)
// clang-format on
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace stopcall::names {

template <typename Enum>
struct Entry {
  Enum value;
  std::string_view name;
};

// The name of `value`; `fallback` for a value the table does not have (e.g. an integer cast
// into the enum that names none of its values).
template <typename Enum, std::size_t N>
constexpr std::string_view name_of(const Entry<Enum> (&table)[N], Enum value,
                                   std::string_view fallback = "unknown") {
  for (const auto& entry : table) {
    if (entry.value == value) return entry.name;
  }
  return fallback;
}

// The value named `name` exactly; nullopt for any other text.
template <typename Enum, std::size_t N>
constexpr std::optional<Enum> value_of(const Entry<Enum> (&table)[N], std::string_view name) {
  for (const auto& entry : table) {
    if (entry.name == name) return entry.value;
  }
  return std::nullopt;
}

// No value and no name twice (for a static_assert beside each table): each lookup has one answer.
template <typename Enum, std::size_t N>
constexpr bool distinct(const Entry<Enum> (&table)[N]) {
  for (std::size_t i = 0; i < N; ++i) {
    for (std::size_t j = i + 1; j < N; ++j) {
      if (table[i].value == table[j].value || table[i].name == table[j].name) return false;
    }
  }
  return true;
}

}  // namespace stopcall::names
