#include "daemon/fleet/bench/buses.hpp"

#include <fcntl.h>
#include <mosquitto.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <unordered_map>

#include "daemon/fleet/backoff.hpp"

namespace stopcall::fleet_bench {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using daemon::fleet::Backoff;

constexpr std::int64_t kMaxInflight = 32;  // as the bus (PROTOCOL.md, "events")
constexpr auto kConnectTimeout = 10s;

std::string utc_now() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char text[80];
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch());
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms.count() % 1000));
  return text;
}

// The number after "key": in a JSON text, or -1.
std::int64_t number_after(const std::string& text, const char* key) {
  const auto at = text.find(key);
  if (at == std::string::npos) return -1;
  return std::strtoll(text.c_str() + at + std::strlen(key), nullptr, 10);
}

}  // namespace

std::string vehicle_id(int index) {
  char id[24];
  std::snprintf(id, sizeof id, "bus-%05d", index + 1);
  return id;
}

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Bus {
  Bus(int index, const BusOptions& o, std::uint64_t seed)
      : id(vehicle_id(index)),
        status_topic(o.prefix + "/bus/" + id + "/status"),
        events_topic(o.prefix + "/bus/" + id + "/events"),
        requests_topic(o.prefix + "/bus/" + id + "/requests"),
        backoff(o.reconnect_min, o.reconnect_max, seed) {}

  std::string id, status_topic, events_topic, requests_topic;
  mosquitto* mosq = nullptr;
  int fd = -1;  // our duplicate of the library's socket, in the epoll set
  bool out = false, connected = false, ready = false, dead = false;
  Clock::time_point connect_at, connect_started, next_status, next_event, next_misc;
  Backoff backoff;
  // Events: made up to `made`, published up to `sent`, acknowledged up to `acked` (the mark).
  std::int64_t made = 0, sent = 0, acked = 0;
  std::set<std::int64_t> acked_ahead;
  std::unordered_map<int, std::int64_t> mid_seq;
};

struct Buses::Worker {
  Worker(Buses& fleet, std::uint64_t seed) : fleet(fleet), rng(seed) {}

  struct Receipt {
    const Bus* bus;
    int k;
    std::int64_t latency_us;
  };

  Buses& fleet;
  std::vector<std::unique_ptr<Bus>> buses;
  std::mt19937_64 rng;
  int ep = -1;
  std::thread thread;
  std::atomic<bool> stopping{false};
  std::vector<Receipt> receipts;
  std::string fleet_topic;

  Clock::duration next_gap() {
    std::exponential_distribution<double> gap(
        1.0 / static_cast<double>(fleet.options_.event_mean.count()));
    return std::chrono::duration_cast<Clock::duration>(
        std::chrono::duration<double, std::milli>(gap(rng)));
  }

