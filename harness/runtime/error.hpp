#pragma once

#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "harness/runtime/gc.hpp"

namespace leakbench::runtime {

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
  std::vector<std::string> local_names() const;

  void traverse(const std::function<void(const gc_object*)>& visit) const override;
  void clear() override;

 private:
  struct local {
    std::string name;
    ref value;
  };
  std::string function_;
  std::vector<local> locals_;
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

  /// Keeps `value` alive as one of the exception's attributes.
  void hold(ref attribute) { attributes_.push_back(std::move(attribute)); }
  std::size_t attribute_count() const { return attributes_.size(); }

  /// `raise self from cause`.
  void set_cause(std::shared_ptr<error> cause) {
    require_owning(cause);
    cause_ = std::move(cause);
  }
  /// The exception being handled when this one was raised.
  void set_context(std::shared_ptr<error> context) {
    require_owning(context);
    context_ = std::move(context);
  }
  const std::shared_ptr<error>& cause() const { return cause_; }
  const std::shared_ptr<error>& context() const { return context_; }

  /// Called as the exception leaves a frame (and for the frame that catches it).
  void add_frame(std::shared_ptr<frame_record> frame) {
    require_owning(frame);
    unwound_.push_back(std::move(frame));
  }
  /// The traceback in Python's order: outermost frame first, where it was raised last.
  std::vector<const frame_record*> traceback() const;
  /// The chain Python prints: causes and contexts first, this exception last.
  std::vector<const error*> chain() const;
  /// The whole report, formatted like Python's traceback module.
  std::string format() const;

  void traverse(const std::function<void(const gc_object*)>& visit) const override;
  void clear() override;

 private:
  std::string type_;
  std::string message_;
  std::vector<ref> attributes_;
  std::shared_ptr<error> cause_;
  std::shared_ptr<error> context_;
  std::vector<std::shared_ptr<frame_record>> unwound_;  // innermost first
};

namespace detail {
struct in_flight {
  std::shared_ptr<error> err;
};
}  // namespace detail

/// The C++ exception that carries a model exception while it propagates.
// Every copy shares one in-flight token; frames that unwind while the token lives join the
// error's traceback, and once the last copy is destroyed (the exception was handled) the
// token expires, so later unwinding never touches a stale error.
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
