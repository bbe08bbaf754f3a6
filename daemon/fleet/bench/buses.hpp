// Simulated buses for the fleet load bench: N MQTT connections in one process, each with its own
// client id and user name (bus-00001, ...), doing what a bus's fleet link does (PROTOCOL.md): its
// retained status at connection and every status interval, its events (Poisson, one every
// event_mean on average) each as {"vehicle","seq","event":{...}} at QoS 1 with at most 32 in
// flight and a sent-up-to mark that only moves on the broker's PUBACK (events in flight when a
// connection is lost go again on the next one), subscribed to its own requests and to the fleet's.
// Reconnects with daemon/fleet/backoff.hpp, and gives a connection 10 s to be accepted.
//
// A few threads, each owning a slice of the buses, drive their non-blocking sockets from one
// epoll set with mosquitto_loop_read/write/misc (no thread per client).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace stopcall::fleet_bench {

struct BusOptions {
  std::string host = "127.0.0.1";
  int port = 1883;
  std::string prefix = "stopcall/v1";
  int buses = 3000;
  int threads = 2;
  std::chrono::milliseconds ramp{15000};  // first connections spread over this time
  std::chrono::milliseconds status_interval{10000};
  std::chrono::milliseconds event_mean{5000};
  std::chrono::milliseconds reconnect_min{1000}, reconnect_max{60000};
  int keepalive_s = 30;
  std::uint64_t seed = 1;
};

std::string vehicle_id(int index);  // bus-00001 for 0

// The send time of a fan-out message and of an event: microseconds of the system clock.
std::int64_t now_us();

class Buses {
 public:
  explicit Buses(BusOptions options);
  ~Buses();  // stop()
  Buses(const Buses&) = delete;
  Buses& operator=(const Buses&) = delete;

  void start();
  // Joins the threads and closes every connection (without a goodbye).
  void stop();
  // While off, no new events are made (those made go on until acknowledged).
  void set_events(bool on) { events_on_.store(on); }

  // Buses connected with both subscriptions acknowledged.
  int ready() const { return ready_.load(); }
  std::int64_t events_made() const { return made_.load(); }
  std::int64_t events_acked() const { return acked_.load(); }
  std::int64_t status_sent() const { return status_.load(); }
  std::int64_t connections() const { return connections_.load(); }
  std::int64_t connect_failures() const { return failures_.load(); }
  // Fan-out messages received, every copy, so far.
  std::int64_t fanout_received() const { return fanout_.load(); }

  // After stop(): for each fan-out message (its "k"), how long each bus that got it took, in
  // microseconds, once per bus (a second copy is counted in fanout_doubled()).
  std::map<int, std::vector<std::int64_t>> fanout() const;
  std::int64_t fanout_doubled() const;
  // After stop(): for each bus, the seq up to which the broker acknowledged its events.
  std::map<std::string, std::int64_t> acked_by_vehicle() const;

  struct Worker;

 private:
  BusOptions options_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<bool> events_on_{true};
  std::atomic<int> ready_{0};
  std::atomic<std::int64_t> made_{0}, acked_{0}, status_{0}, connections_{0}, failures_{0},
      fanout_{0};
  friend struct Worker;
};

}  // namespace stopcall::fleet_bench
