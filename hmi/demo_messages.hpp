// The demo ride's emergency and service messages (stopcall-hmi-demo): the route's presets, the
// console's send / acknowledge / cancel, and the "message ..." commands. It answers the way the
// daemon will: an emergency is sent only when confirmed, is said in every language in turn and
// again every 30 s until acknowledged, and is marked heard on both outputs shortly after it starts.
#pragma once

#include <functional>
#include <istream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "hmi/server.hpp"

namespace boost::asio {
class io_context;
}

namespace stopcall::hmi::demo {

class Messages {
 public:
  // One spoken segment of a message: its text in `lang`.
  struct Sentence {
    std::string lang;
    std::string text;
  };
  // Says the sentences one after another, each as a Subtitle whose `message` is `message_id`.
  using Speak = std::function<void(const std::string& message_id, std::vector<Sentence>)>;
  // Stops saying `message_id` now if it is being said (its subtitle is withdrawn).
  using Hush = std::function<void(const std::string& message_id)>;
  // Shows one sentence of a message for `ms` milliseconds, cutting what is being said.
  using SayOne = std::function<void(const std::string& message_id, const Sentence&, long ms)>;

  Messages(boost::asio::io_context& io, HmiServer& server, Speak speak, Hush hush, SayOne say_one);
  ~Messages();
  Messages(const Messages&) = delete;
  Messages& operator=(const Messages&) = delete;

  // The demo route's presets: evacuate and fire (emergency), detour and typhoon (service).
  static std::vector<MessageOption> options();

  Reply send(const SendMessage& send, const std::string& source);
  Reply acknowledge(const AckMessage& ack);
  Reply cancel(const CancelMessage& cancel);

  // "message emergency|service PRESET", "message end ID", "message say ID LANG MS" (the words
  // after "message"). Returns the line to print: "ok message ID" or "error ...".
  std::string command(std::istream& words);

  void stop();

 private:
  struct Active;
  void start_timers(const std::string& id, const std::string& preset);
  void schedule_repeat(const std::string& id);
  const MessagePanel* find(const std::string& id) const;

  boost::asio::io_context& io_;
  HmiServer& server_;
  Speak speak_;
  Hush hush_;
  SayOne say_one_;
  int counter_ = 0;
  std::map<std::string, std::unique_ptr<Active>> timers_;  // per message sent here, until ended
};

}  // namespace stopcall::hmi::demo
