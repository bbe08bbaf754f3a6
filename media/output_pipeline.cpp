// The pipelines of one output: building one for a sink description, GStreamer's messages about it,
// placing it on the timeline when it is ready, the chunks pushed into it, the fallback when it
// fails and the retries of the configured sink, the gain on its volume element, and the end of
// the stream. All on the feeder thread (output.cpp), but for the hooks that post to it.
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <stdexcept>
#include <utility>

#include "media/gst_util.hpp"
#include "media/output.hpp"
#include "media/realtime.hpp"

namespace stopcall::media::detail {

using std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

// The live mixer outputs the block [t, t + 40 ms) when the clock reaches t + 40 ms (its latency),
// with whatever the appsrc has delivered for it by then. Audio that arrives later for a block
// already out is dropped by the mixer, never played late; a chunk a whole chunk behind the
// running time may already be lost, so the feeder's Mixer skips ahead instead (Mixer::kLateSlack,
// and reports `late`).
//
// Idle, the mixer's streaming thread wakes once per block to put out silence: that is nearly all
// an idle output costs, so the block is 40 ms rather than 20. The sinks' processing deadline is 0
// instead of GStreamer's 20 ms: the mixer's latency already holds each block until it has passed,
// and with a deadline a clock-synchronised sink (fakesink) sleeps once more per block after the
// mixer pushed it. So the latency from a sample's position to its rendering stays 40 ms + the
// sink's own (an audio device's buffer), as with 20 ms blocks and the 20 ms deadline.
constexpr std::int64_t kBlock = kRate / 25;  // 40 ms
constexpr auto kStartupTimeout = 3s;
constexpr auto kEosTimeout = 2s;
constexpr std::uint64_t kStallBytes = kRate * 2 * 2;  // 2 s of audio queued: the sink is stuck

const std::string& raw_caps() {
  static const std::string caps =
      "audio/x-raw,format=S16LE,layout=interleaved,channels=1,rate=" + std::to_string(kRate);
  return caps;
}

struct HookContext {
  OutputPlayer* player;
  int gen;
  GstElement* pipeline;  // not a reference: compared only
  std::shared_ptr<StreamThreads> threads;
};

void delete_context(gpointer p) {
  delete static_cast<HookContext*>(p);
}

GstBusSyncReply on_bus(GstBus*, GstMessage* msg, gpointer data) {
  const auto* ctx = static_cast<HookContext*>(data);
  using Type = OutputPlayer::HookEvent::Type;
  switch (GST_MESSAGE_TYPE(msg)) {
    case GST_MESSAGE_ERROR:
      ctx->player->post_hook({Type::error, ctx->gen, describe_message(msg), 0});
      break;
    case GST_MESSAGE_EOS:
      ctx->player->post_hook({Type::eos, ctx->gen, {}, 0});
      break;
    case GST_MESSAGE_LATENCY:
      ctx->player->post_hook({Type::latency, ctx->gen, {}, 0});
      break;
    case GST_MESSAGE_STREAM_STATUS: {
      // Posted by each streaming thread of the pipeline (the appsrc's, the mixer's, an audio
      // sink's ring buffer thread) from that thread as it starts and as it leaves. While the
      // output sounds they ask for SCHED_FIFO like the feeder, so a busy neighbour cannot starve
      // the audio path (refused: normal priority); see StreamThreads.
      GstStreamStatusType type = GST_STREAM_STATUS_TYPE_CREATE;
      GstElement* owner = nullptr;
      gst_message_parse_stream_status(msg, &type, &owner);
      if (type == GST_STREAM_STATUS_TYPE_ENTER) ctx->threads->enter();
      if (type == GST_STREAM_STATUS_TYPE_LEAVE) ctx->threads->leave();
      break;
    }
    case GST_MESSAGE_STATE_CHANGED:
      if (GST_MESSAGE_SRC(msg) == GST_OBJECT(ctx->pipeline)) {
        GstState old_state, new_state, pending;
        gst_message_parse_state_changed(msg, &old_state, &new_state, &pending);
        if (new_state == GST_STATE_PLAYING) {
          ctx->player->post_hook({Type::playing, ctx->gen, {}, 0});
        }
      }
      break;
    default:
      break;
  }
  return GST_BUS_DROP;
}

GstPadProbeReturn on_first_buffer(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
  const auto* ctx = static_cast<HookContext*>(data);
  GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  if (buffer == nullptr || !GST_BUFFER_PTS_IS_VALID(buffer)) return GST_PAD_PROBE_OK;
  GstClockTime rt = GST_BUFFER_PTS(buffer);
  if (GstEvent* ev = gst_pad_get_sticky_event(pad, GST_EVENT_SEGMENT, 0)) {
    const GstSegment* segment = nullptr;
    gst_event_parse_segment(ev, &segment);
    const GstClockTime converted = gst_segment_to_running_time(segment, GST_FORMAT_TIME, rt);
    if (GST_CLOCK_TIME_IS_VALID(converted)) rt = converted;
    gst_event_unref(ev);
  }
  ctx->player->post_hook({OutputPlayer::HookEvent::Type::first_buffer, ctx->gen, {}, rt});
  return GST_PAD_PROBE_REMOVE;
}

int system_local_hour() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  return tm.tm_hour;
}

}  // namespace

