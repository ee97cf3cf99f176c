// engine_helpers.h — building engines and sessions in tests, with QVERIFY-friendly failures.
#pragma once

#include <QtTest>
#include <memory>
#include <string>

#include "kvscope/backend.h"
#include "kvscope/model.h"
#include "kvscope/session.h"

namespace kvscope::test {

// Loads a model and makes a CPU engine; on failure returns null and sets `error`.
// One thread by default: tests check arithmetic, and ctest runs several at once on two cores.
inline std::shared_ptr<Engine> make_cpu_engine(const std::string& path, std::string& error, int threads = 1) {
    auto model = load_model(path);
    if (!model) {
        error = model.message();
        return nullptr;
    }
    auto engine = Engine::create(model.value(), make_cpu_backend(threads));
    if (!engine) {
        error = engine.message();
        return nullptr;
    }
    return engine.value();
}

inline std::unique_ptr<Session> make_session(const std::shared_ptr<Engine>& engine, SessionMode mode,
                                             TraceOptions trace = {}, int capacity = 0) {
    SessionOptions o;
    o.mode = mode;
    o.trace = trace;
    o.capacity = capacity;
    auto s = Session::create(engine, o);
    return s ? std::move(s.value()) : nullptr;
}

// Loads `path` expecting failure; the message must contain `needle` (and is printed, for the log).
inline void expect_load_error(const std::string& path, const std::string& needle) {
    auto r = load_model(path);
    QVERIFY2(!r.is_ok(), ("loading " + path + " should have failed").c_str());
    QVERIFY2(r.message().find(needle) != std::string::npos,
             ("error \"" + r.message() + "\" does not mention \"" + needle + "\"").c_str());
    qInfo("%s", r.message().c_str());
}

}  // namespace kvscope::test