  void run() {
    std::vector<epoll_event> events(512);
    auto next_scan = Clock::now();
    while (!stopping.load()) {
      const int n = ::epoll_wait(ep, events.data(), static_cast<int>(events.size()), 10);
      const auto now = Clock::now();
      for (int i = 0; i < n; ++i) {
        Bus* b = static_cast<Bus*>(events[i].data.ptr);
        if (!b->mosq) continue;  // failed earlier in this batch
        current = b;
        int rc = MOSQ_ERR_SUCCESS;
        if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))
          rc = mosquitto_loop_read(b->mosq, 1);
        if (rc == MOSQ_ERR_SUCCESS && b->mosq && (events[i].events & EPOLLOUT))
          rc = mosquitto_loop_write(b->mosq, 1);
        if (rc != MOSQ_ERR_SUCCESS || b->dead) {
          fail(*b, now);
          continue;
        }
        pump(*b);
        interest(*b);
      }
      if (now >= next_scan) {
        for (auto& b : buses)
          tick(*b, now);
        next_scan = now + 20ms;
      }
    }
    for (auto& b : buses)
      close(*b);
  }

  // Timers, looked at every 20 ms: events made, connecting, status, keep-alive.
  void tick(Bus& b, Clock::time_point now) {
    current = &b;
    if (b.next_event != Clock::time_point{}) {
      while (now >= b.next_event) {
        if (fleet.events_on_.load()) {
          ++b.made;
          ++fleet.made_;
        }
        b.next_event += next_gap();
      }
    }
    if (!b.mosq) {
      if (now >= b.connect_at) connect(b, now);
      return;
    }
    if (!b.connected) {
      if (now - b.connect_started > kConnectTimeout) fail(b, now);
      return;
    }
    if (now >= b.next_status) publish_status(b, now);
    pump(b);
    if (now >= b.next_misc) {
      b.next_misc = now + 1s;
      if (mosquitto_loop_misc(b.mosq) != MOSQ_ERR_SUCCESS) return fail(b, now);
    }
    interest(b);
  }

  void connect(Bus& b, Clock::time_point now) {
    if (b.next_event == Clock::time_point{}) b.next_event = now + next_gap();
    b.mosq = mosquitto_new(b.id.c_str(), true, this);
    if (!b.mosq) return fail(b, now);
    mosquitto_int_option(b.mosq, MOSQ_OPT_TCP_NODELAY, 1);
    mosquitto_max_inflight_messages_set(b.mosq, 0);  // the window is ours
    mosquitto_username_pw_set(b.mosq, b.id.c_str(), nullptr);
    const std::string will = "{\"vehicle\":\"" + b.id + "\",\"online\":false}";
    mosquitto_will_set(b.mosq, b.status_topic.c_str(), static_cast<int>(will.size()), will.data(),
                       1, true);
    mosquitto_connect_callback_set(
        b.mosq, [](mosquitto*, void* w, int rc) { static_cast<Worker*>(w)->on_connect(rc); });
    mosquitto_subscribe_callback_set(b.mosq, [](mosquitto*, void* w, int, int, const int*) {
      static_cast<Worker*>(w)->on_subscribed();
    });
    mosquitto_disconnect_callback_set(b.mosq, [](mosquitto*, void* w, int) {
      if (auto* bus = static_cast<Worker*>(w)->current) bus->dead = true;
    });
    mosquitto_publish_callback_set(
        b.mosq, [](mosquitto*, void* w, int mid) { static_cast<Worker*>(w)->on_puback(mid); });
    mosquitto_message_callback_set(b.mosq, [](mosquitto*, void* w, const mosquitto_message* m) {
      static_cast<Worker*>(w)->on_message(*m);
    });
    b.connect_started = now;
    if (mosquitto_connect_async(b.mosq, fleet.options_.host.c_str(), fleet.options_.port,
                                fleet.options_.keepalive_s) != MOSQ_ERR_SUCCESS) {
      return fail(b, now);
    }
    // A duplicate in the epoll set: the library may close its own descriptor (a lost
    // connection), and the number be taken at once by another bus's new socket.
    b.fd = ::fcntl(mosquitto_socket(b.mosq), F_DUPFD_CLOEXEC, 0);
    if (b.fd < 0) return fail(b, now);
    epoll_event e{};
    e.events = EPOLLIN | EPOLLOUT;
    e.data.ptr = &b;
    ::epoll_ctl(ep, EPOLL_CTL_ADD, b.fd, &e);
    b.out = true;
  }

  // The callbacks run inside mosquitto_loop_read/write for the bus being driven.
  Bus* current = nullptr;

  void on_connect(int rc) {
    Bus& b = *current;
    if (rc != 0) {
      b.dead = true;
      return;
    }
    b.connected = true;
    b.backoff.reset();
    ++fleet.connections_;
    char* subs[] = {b.requests_topic.data(), fleet_topic.data()};
    mosquitto_subscribe_multiple(b.mosq, nullptr, 2, subs, 1, 0, nullptr);
    const auto now = Clock::now();
    publish_status(b, now);
    b.next_misc = now + 1s;
    b.sent = b.acked;  // what was in flight on the last connection goes again
  }

  void on_subscribed() {
    Bus& b = *current;
    if (!b.ready) {
      b.ready = true;
      ++fleet.ready_;
    }
  }

  void on_puback(int mid) {
    Bus& b = *current;
    const auto it = b.mid_seq.find(mid);
    if (it == b.mid_seq.end()) return;  // a status
    b.acked_ahead.insert(it->second);
    b.mid_seq.erase(it);
    while (!b.acked_ahead.empty() && *b.acked_ahead.begin() == b.acked + 1) {
      b.acked_ahead.erase(b.acked_ahead.begin());
      ++b.acked;
      ++fleet.acked_;
    }
  }

  void on_message(const mosquitto_message& m) {
    const std::int64_t at = now_us();
    if (fleet_topic != m.topic) return;
    const std::string text(static_cast<const char*>(m.payload),
                           static_cast<std::size_t>(m.payloadlen));
    const std::int64_t k = number_after(text, "\"k\":");
    const std::int64_t sent = number_after(text, "\"sent_us\":");
    if (k < 0 || sent <= 0) return;
    receipts.push_back({current, static_cast<int>(k), at - sent});
    ++fleet.fanout_;
  }

  void publish_status(Bus& b, Clock::time_point now) {
    b.next_status = now + fleet.options_.status_interval;
    const std::string status = "{\"vehicle\":\"" + b.id +
                               "\",\"online\":true,\"software\":\"0.1.0\",\"bundle\":\"2026-03-"
                               "01\",\"trip_id\":\"101-WD-E-0630\",\"route_id\":\"101\","
                               "\"next_stop\":{\"stop_id\":\"CGM-E\",\"name\":\"车公庙\","
                               "\"index\":3},\"gps\":\"fix\",\"faults\":[],\"time\":\"" +
                               utc_now() + "\"}";
    if (mosquitto_publish(b.mosq, nullptr, b.status_topic.c_str(), static_cast<int>(status.size()),
                          status.data(), 1, true) == MOSQ_ERR_SUCCESS) {
      ++fleet.status_;
    }
  }

  // Publishes what the window allows, from the sent-up-to mark on.
  void pump(Bus& b) {
    if (!b.connected) return;
    while (b.sent < b.made && b.sent - b.acked < kMaxInflight) {
      const std::int64_t seq = b.sent + 1;
      const std::string event = "{\"vehicle\":\"" + b.id + "\",\"seq\":" + std::to_string(seq) +
                                ",\"event\":{\"type\":\"announced\",\"time\":\"" + utc_now() +
                                "\",\"kind\":\"next_stop\",\"stop_id\":\"CGM-E\",\"form\":"
                                "\"full\",\"languages\":[\"zh-Hans\",\"yue\",\"en\"],"
                                "\"sent_us\":" +
                                std::to_string(now_us()) + "}}";
      int mid = 0;
      current = &b;
      const int rc = mosquitto_publish(b.mosq, &mid, b.events_topic.c_str(),
                                       static_cast<int>(event.size()), event.data(), 1, false);
      if (rc != MOSQ_ERR_SUCCESS) {
        b.dead = true;
        return;
      }
      b.mid_seq[mid] = seq;
      b.sent = seq;
    }
  }

  // Writes wanted: watch for writability too (level-triggered), else reads only.
  void interest(Bus& b) {
    if (!b.mosq) return;
    const bool want = mosquitto_want_write(b.mosq);
    if (want == b.out) return;
    epoll_event e{};
    e.events = EPOLLIN | (want ? EPOLLOUT : 0u);
    e.data.ptr = &b;
    ::epoll_ctl(ep, EPOLL_CTL_MOD, b.fd, &e);
    b.out = want;
  }

  void close(Bus& b) {
    if (b.ready) --fleet.ready_;
    if (b.fd >= 0) {
      ::epoll_ctl(ep, EPOLL_CTL_DEL, b.fd, nullptr);
      ::close(b.fd);
    }
    if (b.mosq) mosquitto_destroy(b.mosq);
    b.mosq = nullptr;
    b.fd = -1;
    b.out = b.connected = b.ready = b.dead = false;
    b.mid_seq.clear();
    b.acked_ahead.clear();
    b.sent = b.acked;
  }

  // A connection refused, lost or not accepted in time: wait (backoff), then try again.
  void fail(Bus& b, Clock::time_point now) {
    if (!b.connected) ++fleet.failures_;
    close(b);
    b.connect_at = now + b.backoff.next();
  }
};

