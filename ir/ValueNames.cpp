#include "ir/ValueNames.h"

#include <set>

namespace tessel {

bool is_plain_identifier(const std::string& name) {
  if (name.empty()) return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
              c == '$' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string quote_identifier(const std::string& name) {
  if (is_plain_identifier(name)) return name;
  std::string quoted = "\"";
  for (char c : name) {
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return quoted + "\"";
}

ValueNames::ValueNames(const Function& function) {
  std::set<std::string> taken;
  auto visit_named = [&](const Value* value) {
    if (!value->name().empty()) {
      // Duplicate source names are made unique so the text stays valid SSA.
      std::string name = value->name();
      for (int suffix = 1; taken.count(name); ++suffix) name = value->name() + "_" + std::to_string(suffix);
      taken.insert(name);
      names_[value] = name;
    }
  };
  for (const Value* input : function.inputs()) visit_named(input);
  for (const Op* op : function.ops())
    for (const Value* result : op->results()) visit_named(result);
  int next = 0;
  auto visit_anonymous = [&](const Value* value) {
    if (names_.count(value)) return;
    std::string name;
    do name = std::to_string(next++);
    while (taken.count(name));
    names_[value] = name;
  };
  for (const Value* input : function.inputs()) visit_anonymous(input);
  for (const Op* op : function.ops())
    for (const Value* result : op->results()) visit_anonymous(result);
}

const std::string& ValueNames::bare(const Value* value) const {
  static const std::string unknown = "<undefined>";
  auto it = names_.find(value);
  return it == names_.end() ? unknown : it->second;
}

std::string ValueNames::operator()(const Value* value) const { return "%" + quote_identifier(bare(value)); }

std::string describe_op(const Op& op, const ValueNames& names) {
  std::string text = "op '" + std::string(op.name()) + "'";
  std::string details;
  if (op.num_results()) details = names(op.result(0));
  if (!op.location().empty()) details += (details.empty() ? "" : ", ") + std::string("node '") + op.location() + "'";
  return details.empty() ? text : text + " (" + details + ")";
}

}  // namespace tessel