struct OutputPlayer::Pipe {
  int gen = 0;
  bool fallback = false;
  GstElement* pipeline = nullptr;
  GstElement* appsrc = nullptr;
  GstElement* volume = nullptr;
  GstClock* clock = nullptr;
  GstClockTime base_time = GST_CLOCK_TIME_NONE;
  GstClockTime first_rt = GST_CLOCK_TIME_NONE;
  GstClockTime latency = 0;
  bool playing = false;
  bool ready = false;
  bool eos = false;
  std::int64_t pushed_end = -1;  // timeline sample after the last pushed buffer
  steady_clock::time_point created;
  std::shared_ptr<StreamThreads> threads = std::make_shared<StreamThreads>();
};

void OutputPlayer::PipeDelete::operator()(Pipe* p) const {
  delete p;
}

void OutputPlayer::handle_hook(const HookEvent& e) {
  Pipe* p = pipe_ && pipe_->gen == e.gen             ? pipe_.get()
            : candidate_ && candidate_->gen == e.gen ? candidate_.get()
                                                     : nullptr;
  if (p == nullptr) return;  // from a pipeline already gone
  switch (e.type) {
    case HookEvent::Type::error:
      if (p == pipe_.get()) {
        pipe_failed(e.text);
      } else {
        candidate_failed(e.text);
      }
      return;
    case HookEvent::Type::eos:
      p->eos = true;
      return;
    case HookEvent::Type::playing:
      p->playing = true;
      break;
    case HookEvent::Type::first_buffer:
      p->first_rt = e.running_time;
      break;
    case HookEvent::Type::latency:
      gst_bin_recalculate_latency(GST_BIN(p->pipeline));
      if (p->ready) {
        GstQuery* q = gst_query_new_latency();
        if (gst_element_query(p->pipeline, q)) {
          gboolean live = FALSE;
          GstClockTime min = 0, max = 0;
          gst_query_parse_latency(q, &live, &min, &max);
          p->latency = min;
        }
        gst_query_unref(q);
      }
      return;
  }
  if (!p->ready && p->playing && GST_CLOCK_TIME_IS_VALID(p->first_rt)) make_ready(*p);
}

void OutputPlayer::make_ready(Pipe& p) {
  p.clock = gst_element_get_clock(p.pipeline);
  if (p.clock == nullptr) return;
  p.base_time = gst_element_get_base_time(p.pipeline);
  GstQuery* q = gst_query_new_latency();
  if (gst_element_query(p.pipeline, q)) {
    gboolean live = FALSE;
    GstClockTime min = 0, max = 0;
    gst_query_parse_latency(q, &live, &min, &max);
    p.latency = min;
  }
  gst_query_unref(q);
  p.ready = true;
  if (&p != pipe_.get()) return;  // a candidate: placed on the timeline when it takes over
  timeline_.place(static_cast<std::int64_t>(p.first_rt), running_time(p), steady_clock::now());
  applied_linear_ = -1;
  apply_gain();
  if (!p.fallback && !reported_ok_) {
    reported_ok_ = true;
    set_state(OutputState::ok, {});
  }
}

