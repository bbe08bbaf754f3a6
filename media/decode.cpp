#include "media/decode.hpp"

#include <gst/app/gstappsink.h>
#include <gst/gst.h>

#include <cstring>
#include <stdexcept>
#include <string>

#include "media/gst_util.hpp"

namespace stopcall::media {

using detail::GstPtr;
using detail::MessagePtr;

Samples decode_clip(const std::filesystem::path& file, std::chrono::milliseconds timeout,
                    std::chrono::seconds max_length) {
  detail::ensure_gst();
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    throw std::runtime_error("clip " + file.string() + " does not exist");
  }
  const std::string desc =
      "filesrc name=src ! decodebin ! audioconvert ! audioresample ! "
      "audio/x-raw,format=S16LE,channels=1,layout=interleaved,rate=" +
      std::to_string(kRate) + " ! appsink name=out sync=false";
  GError* err = nullptr;
  GstPtr<GstElement> pipeline(gst_parse_launch(desc.c_str(), &err));
  if (err != nullptr) {
    std::string why = err->message;
    g_error_free(err);
    throw std::runtime_error("cannot build the decoder: " + why);
  }
  GstPtr<GstElement> src(gst_bin_get_by_name(GST_BIN(pipeline.get()), "src"));
  GstPtr<GstElement> sink(gst_bin_get_by_name(GST_BIN(pipeline.get()), "out"));
  g_object_set(src.get(), "location", file.c_str(), nullptr);
  GstPtr<GstBus> bus(gst_element_get_bus(pipeline.get()));

  auto stop = [&] { gst_element_set_state(pipeline.get(), GST_STATE_NULL); };
  auto error_text = [&]() -> std::string {
    MessagePtr msg(gst_bus_pop_filtered(bus.get(), GST_MESSAGE_ERROR));
    return msg ? detail::describe_message(msg.get()) : std::string("no detail");
  };
  if (gst_element_set_state(pipeline.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    std::string why = error_text();
    stop();
    throw std::runtime_error("cannot decode " + file.string() + ": " + why);
  }

  Samples pcm;
  const auto max_samples = static_cast<std::size_t>(max_length.count()) * kRate;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (MessagePtr msg{gst_bus_pop_filtered(bus.get(), GST_MESSAGE_ERROR)}) {
      std::string why = detail::describe_message(msg.get());
      stop();
      throw std::runtime_error("cannot decode " + file.string() + ": " + why);
    }
    GstSample* sample = gst_app_sink_try_pull_sample(GST_APP_SINK(sink.get()), 20 * GST_MSECOND);
    if (sample == nullptr) {
      if (gst_app_sink_is_eos(GST_APP_SINK(sink.get()))) break;
      if (std::chrono::steady_clock::now() > deadline) {
        stop();
        throw std::runtime_error("decoding " + file.string() + " timed out");
      }
      continue;
    }
    GstBuffer* buffer = gst_sample_get_buffer(sample);
    GstMapInfo map;
    if (buffer != nullptr && gst_buffer_map(buffer, &map, GST_MAP_READ)) {
      const std::size_t n = map.size / 2;
      const std::size_t old = pcm.size();
      pcm.resize(old + n);
      std::memcpy(pcm.data() + old, map.data, n * 2);
      gst_buffer_unmap(buffer, &map);
    }
    gst_sample_unref(sample);
    if (pcm.size() > max_samples) {
      stop();
      throw std::runtime_error("clip " + file.string() + " is longer than " +
                               std::to_string(max_length.count()) + " s");
    }
  }
  stop();
  if (pcm.empty()) throw std::runtime_error("clip " + file.string() + " has no audio");
  return pcm;
}

}  // namespace stopcall::media
