// An AV1 decoder plugin for libheif over dav1d, registered ahead of libheif's own dav1d plugin.
// Why: libheif's plugin keeps dav1d's default logger, which writes "Error parsing OBU data" and
// the like to the process's stderr on a corrupt AVIF, and libheif 1.15 has no option to replace
// it (decoder_id in heif_decoding_options does not reach alpha planes or grid tiles). This
// plugin is the same decode (dav1d_send_data / dav1d_get_picture, the planes copied as they
// come, the sequence header's colour description as the image's nclx profile, as libheif's
// plugin does), with dav1d's messages kept: the last one becomes the error's message.
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>

#include <dav1d/dav1d.h>
#include <libheif/heif.h>
#include <libheif/heif_plugin.h>

#include "image/codecs.h"

namespace iqa {
namespace {

// Above libheif's dav1d (150) and aom (100) plugins.
constexpr int kPriority = 200;
// libheif's own limit (heif_limits.h): 32768 x 32768.
constexpr unsigned kFrameSizeLimit = 32768u * 32768u;

// The message of the failing decode on this thread: libheif copies a plugin's error message
// only after it has freed the decoder, so it must outlive the decoder.
thread_local std::string last_message;

struct Decoder {
  Dav1dContext* context = nullptr;
  Dav1dData data{};
  std::string log;  // dav1d's last message
};

void keep_log(void* cookie, const char* format, va_list args) {
  char line[256];
  std::vsnprintf(line, sizeof line, format, args);
  std::string& log = static_cast<Decoder*>(cookie)->log;
  log = line;
  while (!log.empty() && (log.back() == '\n' || log.back() == '\r')) log.pop_back();
}

heif_error ok() { return {heif_error_Ok, heif_suberror_Unspecified, ""}; }

heif_error plugin_error(const Decoder& d, const char* what) {
  last_message = d.log.empty() ? std::string(what) : std::string(what) + ": " + d.log;
  return {heif_error_Decoder_plugin_error, heif_suberror_Unspecified, last_message.c_str()};
}

const char* plugin_name() { return "iqa-node dav1d (quiet)"; }

int supports(heif_compression_format format) { return format == heif_compression_AV1 ? kPriority : 0; }

heif_error new_decoder(void** out) {
  auto* d = new Decoder();
  Dav1dSettings settings;
  dav1d_default_settings(&settings);
  settings.frame_size_limit = kFrameSizeLimit;
  settings.all_layers = 0;
  settings.logger.cookie = d;
  settings.logger.callback = keep_log;
  if (dav1d_open(&d->context, &settings) != 0) {
    delete d;
    return {heif_error_Decoder_plugin_error, heif_suberror_Unspecified, "dav1d_open failed"};
  }
  *out = d;
  return ok();
}

void free_decoder(void* raw) {
  auto* d = static_cast<Decoder*>(raw);
  if (!d) return;
  if (d->data.sz) dav1d_data_unref(&d->data);
  if (d->context) dav1d_close(&d->context);
  delete d;
}

void set_strict(void*, int) {}

heif_error push_data(void* raw, const void* bytes, size_t size) {
  auto* d = static_cast<Decoder*>(raw);
  if (d->data.sz) return {heif_error_Usage_error, heif_suberror_Unspecified, "data pushed twice"};
  // dav1d_send_data prints to stderr (its argument checks bypass the logger) on empty data.
  if (size == 0) return {heif_error_Invalid_input, heif_suberror_Unspecified, "empty AV1 data"};
  uint8_t* dst = dav1d_data_create(&d->data, size);
  if (!dst) return {heif_error_Memory_allocation_error, heif_suberror_Unspecified, "out of memory"};
  std::memcpy(dst, bytes, size);
  return ok();
}

heif_error decode(void* raw, heif_image** out) {
  auto* d = static_cast<Decoder*>(raw);
  Dav1dPicture frame{};
  for (bool flushed = false;;) {
    if (d->data.sz) {
      int sent = dav1d_send_data(d->context, &d->data);
      if (sent < 0 && sent != DAV1D_ERR(EAGAIN)) return plugin_error(*d, "AV1 data rejected");
    }
    int res = dav1d_get_picture(d->context, &frame);
    if (res == DAV1D_ERR(EAGAIN) && !flushed) {
      flushed = d->data.sz == 0;
      continue;
    }
    if (res < 0) return plugin_error(*d, "no AV1 frame decoded");
    break;
  }
  struct PictureRef {
    Dav1dPicture* p;
    ~PictureRef() { dav1d_picture_unref(p); }
  } unref{&frame};

  heif_chroma chroma;
  heif_colorspace colorspace = heif_colorspace_YCbCr;
  switch (frame.p.layout) {
    case DAV1D_PIXEL_LAYOUT_I420: chroma = heif_chroma_420; break;
    case DAV1D_PIXEL_LAYOUT_I422: chroma = heif_chroma_422; break;
    case DAV1D_PIXEL_LAYOUT_I444: chroma = heif_chroma_444; break;
    case DAV1D_PIXEL_LAYOUT_I400: chroma = heif_chroma_monochrome; colorspace = heif_colorspace_monochrome; break;
    default: return plugin_error(*d, "unknown AV1 pixel layout");
  }
  heif_image* img = nullptr;
  heif_error err = heif_image_create(frame.p.w, frame.p.h, colorspace, chroma, &img);
  if (err.code != heif_error_Ok) return err;

  // Unknown code points fall back to "unspecified", as in libheif's plugin (not strict).
  heif_color_profile_nclx* nclx = heif_nclx_color_profile_alloc();
  if (nclx) {
    heif_nclx_color_profile_set_color_primaries(nclx, uint16_t(frame.seq_hdr->pri));
    heif_nclx_color_profile_set_transfer_characteristics(nclx, uint16_t(frame.seq_hdr->trc));
    heif_nclx_color_profile_set_matrix_coefficients(nclx, uint16_t(frame.seq_hdr->mtrx));
    nclx->full_range_flag = frame.seq_hdr->color_range != 0;
    heif_image_set_nclx_color_profile(img, nclx);
    heif_nclx_color_profile_free(nclx);
  }

  const heif_channel planes[3] = {heif_channel_Y, heif_channel_Cb, heif_channel_Cr};
  int count = chroma == heif_chroma_monochrome ? 1 : 3;
  int sx = chroma == heif_chroma_444 ? 0 : 1, sy = chroma == heif_chroma_420 ? 1 : 0;
  int bytes_per_sample = (frame.p.bpc + 7) / 8;
  for (int c = 0; c < count; ++c) {
    int w = c == 0 ? frame.p.w : (frame.p.w + sx) >> sx;
    int h = c == 0 ? frame.p.h : (frame.p.h + sy) >> sy;
    err = heif_image_add_plane(img, planes[c], w, h, frame.p.bpc);
    if (err.code != heif_error_Ok) {
      heif_image_release(img);
      return err;
    }
    int dst_stride = 0;
    uint8_t* dst = heif_image_get_plane(img, planes[c], &dst_stride);
    const auto* src = static_cast<const uint8_t*>(frame.data[c]);
    ptrdiff_t src_stride = frame.stride[c > 0 ? 1 : 0];
    for (int y = 0; y < h; ++y) std::memcpy(dst + ptrdiff_t(y) * dst_stride, src + y * src_stride, size_t(w) * bytes_per_sample);
  }
  *out = img;
  return ok();
}

const heif_decoder_plugin plugin{
    3, plugin_name, nullptr, nullptr, supports, new_decoder, free_decoder, push_data, decode, set_strict, "iqa-dav1d",
};

}  // namespace

void register_quiet_av1_decoder() {
  static std::once_flag once;
  std::call_once(once, [] { heif_register_decoder_plugin(&plugin); });
}

}  // namespace iqa