void OutputPlayer::chunk(std::span<const std::int16_t> samples, std::int64_t at) {
  if (!pipe_ || !pipe_->ready) return;  // no pipeline: the timeline runs on, the audio goes nowhere
  Pipe& p = *pipe_;
  const auto length = static_cast<std::int64_t>(samples.size());
  const std::int64_t pts = timeline_.running_time(at);
  if (pts < 0) return;
  GstBuffer* buffer = gst_buffer_new_allocate(nullptr, samples.size_bytes(), nullptr);
  GstMapInfo map;
  if (gst_buffer_map(buffer, &map, GST_MAP_WRITE)) {
    std::copy(samples.begin(), samples.end(), reinterpret_cast<std::int16_t*>(map.data));
    gst_buffer_unmap(buffer, &map);
  }
  GST_BUFFER_PTS(buffer) = static_cast<GstClockTime>(pts);
  GST_BUFFER_DURATION(buffer) =
      static_cast<GstClockTime>(timeline_.running_time(at + length) - pts);
  if (p.pushed_end != at) GST_BUFFER_FLAG_SET(buffer, GST_BUFFER_FLAG_DISCONT);
  gst_app_src_push_buffer(GST_APP_SRC(p.appsrc), buffer);  // takes the buffer
  p.pushed_end = at + length;
}

std::int64_t OutputPlayer::running_time(const Pipe& p) const {
  return static_cast<std::int64_t>(gst_clock_get_time(p.clock)) -
         static_cast<std::int64_t>(p.base_time);
}

std::int64_t OutputPlayer::now_pos() {
  return timeline_.position(steady_clock::now(), pipe_ && pipe_->ready ? running_time(*pipe_) : 0);
}

std::int64_t OutputPlayer::rendered_pos() {
  if (!pipe_ || !pipe_->ready) return timeline_.position(steady_clock::now(), 0);
  return timeline_.heard(steady_clock::now(), running_time(*pipe_),
                         static_cast<std::int64_t>(pipe_->latency));
}

