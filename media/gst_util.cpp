#include "media/gst_util.hpp"

#include <gst/base/gstbasesink.h>

#include <functional>
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

void tune(GstElement* element, const AudioTuning& t) {
  // Looked up each time: the type exists once an audio plugin has been loaded.
  const GType base = g_type_from_name(t.base.c_str());
  if (base == 0 || !g_type_is_a(G_OBJECT_TYPE(element), base)) return;
  if (t.buffer_us > 0) g_object_set(element, "buffer-time", t.buffer_us, nullptr);
  if (t.period_us > 0) g_object_set(element, "latency-time", t.period_us, nullptr);
}

using ElementHook = std::function<void(GstElement*)>;

void on_deep_element_added(GstBin*, GstBin*, GstElement* element, gpointer data) {
  (*static_cast<const ElementHook*>(data))(element);
}

void delete_hook(gpointer p, GClosure*) {
  delete static_cast<ElementHook*>(p);
}

// Calls `hook` on every element of `pipeline`, nested bins included, now and on any element added
// later (autoaudiosink/autoaudiosrc create theirs when they start).
void on_every_element(GstElement* pipeline, ElementHook hook) {
  GstIterator* it = gst_bin_iterate_recurse(GST_BIN(pipeline));
  GValue item = G_VALUE_INIT;
  while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    hook(GST_ELEMENT(g_value_get_object(&item)));
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(it);
  g_signal_connect_data(pipeline, "deep-element-added", G_CALLBACK(on_deep_element_added),
                        new ElementHook(std::move(hook)), delete_hook, GConnectFlags{});
}

}  // namespace

void tune_audio_buffers(GstElement* pipeline, const char* base, gint64 buffer_us,
                        gint64 period_us) {
  if (buffer_us <= 0 && period_us <= 0) return;
  on_every_element(pipeline, [tuning = AudioTuning{base, buffer_us, period_us}](GstElement* e) {
    tune(e, tuning);
  });
}

void set_processing_deadline(GstElement* pipeline, GstClockTime deadline) {
  on_every_element(pipeline, [deadline](GstElement* e) {
    if (GST_IS_BASE_SINK(e)) g_object_set(e, "processing-deadline", deadline, nullptr);
  });
}

}  // namespace stopcall::media::detail
