#include "media/gst_util.hpp"

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

}  // namespace stopcall::media::detail
