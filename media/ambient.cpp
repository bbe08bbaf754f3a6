#include "media/ambient.hpp"

#include <gst/gst.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>

#include "media/gst_util.hpp"
#include "media/output.hpp"

namespace stopcall::media::detail {

using std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

constexpr auto kSilentTimeout = 3s;  // no reading this long (after starting, or since the last)
constexpr double kSendStepDb = 0.1;  // smaller changes of the adjustment are not sent on
constexpr double kReportStepDb = 0.5;

struct HookContext {
  AmbientMonitor* monitor;
  int gen;
};

void delete_context(gpointer p) {
  delete static_cast<HookContext*>(p);
}

// The mean power of the channels' RMS levels (dB) of a `level` message.
std::optional<double> level_rms_db(const GstStructure* s) {
  const GValue* rms = gst_structure_get_value(s, "rms");
  if (rms == nullptr || !G_VALUE_HOLDS_BOXED(rms)) return std::nullopt;
  const auto* channels = static_cast<const GValueArray*>(g_value_get_boxed(rms));
  if (channels == nullptr || channels->n_values == 0) return std::nullopt;
  double power = 0;
  for (guint i = 0; i < channels->n_values; ++i) {
    if (!G_VALUE_HOLDS_DOUBLE(&channels->values[i])) return std::nullopt;
    power += std::pow(10.0, g_value_get_double(&channels->values[i]) / 10.0);
  }
  return 10.0 * std::log10(power / channels->n_values);
}

GstBusSyncReply on_bus(GstBus*, GstMessage* msg, gpointer data) {
  const auto* ctx = static_cast<HookContext*>(data);
  using Type = AmbientMonitor::Hook::Type;
  switch (GST_MESSAGE_TYPE(msg)) {
    case GST_MESSAGE_ELEMENT: {
      const GstStructure* s = gst_message_get_structure(msg);
      if (s == nullptr || !gst_structure_has_name(s, "level")) break;
      if (const auto db = level_rms_db(s)) {
        ctx->monitor->post_hook({Type::reading, ctx->gen, *db, {}});
      }
      break;
    }
    case GST_MESSAGE_ERROR:
      ctx->monitor->post_hook({Type::error, ctx->gen, 0, describe_message(msg)});
      break;
    case GST_MESSAGE_EOS:
      ctx->monitor->post_hook({Type::eos, ctx->gen, 0, {}});
      break;
    default:
      break;
  }
  return GST_BUS_DROP;
}

bool worth_reporting(const AmbientStatus& now, const std::optional<AmbientStatus>& before) {
  return !before || now.state != before->state || now.frozen != before->frozen ||
         now.ambient_db.has_value() != before->ambient_db.has_value() ||
         std::abs(now.gain_db - before->gain_db) >= kReportStepDb;
}

}  // namespace

struct AmbientMonitor::Source {
  int gen = 0;
  GstElement* pipeline = nullptr;

  Source() = default;
  Source(const Source&) = delete;
  Source& operator=(const Source&) = delete;
  ~Source() {
    if (pipeline == nullptr) return;
    gst_element_set_state(pipeline, GST_STATE_NULL);
    gst_object_unref(pipeline);
  }
};

AmbientMonitor::AmbientMonitor(AmbientConfig config, std::chrono::milliseconds retry_initial,
                               std::chrono::milliseconds retry_max, Reporter& reporter,
                               std::vector<OutputPlayer*> targets,
                               std::vector<const OutputPlayer*> speakers)
    : config_(std::move(config)),
      retry_initial_(std::max(retry_initial, std::chrono::milliseconds{1})),
      retry_max_(std::max(retry_max, retry_initial_)),
      silent_timeout_(std::max<steady_clock::duration>(kSilentTimeout, 3 * config_.interval)),
      reporter_(reporter),
      targets_(std::move(targets)),
      speakers_(std::move(speakers)),
      gain_(config_) {
  status_.source = config_.source;
  thread_ = std::thread([this] { run(); });
}

AmbientMonitor::~AmbientMonitor() {
  stop();
}

AmbientStatus AmbientMonitor::status() const {
  std::lock_guard lock(mu_);
  return status_;
}

void AmbientMonitor::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void AmbientMonitor::post_hook(Hook h) {
  {
    std::lock_guard lock(mu_);
    hooks_.push_back(std::move(h));
  }
  cv_.notify_one();
}

// ---------------------------------------------------------------- the monitor thread

void AmbientMonitor::run() {
  try {
    start();
  } catch (const std::exception& e) {
    failed(e.what());
  }
  for (;;) {
    std::deque<Hook> hooks;
    {
      std::unique_lock lock(mu_);
      cv_.wait_until(lock, next_deadline(), [&] { return stopping_ || !hooks_.empty(); });
      if (stopping_) break;
      hooks.swap(hooks_);
    }
    for (const Hook& h : hooks) {
      if (!source_ || h.gen != source_->gen) continue;  // from a pipeline already gone
      switch (h.type) {
        case Hook::Type::reading:
          on_reading(h.rms_db);
          break;
        case Hook::Type::error:
          failed(h.text);
          break;
        case Hook::Type::eos:
          failed("the source ended");
          break;
      }
    }
    const auto now = steady_clock::now();
    if (source_ && now - last_reading_.value_or(started_) > silent_timeout_) {
      failed(last_reading_ ? "no level reading for 3 s"
                           : "no level reading within 3 s of starting");
    }
    if (!source_ && retry_at_ && now >= *retry_at_) {
      retry_at_.reset();
      AmbientStatus s = status();
      s.state = OutputState::retrying;
      s.retry_in = {};
      update(std::move(s));
      try {
        start();
      } catch (const std::exception& e) {
        failed(e.what());
      }
    }
  }
  source_.reset();
}