Buses::Buses(BusOptions options) : options_(std::move(options)) {
  static std::once_flag once;
  std::call_once(once, [] { mosquitto_lib_init(); });
  std::mt19937_64 seeds(options_.seed);
  const int threads = std::max(1, options_.threads);
  for (int t = 0; t < threads; ++t) {
    workers_.push_back(std::make_unique<Worker>(*this, seeds()));
    workers_.back()->fleet_topic = options_.prefix + "/fleet/requests";
  }
  std::uniform_int_distribution<std::int64_t> jitter(
      0, std::max<std::int64_t>(0, options_.ramp.count()));
  const auto start = Clock::now();
  for (int i = 0; i < options_.buses; ++i) {
    auto& w = *workers_[static_cast<std::size_t>(i % threads)];
    w.buses.push_back(std::make_unique<Bus>(i, options_, seeds()));
    w.buses.back()->connect_at = start + std::chrono::milliseconds(jitter(seeds));
  }
}

Buses::~Buses() {
  stop();
}

void Buses::start() {
  for (auto& w : workers_) {
    w->ep = ::epoll_create1(EPOLL_CLOEXEC);
    w->thread = std::thread([&w = *w] { w.run(); });
  }
}

void Buses::stop() {
  for (auto& w : workers_)
    w->stopping.store(true);
  for (auto& w : workers_) {
    if (w->thread.joinable()) w->thread.join();
    if (w->ep >= 0) ::close(w->ep);
    w->ep = -1;
  }
}

std::map<int, std::vector<std::int64_t>> Buses::fanout() const {
  std::map<int, std::vector<std::int64_t>> out;
  std::set<std::pair<const Bus*, int>> seen;
  for (const auto& w : workers_) {
    for (const auto& r : w->receipts) {
      if (seen.insert({r.bus, r.k}).second) out[r.k].push_back(r.latency_us);
    }
  }
  return out;
}

std::int64_t Buses::fanout_doubled() const {
  std::int64_t all = 0;
  for (const auto& w : workers_)
    all += static_cast<std::int64_t>(w->receipts.size());
  std::int64_t once = 0;
  for (const auto& [k, v] : fanout())
    once += static_cast<std::int64_t>(v.size());
  return all - once;
}

std::map<std::string, std::int64_t> Buses::acked_by_vehicle() const {
  std::map<std::string, std::int64_t> out;
  for (const auto& w : workers_) {
    for (const auto& b : w->buses)
      out[b->id] = b->acked;
  }
  return out;
}

}  // namespace stopcall::fleet_bench
