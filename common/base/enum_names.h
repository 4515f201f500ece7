// One table per enum that names its values, so a name is written once and
// flags, messages, metric labels and summaries all spell it alike:
//
//   enum class Color { kRed, kGreen };
//   inline constexpr EnumName<Color> kColorNames[] = {{Color::kRed, "red"},
//                                                     {Color::kGreen,
//                                                     "green"}};
//
//   NameOf(kColorNames, Color::kGreen)   -> "green"
//   ValueNamed(kColorNames, "red")       -> Color::kRed
//   ValueNamed(kColorNames, "blue")      -> nullopt
//   JoinNames(kColorNames)               -> "red, green"
//
// A table is any range of EnumName (an array, a vector); the functions keep
// its order. Thread-safety: pure functions of their arguments.
#pragma once

#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace anchorage {

template <typename E>
struct EnumName {
  E value;
  std::string_view name;
};

// Returns the name of `value` in `names`, or "" when the table lacks it.
template <typename Names, typename E>
constexpr std::string_view NameOf(const Names& names, const E& value) {
  for (const auto& entry : names) {
    if (entry.value == value) return entry.name;
  }
  return {};
}

// Returns the value called `name` in `names`, or nullopt.
template <typename Names>
constexpr auto ValueNamed(const Names& names, std::string_view name) {
  using Value = std::remove_cvref_t<decltype(std::begin(names)->value)>;
  for (const auto& entry : names) {
    if (entry.name == name) return std::optional<Value>(entry.value);
  }
  return std::optional<Value>();
}

// Returns every name of `names`, in order, separated by ", ".
template <typename Names>
std::string JoinNames(const Names& names) {
  std::string joined;
  for (const auto& entry : names) {
    if (!joined.empty()) joined += ", ";
    joined += entry.name;
  }
  return joined;
}

}  // namespace anchorage
