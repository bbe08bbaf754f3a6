// The fleet client's event upload (PROTOCOL.md, "events"): every row of the event store from the
// sent-up-to mark on, in order, at most max_inflight unacknowledged; the mark moves over a row
// only once the broker has acknowledged it and every row before it.
#include <nlohmann/json.hpp>
#include <vector>

#include "daemon/fleet/client_impl.hpp"

namespace stopcall::daemon::fleet {

// --- events

void Client::Impl::schedule_pump() {
  if (pumping || !outbox) return;
  pumping = true;
  pump_timer.expires_after(options.poll_interval);
  pump_timer.async_wait(
      [self = shared_from_this(), gen = generation](const boost::system::error_code& ec) {
        if (gen != self->generation) return;
        self->pumping = false;
        if (ec || !self->connected) return;
        self->pump();
        self->wait_write();
        self->schedule_pump();
      });
}

void Client::Impl::pump() {
  if (!outbox || !connected || !mosq) return;
  while (inflight.size() < options.max_inflight) {
    std::vector<log::StoredLine> rows;
    try {
      rows = outbox->after(queued_up_to, options.max_inflight - inflight.size());
    } catch (const std::exception& e) {
      say(true, std::string("fleet: reading the event store: ") + e.what());
      return;
    }
    if (rows.empty()) return;
    for (auto& row : rows) {
      // A fleet request's fate goes on requests/ack just before its line: on one connection the
      // broker takes them in order, so the line's PUBACK (which moves the mark) says the fate
      // got there too. A line sent again (a lost connection, a restart) tells its fate again.
      if (const auto fate = fate_of(options.vehicle, row.json)) {
        const std::string told = nlohmann::json(*fate).dump();
        const int rc = mosquitto_publish(mosq, nullptr, topics.requests_ack.c_str(),
                                         static_cast<int>(told.size()), told.data(), 1, false);
        if (rc != MOSQ_ERR_SUCCESS) return;  // the line waits for the next connection
        ++stats.fates_published;
      }
      const std::string payload = encode_event({options.vehicle, row.seq, std::move(row.json)});
      int mid = 0;
      const int rc = mosquitto_publish(mosq, &mid, topics.events.c_str(),
                                       static_cast<int>(payload.size()), payload.data(), 1, false);
      if (rc != MOSQ_ERR_SUCCESS) return;  // the connection is going: sent again from the mark
      mid_seq[mid] = row.seq;
      inflight.push_back({row.seq, false});
      queued_up_to = row.seq;
      ++stats.events_published;
    }
  }
}

void Client::Impl::on_puback(int mid) {
  auto it = mid_seq.find(mid);
  if (it == mid_seq.end()) return;  // a status or an ack
  const std::int64_t seq = it->second;
  mid_seq.erase(it);
  for (auto& f : inflight) {
    if (f.seq == seq) {
      f.acked = true;
      break;
    }
  }
  // The mark moves over acknowledged events only, without a gap.
  std::optional<std::int64_t> upto;
  while (!inflight.empty() && inflight.front().acked) {
    upto = inflight.front().seq;
    inflight.pop_front();
  }
  if (upto && outbox) {
    outbox->acknowledge(*upto);
    stats.acked_seq = *upto;
  }
}

}  // namespace stopcall::daemon::fleet
