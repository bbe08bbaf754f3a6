// The engine's callback thread: runs posted functions one at a time, in order. Private to media/.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

#include "media/types.hpp"

namespace stopcall::media::detail {

class Dispatcher {
 public:
  Dispatcher();
  ~Dispatcher();
  Dispatcher(const Dispatcher&) = delete;
  Dispatcher& operator=(const Dispatcher&) = delete;

  void post(std::function<void()> fn);
  void stop();  // runs what is queued, then joins; later posts are dropped

 private:
  void run();
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

// Posts the user's callbacks (copied values) onto the dispatcher.
class Reporter {
 public:
  Reporter(Dispatcher& d, const Callbacks& cb) : d_(d), cb_(cb) {}
  void cue(Cue c);
  void result(Result r);
  void status(OutputStatus s);
  void problem(Problem p);
  void ambient(AmbientStatus s);

 private:
  Dispatcher& d_;
  const Callbacks& cb_;
};

}  // namespace stopcall::media::detail
