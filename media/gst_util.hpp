// Small RAII helpers over GStreamer/GLib objects, private to media/.
#pragma once

#include <gst/gst.h>

#include <memory>
#include <string>

namespace stopcall::media::detail {

struct GstObjectUnref {
  void operator()(gpointer p) const {
    if (p != nullptr) gst_object_unref(p);
  }
};
template <typename T>
using GstPtr = std::unique_ptr<T, GstObjectUnref>;

struct GstMessageUnref {
  void operator()(GstMessage* m) const {
    if (m != nullptr) gst_message_unref(m);
  }
};
using MessagePtr = std::unique_ptr<GstMessage, GstMessageUnref>;

// "element: message (debug info)" of an ERROR or WARNING message.
std::string describe_message(GstMessage* msg);

// gst_init once; throws when GStreamer cannot initialise.
void ensure_gst();

// Quotes a property value for a gst-launch description.
std::string launch_quote(const std::string& value);

// Sets buffer-time and latency-time (microseconds; 0: leave it) on every element of `pipeline`
// derived from the GType named `base` ("GstAudioBaseSink", "GstAudioBaseSrc"), now and on any
// added later (autoaudiosink/autoaudiosrc create theirs when they start).
void tune_audio_buffers(GstElement* pipeline, const char* base, gint64 buffer_us, gint64 period_us);

// Sets processing-deadline on every sink (GstBaseSink) of `pipeline`, now and on any added later.
void set_processing_deadline(GstElement* pipeline, GstClockTime deadline);

}  // namespace stopcall::media::detail
