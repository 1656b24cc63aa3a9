#include <functional>
#include <memory>

#include <libheif/heif.h>
#include <opencv2/imgproc.hpp>

#include "common/error.h"
#include "image/codecs.h"

namespace iqa {
namespace {

[[noreturn]] void heif_fail(const char* format, const heif_error& e) {
  fail(ErrorCode::Decode, std::string(format) + ": " + (e.message ? e.message : "decode error"));
}

}  // namespace

bool heif_can_decode(bool avif) {
  return heif_have_decoder_for_format(avif ? heif_compression_AV1 : heif_compression_HEVC) != 0;
}

// The primary image through libheif, which applies the container's transformations: the clean
// aperture crop (clap, which undoes the encoder's padding to whole coding blocks) together with
// rotation and mirror (irot/imir). libheif 1.15 cannot apply one without the others, so
// autoOrient false does not change a HEIC/AVIF. `check(width, height)` runs on the header's
// size before any pixel is decoded.
cv::Mat decode_heif(const uint8_t* data, size_t size, const char* format, const std::function<void(uint64_t, uint64_t)>& check) {
  register_quiet_av1_decoder();
  std::unique_ptr<heif_context, void (*)(heif_context*)> ctx(heif_context_alloc(), heif_context_free);
  if (!ctx) fail(ErrorCode::Internal, std::string(format) + ": cannot allocate a decoder");
  heif_error e = heif_context_read_from_memory_without_copy(ctx.get(), data, size, nullptr);
  if (e.code != heif_error_Ok) heif_fail(format, e);
  heif_image_handle* raw_handle = nullptr;
  e = heif_context_get_primary_image_handle(ctx.get(), &raw_handle);
  if (e.code != heif_error_Ok) heif_fail(format, e);
  std::unique_ptr<heif_image_handle, void (*)(const heif_image_handle*)> handle(raw_handle, heif_image_handle_release);
  check(uint64_t(heif_image_handle_get_width(handle.get())), uint64_t(heif_image_handle_get_height(handle.get())));
  bool alpha = heif_image_handle_has_alpha_channel(handle.get()) != 0;
  heif_image* raw_image = nullptr;
  e = heif_decode_image(handle.get(), &raw_image, heif_colorspace_RGB, alpha ? heif_chroma_interleaved_RGBA : heif_chroma_interleaved_RGB, nullptr);
  if (e.code != heif_error_Ok) heif_fail(format, e);
  std::unique_ptr<heif_image, void (*)(const heif_image*)> image(raw_image, heif_image_release);
  int stride = 0;
  const uint8_t* pixels = heif_image_get_plane_readonly(image.get(), heif_channel_interleaved, &stride);
  int w = heif_image_get_width(image.get(), heif_channel_interleaved), h = heif_image_get_height(image.get(), heif_channel_interleaved);
  if (!pixels || w <= 0 || h <= 0) fail(ErrorCode::Decode, std::string(format) + ": no pixels decoded");
  cv::Mat view(h, w, alpha ? CV_8UC4 : CV_8UC3, const_cast<uint8_t*>(pixels), size_t(stride));
  cv::Mat out;
  cv::cvtColor(view, out, alpha ? cv::COLOR_RGBA2BGRA : cv::COLOR_RGB2BGR);
  return out;
}

}  // namespace iqa
