// Emergency and service messages: what the bus says and shows besides stops, and when. Pure: no
// clock, no I/O. The wiring (Onboard) hands it what happens — a message sent, acknowledged or
// cancelled, a stop departure, a tick, what the voice reports — and carries out the effects it
// returns: announcements to submit or cancel, panels to show or take down, lines to log, stop
// announcements to hold and, when the last emergency ends, the next stop to say again.
//
// clang-format off
//   kind       priority     said                                       ends
//   emergency  safety       at once (preempts, attention tone first),  cancelled or expired; the
//                           again every repeat_every after each saying driver's acknowledgement
//                           ends until acknowledged                    only ends the repeats
//   service    information  after what is playing, then again after   cancelled or expired (by
//                           each of the next `repeats` stop departures default after an hour)
// clang-format on
//
// While an emergency is active stop announcements are held (HoldStops{true}); when the last one
// ends the wiring says the current next stop again (HoldStops{false}).
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "daemon/log/records.hpp"
#include "daemon/tracking/fix.hpp"
#include "media/types.hpp"

namespace stopcall::messages {

enum class Kind : std::uint8_t { emergency, service };
std::string_view to_string(Kind kind);  // "emergency", "service"
std::optional<Kind> kind_from_string(std::string_view text);

// One language's words: `shown` on the screens and in the subtitles, `spoken` where the voice
// should say something else (a number spelt out, a pronunciation); empty: `shown` is said.
struct Text {
  std::string shown;
  std::string spoken;
  friend bool operator==(const Text&, const Text&) = default;
};

struct Message {
  std::string id;  // unique among active messages
  Kind kind = Kind::service;
  std::map<std::string, Text> texts;                 // by language tag ("zh-Hans", "yue", "en")
  std::map<std::string, std::string> titles;         // short labels for the console; may be empty
  std::optional<media::Outputs> outputs;             // unset: emergency both, service interior
  std::optional<std::chrono::seconds> repeat_every;  // emergency; unset: BoardConfig's
  std::optional<int> repeats;                        // service; unset: BoardConfig's
  std::optional<tracking::Time> expires;             // emergency unset: never; service: lifetime
  std::string source;                                // "console", "control", "signal", "fleet"
  std::string preset;                                // the route data's preset, if from one
};

struct BoardConfig {
  std::vector<std::string> languages{"zh-Hans", "yue", "en"};  // spoken in this order
  std::chrono::milliseconds pause_between_languages{300};
  std::chrono::seconds emergency_repeat{30};
  int service_repeats = 2;
  std::chrono::minutes service_lifetime{60};
  std::size_t max_active = 8;
  // An emergency's attention tone: this many chimes before the first words of every saying.
  int attention_chimes = 2;
};

// ---- effects --------------------------------------------------------------------------------

// Submit to the voice. An emergency's saying is two announcements, the attention tone first (it
// needs no synthesis, so the preemption is heard at once) and then the words.
struct Speak {
  media::Announcement announcement;
};
// Cancel it in the voice (a cancelled or expired message, wherever it is).
struct Silence {
  std::string announcement_id;
};
// The message's panel on the screens, shown (active) or taken down.
struct Show {
  Message message;
  bool active = true;
  bool acknowledged = false;
  std::vector<media::Output> heard;
  tracking::Time since{};
};
// Hold stop announcements (an emergency began) or stop holding them (the last one ended: say the
// current next stop again).
struct HoldStops {
  bool hold = true;
};
using Effect = std::variant<Speak, Silence, Show, HoldStops, log::Message>;

// The answer to a request: done, or refused with a reason (and no effects).
struct Outcome {
  bool ok = true;
  std::string error;    // "bad_request", "duplicate", "too_many", "unknown_message", "expired",
                        // "not_emergency"
  std::string message;  // for a person
  std::vector<Effect> effects;
};

class Board {
 public:
  explicit Board(BoardConfig config = {}) : config_(std::move(config)) {}

  // A new message. Refused, changing nothing, when it has no id or no text, an empty text,
  // an id already active, an expiry already past, or when max_active are active.
  Outcome send(Message message, tracking::Time now);
  // A message that was active when the daemon stopped (a crash, a restart), given again as it
  // was: shown at once; an emergency not yet acknowledged is said again at once (the riders may
  // not have heard all of it); a service message waits for the next departures. Refused like
  // send(), and as "expired" once its expiry has passed.
  Outcome restore(Message message, tracking::Time since, bool acknowledged, tracking::Time now);
  // The driver has seen the emergency: no more repeats (it stays shown until cancelled/expired).
  Outcome acknowledge(const std::string& id, const std::string& source, tracking::Time now);
  // Ends the message: silenced wherever it is, taken down.
  Outcome cancel(const std::string& id, const std::string& source, tracking::Time now);

  // Repeats that are due, messages that expire.
  std::vector<Effect> tick(tracking::Time now);
  // The bus left a stop (departed or passed): service messages are said again.
  std::vector<Effect> departed(tracking::Time now);
  // The voice reports: first sound of one of the board's announcements on an output, and the end
  // (any outcome) of one on all its outputs. Other announcements are ignored.
  std::vector<Effect> heard(const std::string& announcement_id, media::Output output,
                            tracking::Time now);
  std::vector<Effect> finished(const std::string& announcement_id, tracking::Time now);

  // Whether the announcement is one of the board's, and which message it says.
  std::optional<std::string> message_of(const std::string& announcement_id) const;
  bool holding_stops() const;  // an emergency is active
  struct Active {
    Message message;
    tracking::Time since{};
    bool acknowledged = false;
    int said = 0;                            // sayings submitted
    std::string playing;                     // the words' announcement id in the voice; empty: none
    std::string tone;                        // the attention tone's announcement id; empty: none
    std::optional<tracking::Time> next_due;  // emergency: the next repeat
    std::vector<media::Output> heard;
  };
  const std::vector<Active>& active() const { return active_; }

  // The announcement(s) one saying of `message` is (tone first for an emergency), `n` making their
  // ids unique ("msg:ID:N", "msg:ID:N:tone"). Exposed for tests.
  std::vector<media::Announcement> sayings(const Message& message, int n) const;

 private:
  media::Outputs outputs_of(const Message& m) const;
  std::optional<Outcome> refusal(Message& m, tracking::Time now) const;
  void say(Active& a, tracking::Time now, std::vector<Effect>& out);
  void end(std::size_t index, std::string_view event, const std::string& note, tracking::Time now,
           std::vector<Effect>& out);
  Show show(const Active& a, bool active) const;
  log::Message line(const Active& a, std::string_view event, tracking::Time now) const;

  BoardConfig config_;
  std::vector<Active> active_;  // oldest first
  long sayings_ = 0;            // every saying's announcements get ids of their own
};

}  // namespace stopcall::messages
