// status.h — how errors cross the core boundary.
//
// Every fallible core function returns a Status or a Result<T>. The message is written for the person
// who gave us the input: it names the file, the tensor or the offset and says what was expected and what
// was found. The core never throws across its public API and never calls exit().
#pragma once

#include <cassert>
#include <exception>
#include <new>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace kvscope {

class Status {
  public:
    Status() = default;  // ok
    static Status ok() { return Status(); }
    static Status error(std::string message) { return Status(std::move(message), true); }

    bool is_ok() const { return !m_failed; }
    explicit operator bool() const { return is_ok(); }
    const std::string& message() const { return m_message; }

    // Prefixes context ("model.gguf: " + message) so errors read from the outside in.
    Status with_context(const std::string& context) const {
        return is_ok() ? *this : Status::error(context + ": " + m_message);
    }

  private:
    Status(std::string message, bool failed) : m_message(std::move(message)), m_failed(failed) {}
    std::string m_message;
    bool m_failed = false;
};

template <typename T>
class Result {
  public:
    Result(T value) : m_value(std::move(value)) {}  // NOLINT: implicit on purpose, like std::optional
    Result(Status status) : m_status(std::move(status)) {
        assert(!m_status.is_ok() &&
               "Result<T> built from an ok Status has no value; return the value instead");
    }

    bool is_ok() const { return m_value.has_value(); }
    explicit operator bool() const { return is_ok(); }
    const Status& status() const { return m_status; }
    const std::string& message() const { return m_status.message(); }

    T& value() & {
        assert(is_ok() && "Result::value() on an error; check is_ok() first");
        return *m_value;
    }
    const T& value() const& {
        assert(is_ok() && "Result::value() on an error; check is_ok() first");
        return *m_value;
    }
    T&& value() && {
        assert(is_ok() && "Result::value() on an error; check is_ok() first");
        return std::move(*m_value);
    }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() { return value(); }
    const T& operator*() const { return value(); }

  private:
    std::optional<T> m_value;
    Status m_status;
};

// Runs `body` (returning a Status or a Result<T>) so that no exception leaves it: the entry points of the
// loaders go through here, so that a case a reader did not foresee (a huge allocation, a library that
// throws) ends as an error naming `what` instead of std::terminate in the CLI or a Qt event handler.
template <typename F>
auto catch_exceptions(const std::string& what, F&& body) -> decltype(body()) {
    try {
        return body();
    } catch (const std::bad_alloc&) {
        return Status::error(what + ": out of memory while reading it (is a size in the file absurd?)");
    } catch (const std::exception& e) {
        return Status::error(what + ": unexpected error while reading it: " + e.what());
    } catch (...) {
        return Status::error(what + ": unexpected error while reading it");
    }
}

}  // namespace kvscope

// Early return for Status-returning code: KVSCOPE_TRY(read_header(...));
#define KVSCOPE_TRY(expr)                                     \
    do {                                                      \
        ::kvscope::Status kvscope_try_status_ = (expr);       \
        if (!kvscope_try_status_) return kvscope_try_status_; \
    } while (0)

// Early return for Result-returning code: KVSCOPE_ASSIGN(config.n_layers, read_int(...)); assigns the
// value, or returns the error.
#define KVSCOPE_ASSIGN(lhs, expr)                                            \
    do {                                                                     \
        auto kvscope_assign_result_ = (expr);                                \
        if (!kvscope_assign_result_) return kvscope_assign_result_.status(); \
        lhs = std::move(kvscope_assign_result_).value();                     \
    } while (0)
