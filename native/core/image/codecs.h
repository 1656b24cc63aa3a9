// JPEG and PNG decoded through libjpeg-turbo and libpng directly, with their own error and
// warning handlers: OpenCV's decoders leave libjpeg's output_message and libpng's default
// handlers in place, which print to the process's stderr. The output is what
// cv::imdecode(IMREAD_UNCHANGED | IMREAD_ANYDEPTH) returns, bit for bit (checked by
// native/tools/decode_parity.cpp against OpenCV itself).
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace iqa {

// Messages a codec reported without failing (libjpeg "Corrupt JPEG data: ...", libpng
// warnings); at most a few are kept.
using CodecWarnings = std::vector<std::string>;

// JPEG: grey stays grey, YCbCr/RGB becomes BGR, CMYK/YCCK becomes BGR as OpenCV converts it.
// Throws Error(Decode, "JPEG: <libjpeg's message>") on failure.
// scale_denom 1, 2, 4 or 8: libjpeg-turbo's DCT scaling (each side ceil(side / scale_denom)).
cv::Mat decode_jpeg(const uint8_t* data, size_t size, CodecWarnings& warnings, int scale_denom = 1);

// PNG: grey (1/2/4/8-bit to 8, 16 kept), palette and tRNS expanded, grey+alpha as BGRA, RGB(A)
// as BGR(A), 16-bit kept. Throws Error(Decode, "PNG: <libpng's message>") on failure.
cv::Mat decode_png(const uint8_t* data, size_t size, CodecWarnings& warnings);

// Animated WebP (VP8X with the animation flag): its first frame, BGRA when the file has alpha,
// else BGR. Throws Error(Decode, ...) on failure.
bool is_animated_webp(const uint8_t* data, size_t size);
cv::Mat decode_webp_first_frame(const uint8_t* data, size_t size);

// GIF: the first frame (giflib), BGRA when it has a transparent colour, else BGR.
bool is_gif(const uint8_t* data, size_t size);
cv::Mat decode_gif_first_frame(const uint8_t* data, size_t size);

// HEIC and AVIF (libheif with Debian's libde265 and dav1d/aom plugins): the primary image,
// BGRA when it has alpha, else BGR; `check` sees the header size before decoding.
bool heif_can_decode(bool avif);
cv::Mat decode_heif(const uint8_t* data, size_t size, const char* format, const std::function<void(uint64_t, uint64_t)>& check);

// Puts our dav1d plugin (heif_av1_decoder.cpp) ahead of libheif's own, once per process, so that
// AV1 decoding writes nothing to stderr and dav1d's message goes into the error.
void register_quiet_av1_decoder();

}  // namespace iqa
