#pragma once

#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "harness/runtime/gc.hpp"

namespace leakbench::runtime {

/// A name bound to a value by shared ownership: a frame's local, an exception's attribute.
struct binding {
  std::string name;
  ref value;
};

/// The record of one function activation: its name and the locals it owns (CPython's frame).
// A record lives as long as anything references it: the running function, or a traceback.
class frame_record final : public gc_object {
 public:
  explicit frame_record(std::string function) : function_(std::move(function)) {}

  const std::string& function() const { return function_; }
  /// Binds (or rebinds) a local; the frame shares ownership of the value.
  void set_local(std::string name, ref bound);
  /// Unbinds a local, as Python's `del name`; no-op if unbound.
  void del_local(std::string_view name);
  bool has_local(std::string_view name) const;
  /// The value bound to `name`, or null.
  const ref* find_local(std::string_view name) const;
  std::vector<std::string> local_names() const;

  void referents(const std::function<void(const referent&)>& visit) const override;
  void clear() override;

 private:
  std::string function_;
  std::vector<binding> locals_;
};

/// A model exception (CPython's BaseException): type, message, the data it holds, its cause and
/// context, and its traceback, all by shared ownership.
class error final : public gc_object {
 public:
  error(std::string type, std::string message)
      : type_(std::move(type)), message_(std::move(message)) {}

  const std::string& type() const { return type_; }
  const std::string& message() const { return message_; }
  /// "Type: message", as Python prints the last line of a traceback.
  std::string describe() const;

  /// Keeps `value` alive as the exception's attribute `name` (`self.payload = data`).
  void hold(std::string name, ref value);
  std::size_t attribute_count() const { return attributes_.size(); }

  /// `raise self from cause`: sets `__cause__`, and `__suppress_context__` as Python does.
  void set_cause(std::shared_ptr<error> cause) {
    require_owning(cause);
    cause_ = std::move(cause);
    suppress_context_ = true;
  }
  /// `raise self from None`: no cause, and the context (which is still kept) is not printed.
  void from_none() {
    cause_.reset();
    suppress_context_ = true;
  }
  /// `__context__`: the exception being handled when this one was raised (set by raising).
  void set_context(std::shared_ptr<error> context) {
    require_owning(context);
    context_ = std::move(context);
  }
  const std::shared_ptr<error>& cause() const { return cause_; }
  const std::shared_ptr<error>& context() const { return context_; }
  bool suppress_context() const { return suppress_context_; }

  /// Appends the next traceback entry as the exception propagates: each frame it leaves, and
  /// the frame whose handler catches it.
  void add_frame(std::shared_ptr<frame_record> frame) {
    require_owning(frame);
    unwound_.push_back(std::move(frame));
  }
  /// `e.__traceback__ = None`: forgets every entry; a later raise starts a fresh traceback.
  void clear_traceback() { unwound_.clear(); }
  /// Keeps the outermost `entries` entries and drops the rest (Python: `tb.tb_next = None`).
  void truncate_traceback(std::size_t entries) {
    if (entries < unwound_.size()) unwound_.erase(unwound_.begin(), unwound_.end() - entries);
  }
  /// The traceback in Python's order: outermost frame first, where it was raised last.
  std::vector<const frame_record*> traceback() const;
  /// The chain Python prints: causes and unsuppressed contexts first, this exception last.
  std::vector<const error*> chain() const;
  /// The whole report, formatted like Python's traceback module (`traceback.format_exc()`),
  /// each traceback cut to its first `limit` entries. Reads the frames and keeps nothing.
  std::string format(std::size_t limit = SIZE_MAX) const;

  void referents(const std::function<void(const referent&)>& visit) const override;
  void clear() override;
  bool is_exception() const override { return true; }

 private:
  std::string type_;
  std::string message_;
  std::vector<binding> attributes_;
  std::shared_ptr<error> cause_;
  std::shared_ptr<error> context_;
  bool suppress_context_ = false;
  std::vector<std::shared_ptr<frame_record>> unwound_;  // innermost first
};

/// A Python list: holds its items by shared ownership, in order.
class list final : public gc_object {
 public:
  void append(ref item) { items_.push_back(std::move(item)); }
  std::size_t size() const { return items_.size(); }
  const ref& operator[](std::size_t i) const { return items_[i]; }
  const ref& back() const { return items_.back(); }

  void referents(const std::function<void(const referent&)>& visit) const override;
  void clear() override { items_.clear(); }

 private:
  std::vector<ref> items_;
};

namespace detail {
struct in_flight {
  std::shared_ptr<error> err;
};
}  // namespace detail

/// The C++ exception that carries a model exception while it propagates.
// Every copy shares one in-flight token. The task it was raised in (attempt_context) records
// the frames it leaves while the token lives, and until a handler catches it; once the last
// copy is destroyed (a plain C++ catch ended), the token expires and later unwinding never
// touches the stale exception.
class raised : public std::exception {
 public:
  explicit raised(std::shared_ptr<error> err);
  const std::shared_ptr<runtime::error>& exception() const { return state_->err; }
  const char* what() const noexcept override { return what_.c_str(); }
  std::weak_ptr<detail::in_flight> token() const { return state_; }

 private:
  std::shared_ptr<detail::in_flight> state_;
  std::string what_;
};

}  // namespace leakbench::runtime
