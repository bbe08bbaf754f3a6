#include "media/gst_util.hpp"

#include <gst/base/gstbasesink.h>

#include <stdexcept>

namespace stopcall::media::detail {

std::string describe_message(GstMessage* msg) {
  GError* err = nullptr;
  gchar* debug = nullptr;
  if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
    gst_message_parse_error(msg, &err, &debug);
  } else if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_WARNING) {
    gst_message_parse_warning(msg, &err, &debug);
  } else {
    return GST_MESSAGE_TYPE_NAME(msg);
  }
  std::string out = GST_MESSAGE_SRC_NAME(msg) ? GST_MESSAGE_SRC_NAME(msg) : "?";
  out += ": ";
  out += err != nullptr ? err->message : "unknown error";
  if (debug != nullptr) {
    out += " (";
    out += debug;
    out += ")";
  }
  if (err != nullptr) g_error_free(err);
  g_free(debug);
  return out;
}

void ensure_gst() {
  GError* err = nullptr;
  if (!gst_init_check(nullptr, nullptr, &err)) {
    std::string why = err != nullptr ? err->message : "unknown error";
    if (err != nullptr) g_error_free(err);
    throw std::runtime_error("GStreamer failed to initialise: " + why);
  }
}

std::string launch_quote(const std::string& value) {
  std::string out = "\"";
  for (char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

namespace {

struct AudioTuning {
  std::string base;
  gint64 buffer_us = 0;
  gint64 period_us = 0;
};

void delete_tuning(gpointer p, GClosure*) {
  delete static_cast<AudioTuning*>(p);
}

void tune(GstElement* element, const AudioTuning& t) {
  // Looked up each time: the type exists once an audio plugin has been loaded.
  const GType base = g_type_from_name(t.base.c_str());
  if (base == 0 || !g_type_is_a(G_OBJECT_TYPE(element), base)) return;
  if (t.buffer_us > 0) g_object_set(element, "buffer-time", t.buffer_us, nullptr);
  if (t.period_us > 0) g_object_set(element, "latency-time", t.period_us, nullptr);
}

void on_deep_element_added(GstBin*, GstBin*, GstElement* element, gpointer data) {
  tune(element, *static_cast<const AudioTuning*>(data));
}

void set_deadline(GstElement* element, GstClockTime deadline) {
  if (GST_IS_BASE_SINK(element)) g_object_set(element, "processing-deadline", deadline, nullptr);
}

void on_deep_sink_added(GstBin*, GstBin*, GstElement* element, gpointer data) {
  set_deadline(element, *static_cast<const GstClockTime*>(data));
}

void delete_deadline(gpointer p, GClosure*) {
  delete static_cast<GstClockTime*>(p);
}

}  // namespace

void tune_audio_buffers(GstElement* pipeline, const char* base, gint64 buffer_us,
                        gint64 period_us) {
  if (buffer_us <= 0 && period_us <= 0) return;
  const AudioTuning tuning{base, buffer_us, period_us};
  GstIterator* it = gst_bin_iterate_recurse(GST_BIN(pipeline));
  GValue item = G_VALUE_INIT;
  while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    tune(GST_ELEMENT(g_value_get_object(&item)), tuning);
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(it);
  g_signal_connect_data(pipeline, "deep-element-added", G_CALLBACK(on_deep_element_added),
                        new AudioTuning(tuning), delete_tuning, GConnectFlags{});
}

void set_processing_deadline(GstElement* pipeline, GstClockTime deadline) {
  GstIterator* it = gst_bin_iterate_recurse(GST_BIN(pipeline));
  GValue item = G_VALUE_INIT;
  while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    set_deadline(GST_ELEMENT(g_value_get_object(&item)), deadline);
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(it);
  g_signal_connect_data(pipeline, "deep-element-added", G_CALLBACK(on_deep_sink_added),
                        new GstClockTime(deadline), delete_deadline, GConnectFlags{});
}

}  // namespace stopcall::media::detail
