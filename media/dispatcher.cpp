#include "media/dispatcher.hpp"

#include <utility>

namespace stopcall::media::detail {

Dispatcher::Dispatcher() : thread_([this] { run(); }) {}

Dispatcher::~Dispatcher() {
  stop();
}

void Dispatcher::post(std::function<void()> fn) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    queue_.push_back(std::move(fn));
  }
  cv_.notify_one();
}

void Dispatcher::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void Dispatcher::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping and drained
    auto fn = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    fn();
    lock.lock();
  }
}

void Reporter::cue(Cue c) {
  if (cb_.on_cue) d_.post([this, c = std::move(c)]() mutable { cb_.on_cue(std::move(c)); });
}
void Reporter::result(Result r) {
  if (cb_.on_result) {
    d_.post([this, r = std::move(r)]() mutable { cb_.on_result(std::move(r)); });
  }
}
void Reporter::status(OutputStatus s) {
  if (cb_.on_output) {
    d_.post([this, s = std::move(s)]() mutable { cb_.on_output(std::move(s)); });
  }
}
void Reporter::problem(Problem p) {
  if (cb_.on_problem) {
    d_.post([this, p = std::move(p)]() mutable { cb_.on_problem(std::move(p)); });
  }
}

void Reporter::ambient(AmbientStatus s) {
  if (cb_.on_ambient) {
    d_.post([this, s = std::move(s)]() mutable { cb_.on_ambient(std::move(s)); });
  }
}

}  // namespace stopcall::media::detail
