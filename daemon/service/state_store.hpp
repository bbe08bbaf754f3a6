// What must survive a crash or a power cut: the trip being run, the last stop event on it (which
// stop, how far: next-stop said, arriving said, arrived/passed, departed) and when, and the active
// emergency and service messages. Written at
// each stop event as one SQLite transaction (WAL), read once at start so the daemon resumes the
// trip without repeating what it last said and without missing what comes next.
#pragma once

#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "daemon/tracking/events.hpp"

namespace stopcall::routes::sql {
class Db;
}

namespace stopcall::daemon {

struct SavedState {
  std::string trip_id;
  int stop_index = 0;
  tracking::StopEvent::Type event = tracking::StopEvent::Type::trip_started;
  tracking::Time time{};  // GPS time of the event
  friend bool operator==(const SavedState&, const SavedState&) = default;
};

class StateStore {
 public:
  // Opens or creates the file. Throws std::runtime_error naming it when it cannot.
  explicit StateStore(const std::string& path);
  ~StateStore();
  StateStore(const StateStore&) = delete;
  StateStore& operator=(const StateStore&) = delete;

  void save(const SavedState& state);  // atomically replaces the saved state
  std::optional<SavedState> load();    // nothing saved (or an unreadable row): nullopt
  void clear();                        // the trip ended: nothing to resume

  // The emergency and service messages active now, each as one JSON object (Onboard's), so that
  // a restart gives them again instead of dropping an evacuation order. Replaced whole.
  void save_messages(const std::vector<std::string>& messages);
  std::vector<std::string> load_messages();

  // The nonces of the fleet commands taken lately, with their times of issue, so that a restart
  // does not take one of them again (daemon/fleet/command.hpp). Replaced whole.
  void save_fleet_nonces(const std::vector<std::pair<std::string, tracking::Time>>& nonces);
  std::vector<std::pair<std::string, tracking::Time>> load_fleet_nonces();

 private:
  std::unique_ptr<routes::sql::Db> db_;
};

// What `path` holds, for the pipeline to resume from; nothing (and a line on `log`) when the file
// cannot be read.
std::optional<SavedState> load_saved_state(const std::string& path, std::ostream& log);

}  // namespace stopcall::daemon
