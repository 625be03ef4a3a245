#include "ir/Error.h"

namespace tessel {

std::string Error::str() const {
  std::string text = location.empty() ? message : location + ": " + message;
  if (!hint.empty()) text += " (hint: " + hint + ")";
  return text;
}

Error Error::at(std::string loc) const {
  Error copy = *this;
  if (copy.location.empty()) copy.location = std::move(loc);
  return copy;
}

}  // namespace tessel
