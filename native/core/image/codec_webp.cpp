#include <cstring>

#include <opencv2/imgproc.hpp>
#include <webp/demux.h>

#include "common/error.h"
#include "image/codecs.h"

namespace iqa {

bool is_animated_webp(const uint8_t* d, size_t n) {
  return n >= 21 && std::memcmp(d, "RIFF", 4) == 0 && std::memcmp(d + 8, "WEBPVP8X", 8) == 0 && (d[20] & 0x02) != 0;
}

// cv::imdecode cannot read an animated WebP; libwebpdemux composes its first frame onto the
// (transparent) canvas, as Pillow's and browsers' first frame.
cv::Mat decode_webp_first_frame(const uint8_t* data, size_t size) {
  WebPData in{data, size};
  WebPAnimDecoderOptions opts;
  if (!WebPAnimDecoderOptionsInit(&opts)) fail(ErrorCode::Internal, "WebP: decoder version mismatch");
  opts.color_mode = MODE_BGRA;
  opts.use_threads = 0;
  WebPAnimDecoder* dec = WebPAnimDecoderNew(&in, &opts);
  if (!dec) fail(ErrorCode::Decode, "WebP: cannot parse the animation");
  WebPAnimInfo info{};
  uint8_t* frame = nullptr;
  int timestamp = 0;
  if (!WebPAnimDecoderGetInfo(dec, &info) || info.frame_count == 0 || !WebPAnimDecoderGetNext(dec, &frame, &timestamp)) {
    WebPAnimDecoderDelete(dec);
    fail(ErrorCode::Decode, "WebP: cannot decode the first frame");
  }
  cv::Mat bgra(int(info.canvas_height), int(info.canvas_width), CV_8UC4, frame);
  cv::Mat out;
  bool has_alpha = (data[20] & 0x10) != 0;  // VP8X alpha flag
  if (has_alpha) out = bgra.clone();
  else cv::cvtColor(bgra, out, cv::COLOR_BGRA2BGR);
  WebPAnimDecoderDelete(dec);
  return out;
}

}  // namespace iqa