void AmbientMonitor::start() {
  ensure_gst();
  auto src = std::make_unique<Source>();
  src->gen = next_gen_++;
  started_ = steady_clock::now();
  last_reading_.reset();
  if (config_.source.empty()) throw std::runtime_error("no source configured");
  const auto interval = std::chrono::duration_cast<std::chrono::nanoseconds>(
      std::max(config_.interval, std::chrono::milliseconds{1}));
  const std::string desc = config_.source +
                           " ! audioconvert ! audio/x-raw,channels=1 ! level post-messages=true "
                           "interval=" +
                           std::to_string(interval.count()) + " ! fakesink sync=true";
  GError* err = nullptr;
  src->pipeline = gst_parse_launch_full(desc.c_str(), nullptr, GST_PARSE_FLAG_FATAL_ERRORS, &err);
  if (err != nullptr || src->pipeline == nullptr) {
    std::string why = err != nullptr ? err->message : "unknown error";
    if (err != nullptr) g_error_free(err);
    if (src->pipeline != nullptr) gst_object_unref(src->pipeline);
    src->pipeline = nullptr;
    throw std::runtime_error("bad source '" + config_.source + "': " + why);
  }
  gst_object_ref_sink(src->pipeline);
  // A level reading every 100 ms needs no 10 ms capture periods (alsasrc's default): fewer
  // wake-ups. A property the description sets itself stays as it is.
  const auto period = std::clamp(std::chrono::microseconds(config_.interval),
                                 std::chrono::microseconds(10ms), std::chrono::microseconds(50ms));
  const std::string& s = config_.source;
  tune_audio_buffers(src->pipeline, "GstAudioBaseSrc",
                     s.find("buffer-time") == std::string::npos
                         ? std::max(4 * period, std::chrono::microseconds(200ms)).count()
                         : 0,
                     s.find("latency-time") == std::string::npos ? period.count() : 0);
  GstPtr<GstBus> bus(gst_element_get_bus(src->pipeline));
  gst_bus_set_sync_handler(bus.get(), on_bus, new HookContext{this, src->gen}, delete_context);
  if (gst_element_set_state(src->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    std::string why = "could not start";
    {
      std::lock_guard lock(mu_);
      for (const Hook& h : hooks_) {
        if (h.gen == src->gen && h.type == Hook::Type::error) {
          why = h.text;
          break;
        }
      }
    }
    throw std::runtime_error(why);  // src's destructor tears it down
  }
  source_ = std::move(src);
}

void AmbientMonitor::on_reading(double rms_db) {
  const auto now = steady_clock::now();
  last_reading_ = now;
  for (const OutputPlayer* speaker : speakers_) {
    if (const auto t = speaker->last_sounded()) gain_.speakers_played(*t);
  }
  const bool used = gain_.reading(rms_db, now);
  AmbientStatus s = status();
  if (s.state != OutputState::ok) {  // (re)started: a later outage is reported again
    backoff_ = {};
    problem_reported_ = false;
  }
  send_adjustment();
  s.state = OutputState::ok;
  s.error.clear();
  s.retry_in = {};
  s.ambient_db = gain_.ambient_db();
  s.gain_db = sent_db_.value_or(0);
  s.frozen = !used;
  update(std::move(s));
}

void AmbientMonitor::failed(const std::string& why) {
  source_.reset();
  gain_.reset();
  send_adjustment();  // back to the configured gains
  backoff_ = backoff_.count() == 0 ? retry_initial_ : std::min(backoff_ * 2, retry_max_);
  retry_at_ = steady_clock::now() + backoff_;
  if (!problem_reported_) {
    problem_reported_ = true;
    reporter_.problem(
        {Problem::Kind::ambient_failed,
         {},
         0,
         std::nullopt,
         "cabin microphone '" + config_.source + "': " + why + "; the configured gain applies"});
  }
  AmbientStatus s = status();
  s.state = OutputState::failed;
  s.error = why;
  s.retry_in = backoff_;
  s.ambient_db.reset();
  s.gain_db = 0;
  s.frozen = false;
  update(std::move(s));
}

void AmbientMonitor::send_adjustment() {
  const double db = gain_.adjustment_db();
  if (sent_db_ == db) return;
  // Small drifts are not worth a command; 0 (failed) goes out exactly.
  if (sent_db_ && db != 0 && std::abs(*sent_db_ - db) < kSendStepDb) return;
  sent_db_ = db;
  for (OutputPlayer* target : targets_)
    target->set_auto_gain_db(db);
}

void AmbientMonitor::update(AmbientStatus s) {
  {
    std::lock_guard lock(mu_);
    status_ = s;
  }
  if (!worth_reporting(s, reported_)) return;
  reported_ = s;
  reporter_.ambient(std::move(s));
}

steady_clock::time_point AmbientMonitor::next_deadline() const {
  auto deadline = steady_clock::now() + 1h;
  if (source_) {
    deadline = std::min(deadline, last_reading_.value_or(started_) + silent_timeout_ + 1ms);
  }
  if (retry_at_) deadline = std::min(deadline, *retry_at_);
  return deadline;
}

}  // namespace stopcall::media::detail
