#include "hmi/demo_messages.hpp"

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>

namespace stopcall::hmi::demo {
namespace {

using namespace std::chrono_literals;

constexpr auto kHeardAfter = 1500ms;  // the first sentence has come out of both speakers
constexpr auto kRepeatEvery = 30s;    // an emergency is said again until acknowledged
const char* const kOrder[] = {"zh-Hans", "yue", "en"};  // as the state's languages

EpochMs now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string label(const Names& names) {
  auto it = names.find("en");
  return it != names.end() ? it->second : names.empty() ? std::string() : names.begin()->second;
}

std::vector<Messages::Sentence> sentences(const MessagePanel& panel) {
  std::vector<Messages::Sentence> out;
  for (const char* lang : kOrder) {
    if (auto it = panel.text.find(lang); it != panel.text.end()) out.push_back({lang, it->second});
  }
  return out;
}

}  // namespace

struct Messages::Active {
  explicit Active(boost::asio::io_context& io) : heard(io), repeat(io) {}
  std::string preset;
  boost::asio::steady_timer heard;
  boost::asio::steady_timer repeat;
};

Messages::Messages(boost::asio::io_context& io, HmiServer& server, Speak speak, Hush hush,
                   SayOne say_one)
    : io_(io),
      server_(server),
      speak_(std::move(speak)),
      hush_(std::move(hush)),
      say_one_(std::move(say_one)) {}

Messages::~Messages() = default;

std::vector<MessageOption> Messages::options() {
  return {
      {"evacuate",
       MessageKind::emergency,
       {{"zh-Hans", "紧急疏散"}, {"yue", "緊急疏散"}, {"en", "Evacuate"}},
       {{"zh-Hans", "紧急情况！请立即从最近的车门下车，远离车辆，听从司机指挥。"},
        {"yue", "緊急情況！請即刻由最近嘅車門落車，遠離車輛，聽從車長指示。"},
        {"en",
         "Emergency! Leave the bus now by the nearest door, move away from it and follow "
         "the driver's instructions."}}},
      {"fire",
       MessageKind::emergency,
       {{"zh-Hans", "车内起火"}, {"yue", "車廂火警"}, {"en", "Fire on board"}},
       {{"zh-Hans", "车内发生火情！请保持冷静，从最近的车门下车，不要拿取行李。"},
        {"yue", "車廂發生火警！請保持冷靜，由最近嘅車門落車，唔好執拾行李。"},
        {"en", "Fire on board! Stay calm, leave by the nearest door and leave your bags behind."}}},
      {"detour",
       MessageKind::service,
       {{"zh-Hans", "临时绕行"}, {"yue", "臨時改道"}, {"en", "Detour"}},
       {{"zh-Hans", "前方道路施工，本车临时绕行，不停靠香蜜湖站。"},
        {"yue", "前面道路施工，本車臨時改道，唔會停香蜜湖站。"},
        {"en", "Roadworks ahead: this bus is on a detour and will not stop at Xiangmihu."}}},
      {"typhoon",
       MessageKind::service,
       {{"zh-Hans", "台风预警"}, {"yue", "颱風警告"}, {"en", "Typhoon warning"}},
       {{"zh-Hans", "台风橙色预警生效，本线路可能提前收车，请留意车内广播。"},
        {"yue", "颱風橙色警告生效，本線可能提早收車，請留意車廂廣播。"},
        {"en", "Orange typhoon warning: service may end early. Please listen for announcements."}}},
  };
}

const MessagePanel* Messages::find(const std::string& id) const {
  const auto& messages = server_.state().messages;
  auto it = std::find_if(messages.begin(), messages.end(),
                         [&](const MessagePanel& m) { return m.id == id; });
  return it == messages.end() ? nullptr : &*it;
}

Reply Messages::send(const SendMessage& send, const std::string& source) {
  const auto options = Messages::options();
  auto option = std::find_if(options.begin(), options.end(),
                             [&](const MessageOption& o) { return o.id == send.preset; });
  if (option == options.end()) return Reply::failure(Errc::rejected, "no message " + send.preset);
  const std::string name = label(option->title);
  if (option->kind == MessageKind::emergency && !send.confirmed) {
    return Reply::failure(Errc::rejected, name + " is an emergency: press again to confirm");
  }
  for (const auto& [id, active] : timers_) {
    if (active->preset == send.preset && find(id)) {
      return Reply::failure(Errc::rejected, name + " is already on the screens (" + id + ")");
    }
  }
  MessagePanel panel;
  panel.id = "m" + std::to_string(++counter_);
  panel.kind = option->kind;
  panel.title = option->title;
  panel.text = option->text;
  panel.since = now_ms();
  panel.source = source;
  server_.publish(panel);
  start_timers(panel.id, send.preset);
  speak_(panel.id, sentences(panel));
  return Reply::success(name + " sent (" + panel.id + ")");
}

void Messages::start_timers(const std::string& id, const std::string& preset) {
  auto& active = timers_[id];
  active = std::make_unique<Active>(io_);
  active->preset = preset;
  active->heard.expires_after(kHeardAfter);
  active->heard.async_wait([this, id](boost::system::error_code ec) {
    const MessagePanel* panel = ec ? nullptr : find(id);
    if (!panel) return;
    MessagePanel heard = *panel;
    heard.heard = {"interior", "exterior"};
    server_.publish(heard);
  });
  if (find(id)->kind == MessageKind::emergency) schedule_repeat(id);
}

void Messages::schedule_repeat(const std::string& id) {
  auto it = timers_.find(id);
  if (it == timers_.end()) return;
  it->second->repeat.expires_after(kRepeatEvery);
  it->second->repeat.async_wait([this, id](boost::system::error_code ec) {
    const MessagePanel* panel = ec ? nullptr : find(id);
    if (!panel || panel->acknowledged) return;
    speak_(id, sentences(*panel));
    schedule_repeat(id);
  });
}

Reply Messages::acknowledge(const AckMessage& ack) {
  const MessagePanel* panel = find(ack.message_id);
  if (!panel) return Reply::failure(Errc::rejected, "no message " + ack.message_id + " is shown");
  if (panel->kind != MessageKind::emergency) {
    return Reply::failure(Errc::rejected, "only an emergency is acknowledged");
  }
  if (auto it = timers_.find(ack.message_id); it != timers_.end()) it->second->repeat.cancel();
  if (panel->acknowledged) return Reply::success("already acknowledged");
  MessagePanel acknowledged = *panel;
  acknowledged.acknowledged = true;
  server_.publish(acknowledged);
  return Reply::success(label(acknowledged.title) + " acknowledged: no more repeats");
}

Reply Messages::cancel(const CancelMessage& cancel) {
  const MessagePanel* panel = find(cancel.message_id);
  if (!panel) {
    return Reply::failure(Errc::rejected, "no message " + cancel.message_id + " is shown");
  }
  MessagePanel ended = *panel;
  ended.active = false;
  timers_.erase(cancel.message_id);  // cancels its timers
  hush_(ended.id);
  server_.publish(ended);
  return Reply::success(label(ended.title) + " ended");
}

std::string Messages::command(std::istream& words) {
  std::string what;
  words >> what;
  if (what == "emergency" || what == "service") {
    std::string preset;
    words >> preset;
    const auto options = Messages::options();
    auto option = std::find_if(options.begin(), options.end(),
                               [&](const MessageOption& o) { return o.id == preset; });
    if (option == options.end() || to_string(option->kind) != what) {
      return "error message " + what + ": no such preset \"" + preset + "\"";
    }
    Reply reply = send(SendMessage{preset, true}, "control");
    if (!reply.ok()) return "error message " + reply.message;
    return "ok message " + server_.state().messages.back().id;
  }
  std::string id;
  words >> id;
  if (what == "end") {
    Reply reply = cancel(CancelMessage{id});
    return reply.ok() ? "ok message " + id : "error message " + reply.message;
  }
  if (what == "say") {
    std::string lang;
    long ms = 0;
    words >> lang >> ms;
    const MessagePanel* panel = find(id);
    auto text = panel ? panel->text.find(lang) : Names::const_iterator{};
    if (!panel || text == panel->text.end() || ms <= 0) {
      return "error message say ID LANG MS: no such message or language";
    }
    say_one_(id, Sentence{lang, text->second}, ms);
    return "ok message " + id;
  }
  return "error message emergency|service PRESET, message end ID, message say ID LANG MS";
}

void Messages::stop() {
  timers_.clear();
}

}  // namespace stopcall::hmi::demo
