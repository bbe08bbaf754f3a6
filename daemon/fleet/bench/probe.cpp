#include "daemon/fleet/bench/probe.hpp"

#include <mosquitto.h>

#include <nlohmann/json.hpp>

#include "daemon/fleet/bench/buses.hpp"

namespace stopcall::fleet_bench {

Probe::Probe(const std::string& host, int port, const std::string& user,
             std::vector<std::string> subscriptions, OnMessage on_message)
    : subscriptions_(std::move(subscriptions)), on_message_(std::move(on_message)) {
  mosquitto_lib_init();
  mosq_ = mosquitto_new(user.c_str(), true, this);
  mosquitto_username_pw_set(mosq_, user.c_str(), nullptr);
  mosquitto_int_option(mosq_, MOSQ_OPT_TCP_NODELAY, 1);
  mosquitto_reconnect_delay_set(mosq_, 1, 1, false);
  mosquitto_connect_callback_set(mosq_, [](mosquitto* m, void* self, int rc) {
    auto* p = static_cast<Probe*>(self);
    if (rc == 0) {
      for (const auto& topic : p->subscriptions_)
        mosquitto_subscribe(m, nullptr, topic.c_str(), 1);
    }
    std::lock_guard lock(p->mutex_);
    p->connected_ = rc == 0;
    p->subscribed_ = 0;
    p->changed_.notify_all();
  });
  mosquitto_disconnect_callback_set(mosq_, [](mosquitto*, void* self, int) {
    auto* p = static_cast<Probe*>(self);
    std::lock_guard lock(p->mutex_);
    p->connected_ = false;
  });
  mosquitto_subscribe_callback_set(mosq_, [](mosquitto*, void* self, int, int, const int*) {
    auto* p = static_cast<Probe*>(self);
    std::lock_guard lock(p->mutex_);
    ++p->subscribed_;
    p->changed_.notify_all();
  });
  mosquitto_publish_callback_set(mosq_, [](mosquitto*, void* self, int) {
    auto* p = static_cast<Probe*>(self);
    std::lock_guard lock(p->mutex_);
    ++p->acked_;
    p->changed_.notify_all();
  });
  mosquitto_message_callback_set(mosq_, [](mosquitto*, void* self, const mosquitto_message* m) {
    auto* p = static_cast<Probe*>(self);
    if (p->on_message_) {
      p->on_message_(m->topic, std::string(static_cast<const char*>(m->payload),
                                           static_cast<std::size_t>(m->payloadlen)));
    }
  });
  mosquitto_connect_async(mosq_, host.c_str(), port, 30);
  mosquitto_loop_start(mosq_);
}

Probe::~Probe() {
  mosquitto_disconnect(mosq_);
  mosquitto_loop_stop(mosq_, true);
  mosquitto_destroy(mosq_);
}

bool Probe::wait_ready(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout,
                           [&] { return connected_ && subscribed_ >= subscriptions_.size(); });
}

bool Probe::publish(const std::string& topic, const std::string& payload,
                    std::chrono::milliseconds timeout) {
  long before;
  {
    std::lock_guard lock(mutex_);
    before = acked_;
  }
  if (mosquitto_publish(mosq_, nullptr, topic.c_str(), static_cast<int>(payload.size()),
                        payload.data(), 1, false) != MOSQ_ERR_SUCCESS) {
    return false;
  }
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return acked_ > before; });
}

Collector::Collector(const std::string& host, int port, const std::string& prefix)
    : probe_(host, port, "depot-collector", {prefix + "/bus/+/events"},
             [this](const std::string&, const std::string& payload) { take(payload); }) {}

void Collector::take(const std::string& payload) {
  const std::int64_t at = now_us();
  const auto j = nlohmann::json::parse(payload, nullptr, false);
  if (!j.is_object() || !j.contains("vehicle") || !j["vehicle"].is_string() || !j.contains("seq") ||
      !j["seq"].is_number_integer()) {
    return;
  }
  const auto sent_at = "/event/sent_us"_json_pointer;
  const std::int64_t sent =
      j.contains(sent_at) && j[sent_at].is_number_integer() ? j[sent_at].get<std::int64_t>() : 0;
  std::lock_guard lock(mutex_);
  ++received_;
  ++seen_[j["vehicle"].get<std::string>()][j["seq"].get<std::int64_t>()];
  if (sent > 0) latency_us_.push_back(at - sent);
}

CollectorFigures Collector::figures(const std::map<std::string, std::int64_t>& acked) {
  std::lock_guard lock(mutex_);
  CollectorFigures f;
  f.received = received_;
  f.latency_us = latency_us_;
  for (const auto& [vehicle, seqs] : seen_) {
    for (const auto& [seq, copies] : seqs) {
      ++f.distinct;
      f.doubled += copies - 1;
    }
  }
  for (const auto& [vehicle, up_to] : acked) {
    const auto it = seen_.find(vehicle);
    for (std::int64_t seq = 1; seq <= up_to; ++seq) {
      if (it == seen_.end() || !it->second.contains(seq)) ++f.lost;
    }
  }
  return f;
}

}  // namespace stopcall::fleet_bench