OutputPlayer::PipePtr OutputPlayer::build(const std::string& sink, bool fallback) {
  ensure_gst();
  PipePtr p(new Pipe);
  p->gen = next_gen_++;
  p->fallback = fallback;
  p->created = steady_clock::now();
  if (sink.empty()) throw std::runtime_error("no sink configured");
  // The live appsrc makes the mixer live: it outputs a block every 40 ms on the clock, silence
  // where the appsrc has nothing, so the timeline runs continuously without a source of its own.
  const std::string desc =
      "appsrc name=prog format=time is-live=true min-latency=0 max-latency=-1 ! audiomixer "
      "name=mix discont-wait=0 output-buffer-duration=" +
      std::to_string(samples_to_ns(kBlock).count()) + " ! " + raw_caps() +
      " ! volume name=gain ! audioconvert ! audioresample ! " + sink;
  GError* err = nullptr;
  p->pipeline = gst_parse_launch_full(desc.c_str(), nullptr, GST_PARSE_FLAG_FATAL_ERRORS, &err);
  if (err != nullptr || p->pipeline == nullptr) {
    std::string why = err != nullptr ? err->message : "unknown error";
    if (err != nullptr) g_error_free(err);
    if (p->pipeline != nullptr) gst_object_unref(p->pipeline);
    throw std::runtime_error("bad sink '" + sink + "': " + why);
  }
  gst_object_ref_sink(p->pipeline);
  p->appsrc = gst_bin_get_by_name(GST_BIN(p->pipeline), "prog");
  p->volume = gst_bin_get_by_name(GST_BIN(p->pipeline), "gain");
  GstPtr<GstElement> mix(gst_bin_get_by_name(GST_BIN(p->pipeline), "mix"));
  GstCaps* caps = gst_caps_from_string(raw_caps().c_str());
  g_object_set(p->appsrc, "caps", caps, "stream-type", 0 /* stream */, nullptr);
  gst_caps_unref(caps);

  // An audio device sink's latency is its buffer-time (GStreamer's default: 200 ms). A property
  // the description sets itself stays as it is.
  tune_audio_buffers(p->pipeline, "GstAudioBaseSink",
                     sink.find("buffer-time") == std::string::npos
                         ? std::chrono::microseconds(settings_.sink_buffer).count()
                         : 0,
                     sink.find("latency-time") == std::string::npos
                         ? std::chrono::microseconds(settings_.sink_period).count()
                         : 0);
  // See kBlock: no processing deadline on top of the mixer's block, unless the description sets
  // one.
  if (sink.find("processing-deadline") == std::string::npos) {
    set_processing_deadline(p->pipeline, 0);
  }

  p->threads->priority = settings_.realtime_priority;
  p->threads->realtime = streaming_realtime_;
  GstPtr<GstBus> bus(gst_element_get_bus(p->pipeline));
  gst_bus_set_sync_handler(bus.get(), on_bus,
                           new HookContext{this, p->gen, p->pipeline, p->threads}, delete_context);
  GstPtr<GstPad> mix_src(gst_element_get_static_pad(mix.get(), "src"));
  gst_pad_add_probe(mix_src.get(), GST_PAD_PROBE_TYPE_BUFFER, on_first_buffer,
                    new HookContext{this, p->gen, p->pipeline, p->threads}, delete_context);

  if (gst_element_set_state(p->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    std::string why = "could not start";
    {
      std::lock_guard lock(mu_);
      for (const HookEvent& h : hooks_) {
        if (h.gen == p->gen && h.type == HookEvent::Type::error) {
          why = h.text;
          break;
        }
      }
    }
    destroy(p);
    throw std::runtime_error(why);
  }
  return p;
}

void OutputPlayer::destroy(PipePtr& p) {
  if (!p) return;
  gst_element_set_state(p->pipeline, GST_STATE_NULL);
  if (p->clock != nullptr) gst_object_unref(p->clock);
  if (p->appsrc != nullptr) gst_object_unref(p->appsrc);
  if (p->volume != nullptr) gst_object_unref(p->volume);
  gst_object_unref(p->pipeline);
  p.reset();
}

void OutputPlayer::pipe_failed(const std::string& why) {
  const auto now = steady_clock::now();
  if (pipe_ && pipe_->ready) {
    timeline_.unplace(timeline_.position(now, running_time(*pipe_)), now);  // carries on from here
  }
  const bool was_fallback = pipe_ && pipe_->fallback;
  destroy(pipe_);
  last_error_ = why;
  reporter_.problem({Problem::Kind::sink_failed,
                     {},
                     0,
                     which_,
                     (was_fallback ? "fallback sink failed: " : "") + why});
  if (!was_fallback) {
    backoff_ = backoff_.count() == 0 ? settings_.retry_initial
                                     : std::min(backoff_ * 2, settings_.retry_max);
    retry_at_ = now + backoff_;
    set_state(OutputState::failed, why);
    try {
      pipe_ = build("fakesink sync=true", true);
    } catch (const std::exception&) {
      pipe_.reset();
    }
  }
  if (!pipe_) timeline_.run_steady(now);  // nothing plays at all
}

void OutputPlayer::candidate_failed(const std::string& why) {
  destroy(candidate_);
  last_error_ = why;
  backoff_ = std::min(backoff_ * 2, settings_.retry_max);
  if (backoff_.count() == 0) backoff_ = settings_.retry_initial;
  retry_at_ = steady_clock::now() + backoff_;
  set_state(OutputState::failed, why);
}

void OutputPlayer::maintain_pipes() {
  const auto now = steady_clock::now();
  if (pipe_ && !pipe_->ready && now - pipe_->created > kStartupTimeout) {
    pipe_failed("the sink did not start within 3 s");
  }
  if (pipe_ && pipe_->ready &&
      gst_app_src_get_current_level_bytes(GST_APP_SRC(pipe_->appsrc)) > kStallBytes) {
    pipe_failed("the sink stopped taking audio");
  }
  if (candidate_) {
    if (candidate_->ready) {
      timeline_.take_over(static_cast<std::int64_t>(candidate_->first_rt),
                          running_time(*candidate_), now_pos());
      destroy(pipe_);
      pipe_ = std::move(candidate_);
      backoff_ = {};
      retry_at_.reset();
      applied_linear_ = -1;
      apply_gain();
      set_state(OutputState::ok, {});
    } else if (now - candidate_->created > kStartupTimeout) {
      candidate_failed("the sink did not start within 3 s");
    }
  } else if (retry_at_ && now >= *retry_at_) {
    retry_at_.reset();
    set_state(OutputState::retrying, last_error_);
    try {
      candidate_ = build(config_.sink, false);
    } catch (const std::exception& e) {
      candidate_failed(e.what());
    }
  }
}

steady_clock::time_point OutputPlayer::pipes_deadline(steady_clock::time_point now) const {
  auto deadline = steady_clock::time_point::max();
  if (retry_at_) deadline = std::min(deadline, *retry_at_);
  if (pipe_ && !pipe_->ready) deadline = std::min(deadline, pipe_->created + kStartupTimeout);
  if (candidate_) deadline = std::min(deadline, candidate_->created + kStartupTimeout);
  if (pipe_ && pipe_->ready) deadline = std::min(deadline, now + 1s);  // stall check
  return deadline;
}

void OutputPlayer::apply_streaming_priority() {
  if (pipe_) pipe_->threads->set_realtime(streaming_realtime_);
  if (candidate_) candidate_->threads->set_realtime(streaming_realtime_);
}

void OutputPlayer::apply_gain() {
  double db = gain_db_ + auto_db_;
  bool mute = false;
  // An emergency is for everyone, at night too: quiet hours hold every other announcement down.
  if (config_.quiet_hours && !safety_) {
    const int hour = settings_.local_hour ? settings_.local_hour() : system_local_hour();
    if (config_.quiet_hours->active_at(hour)) {
      if (config_.quiet_hours->cap_db) {
        db = std::min(db, *config_.quiet_hours->cap_db);
      } else {
        mute = true;
      }
    }
  }
  const double linear = std::clamp(std::pow(10.0, db / 20.0), 0.0, 10.0);
  if (!pipe_ || pipe_->volume == nullptr) return;
  if (linear == applied_linear_ && mute == applied_mute_) return;
  g_object_set(pipe_->volume, "volume", linear, "mute", mute ? TRUE : FALSE, nullptr);
  applied_linear_ = linear;
  applied_mute_ = mute;
}

void OutputPlayer::finish_stream() {
  destroy(candidate_);
  if (pipe_ && pipe_->ready) {
    gst_app_src_end_of_stream(GST_APP_SRC(pipe_->appsrc));
    const auto deadline = steady_clock::now() + kEosTimeout;
    while (pipe_ && !pipe_->eos) {
      std::deque<HookEvent> hooks;
      {
        std::unique_lock lock(mu_);
        if (!cv_.wait_until(lock, deadline, [&] { return !hooks_.empty(); })) break;
        hooks.swap(hooks_);
      }
      for (const HookEvent& h : hooks) {
        if (pipe_ && h.gen == pipe_->gen) {
          if (h.type == HookEvent::Type::eos) pipe_->eos = true;
          if (h.type == HookEvent::Type::error) pipe_->eos = true;  // give up waiting
        }
      }
    }
  }
  destroy(pipe_);
}

}  // namespace stopcall::media::detail
