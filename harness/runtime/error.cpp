#include "harness/runtime/error.hpp"

#include <algorithm>
#include <unordered_set>

namespace leakbench::runtime {

namespace {

// Python's `name = value` in a namespace: rebinds the name if bound, else binds it.
void bind(std::vector<binding>& names, std::string name, ref value) {
  for (auto& b : names) {
    if (b.name == name) {
      b.value = std::move(value);
      return;
    }
  }
  names.push_back({std::move(name), std::move(value)});
}

}  // namespace

void frame_record::set_local(std::string name, ref bound) {
  bind(locals_, std::move(name), std::move(bound));
}

void frame_record::del_local(std::string_view name) {
  std::erase_if(locals_, [&](const binding& l) { return l.name == name; });
}

bool frame_record::has_local(std::string_view name) const { return find_local(name) != nullptr; }

const ref* frame_record::find_local(std::string_view name) const {
  for (const auto& l : locals_) {
    if (l.name == name) return &l.value;
  }
  return nullptr;
}

std::vector<std::string> frame_record::local_names() const {
  std::vector<std::string> names;
  for (const auto& l : locals_) names.push_back(l.name);
  return names;
}

void frame_record::referents(const std::function<void(const referent&)>& visit) const {
  for (const auto& l : locals_) visit(l.value.as_referent({step::kind::local, l.name}));
}

void frame_record::clear() { locals_.clear(); }

void error::hold(std::string name, ref value) {
  bind(attributes_, std::move(name), std::move(value));
}

std::string error::describe() const { return message_.empty() ? type_ : type_ + ": " + message_; }

std::vector<const frame_record*> error::traceback() const {
  std::vector<const frame_record*> frames;
  for (auto it = unwound_.rbegin(); it != unwound_.rend(); ++it) frames.push_back(it->get());
  return frames;
}

std::vector<const error*> error::chain() const {
  std::vector<const error*> order;
  std::unordered_set<const error*> seen;  // Python stops at a repeated exception too
  const error* e = this;
  while (e != nullptr && seen.insert(e).second) {
    order.push_back(e);
    // traceback.TracebackException: the cause, else the context unless it is suppressed.
    e = e->cause_ ? e->cause_.get() : e->suppress_context_ ? nullptr : e->context_.get();
  }
  std::reverse(order.begin(), order.end());
  return order;
}

std::string error::format(std::size_t limit) const {
  std::string out;
  const auto errors = chain();
  for (std::size_t i = 0; i < errors.size(); ++i) {
    const error* e = errors[i];
    if (i > 0) {
      out += errors[i]->cause_.get() == errors[i - 1]
                 ? "\nThe above exception was the direct cause of the following exception:\n\n"
                 : "\nDuring handling of the above exception, another exception occurred:\n\n";
    }
    if (!e->unwound_.empty()) {
      out += "Traceback (most recent call last):\n";
      const auto frames = e->traceback();
      for (std::size_t k = 0; k < frames.size() && k < limit; ++k) {
        out += "  in " + frames[k]->function() + "\n";
      }
    }
    out += e->describe() + "\n";
  }
  return out;
}

void error::referents(const std::function<void(const referent&)>& visit) const {
  for (const auto& a : attributes_) visit(a.value.as_referent({step::kind::attribute, a.name}));
  if (cause_) visit({{step::kind::attribute, "__cause__"}, cause_.get()});
  if (context_) visit({{step::kind::attribute, "__context__"}, context_.get()});
  for (auto it = unwound_.rbegin(); it != unwound_.rend(); ++it) {  // outermost first
    visit({{step::kind::traceback, (*it)->function()}, it->get()});
  }
}

void error::clear() {
  attributes_.clear();
  cause_.reset();
  context_.reset();
  unwound_.clear();
}

void list::referents(const std::function<void(const referent&)>& visit) const {
  for (std::size_t i = 0; i < items_.size(); ++i) {
    visit(items_[i].as_referent({step::kind::item, {}, i}));
  }
}

raised::raised(std::shared_ptr<runtime::error> err)
    : state_(std::make_shared<detail::in_flight>(detail::in_flight{std::move(err)})),
      what_(state_->err->describe()) {}

}  // namespace leakbench::runtime
