// The depot's side in the fleet load bench, each one libmosquitto client on its own thread:
// `Probe` publishes on the fleet's topic (the fan-out) or subscribes like a collector would
// (`Collector`: every bus's events, their latency from the bus's publish to here, and which
// (vehicle, seq) came never or twice).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

struct mosquitto;
struct mosquitto_message;

namespace stopcall::fleet_bench {

class Probe {
 public:
  using OnMessage = std::function<void(const std::string& topic, const std::string& payload)>;
  // Clean session; subscribes (QoS 1) again at each connection; reconnects by itself.
  Probe(const std::string& host, int port, const std::string& user,
        std::vector<std::string> subscriptions, OnMessage on_message = {});
  ~Probe();
  Probe(const Probe&) = delete;
  Probe& operator=(const Probe&) = delete;

  // Connected, with every subscription acknowledged.
  bool wait_ready(std::chrono::milliseconds timeout);
  // QoS 1; true once the broker acknowledged it.
  bool publish(const std::string& topic, const std::string& payload,
               std::chrono::milliseconds timeout);

 private:
  std::vector<std::string> subscriptions_;
  OnMessage on_message_;
  mosquitto* mosq_ = nullptr;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool connected_ = false;
  std::size_t subscribed_ = 0;
  long acked_ = 0;
};

struct CollectorFigures {
  std::int64_t received = 0;             // every copy
  std::int64_t distinct = 0;             // (vehicle, seq) once
  std::int64_t doubled = 0;              // copies beyond the first
  std::int64_t lost = 0;                 // acknowledged to a bus, never here
  std::vector<std::int64_t> latency_us;  // each copy's, from the bus's publish
};

class Collector {
 public:
  Collector(const std::string& host, int port, const std::string& prefix);
  bool wait_ready(std::chrono::milliseconds timeout) { return probe_.wait_ready(timeout); }
  // acked: for each vehicle, the seq up to which the broker acknowledged its events.
  CollectorFigures figures(const std::map<std::string, std::int64_t>& acked);

 private:
  void take(const std::string& payload);
  std::mutex mutex_;
  std::map<std::string, std::map<std::int64_t, int>> seen_;
  std::vector<std::int64_t> latency_us_;
  std::int64_t received_ = 0;
  Probe probe_;  // last: its thread calls take() until it is destroyed
};

}  // namespace stopcall::fleet_bench
