// Error values for library code: no exceptions cross library boundaries and
// no user input may abort the process. An Error carries a message and an
// optional location ("file:line:col" or "function:op"); Expected<T> is either a
// value or an Error.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

#include <fmt/format.h>

namespace tessel {

/// A user-facing error: what went wrong, where, and optionally how to fix it.
struct Error {
  std::string message;
  std::string location;  ///< e.g. "model.tsl:3:7" or "@main:%conv1"; may be empty
  std::string hint;      ///< optional advice shown after the message

  /// "location: message (hint: ...)", the form the CLI prints.
  std::string str() const;
  /// Returns a copy whose location is `loc` unless one is already set.
  Error at(std::string loc) const;
  /// Returns a copy with `advice` as its hint.
  Error with_hint(std::string advice) const {
    Error copy = *this;
    copy.hint = std::move(advice);
    return copy;
  }
};

/// Builds an Error from a fmt format string.
template <typename... Args>
Error make_error(fmt::format_string<Args...> format, Args&&... args) {
  return Error{fmt::format(format, std::forward<Args>(args)...), {}, {}};
}

/// Either a T or an Error. Deliberately tiny: std::expected is C++23.
template <typename T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : state_(std::move(value)) {}
  Expected(Error error) : state_(std::move(error)) {}

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(state_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(state_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(state_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const {
    assert(!ok());
    return std::get<1>(state_);
  }

 private:
  std::variant<T, Error> state_;
};

/// Success or an Error.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), failed_(true) {}
  static Status success() { return Status(); }

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const {
    assert(failed_);
    return error_;
  }

 private:
  Error error_;
  bool failed_ = false;
};

}  // namespace tessel

/// Propagates a failed Status or Expected from the enclosing function.
#define TESSEL_TRY(expr)                                             \
  do {                                                               \
    auto&& tessel_try_result_ = (expr);                              \
    if (!tessel_try_result_.ok()) return tessel_try_result_.error(); \
  } while (0)

#define TESSEL_CONCAT_INNER_(a, b) a##b
#define TESSEL_CONCAT_(a, b) TESSEL_CONCAT_INNER_(a, b)
/// `TESSEL_ASSIGN(auto x, expr);` binds the value of an Expected or returns its error.
#define TESSEL_ASSIGN(decl, expr) TESSEL_ASSIGN_IMPL_(TESSEL_CONCAT_(tessel_tmp_, __LINE__), decl, expr)
#define TESSEL_ASSIGN_IMPL_(tmp, decl, expr) \
  auto tmp = (expr);                         \
  if (!tmp.ok()) return tmp.error();         \
  decl = std::move(tmp).value()
