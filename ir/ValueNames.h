// The names values print under: a value's own name when it has one, else the
// next free number. Shared by the printer and every diagnostic, so an error
// message names a value exactly as `tessel dump` shows it.
#pragma once

#include <string>
#include <unordered_map>

#include "ir/Module.h"

namespace tessel {

class ValueNames {
 public:
  explicit ValueNames(const Function& function);
  /// "%x", "%3", or "%\"name with spaces\"".
  std::string operator()(const Value* value) const;
  /// The bare name without '%' or quoting.
  const std::string& bare(const Value* value) const;

 private:
  std::unordered_map<const Value*, std::string> names_;
};

/// True if `name` prints without quotes after '%' or '@': [A-Za-z0-9_.$-]+.
bool is_plain_identifier(const std::string& name);
/// `name` with '"' and '\' escaped, in quotes, if it is not a plain identifier.
std::string quote_identifier(const std::string& name);

/// "op 'conv' (%3, node 'conv1')" -- how diagnostics refer to an op.
std::string describe_op(const Op& op, const ValueNames& names);

}  // namespace tessel
