#include <csetjmp>
#include <cstdio>

#include <jpeglib.h>

#include "common/error.h"
#include "image/codecs.h"

namespace iqa {
namespace {

constexpr size_t kMaxWarnings = 4;

struct ErrorManager {
  jpeg_error_mgr pub;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  CodecWarnings* warnings;
};

void on_error(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  longjmp(err->jump, 1);
}

// Replaces libjpeg's output_message, which writes to stderr.
void on_message(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  if (err->warnings->size() >= kMaxWarnings) return;
  char buf[JMSG_LENGTH_MAX];
  (*cinfo->err->format_message)(cinfo, buf);
  err->warnings->push_back(std::string("JPEG: ") + buf);
}

// OpenCV's icvCvt_CMYK2BGR_8u_C4C3R: libjpeg returns Adobe's inverted CMYK, so this is
// channel * K / 255 (with OpenCV's integer rounding).
void cmyk_to_bgr(const uint8_t* cmyk, uint8_t* bgr, int width) {
  for (int i = 0; i < width; ++i, cmyk += 4, bgr += 3) {
    int c = cmyk[0], m = cmyk[1], y = cmyk[2], k = cmyk[3];
    c = k - ((255 - c) * k >> 8);
    m = k - ((255 - m) * k >> 8);
    y = k - ((255 - y) * k >> 8);
    bgr[2] = uint8_t(c);
    bgr[1] = uint8_t(m);
    bgr[0] = uint8_t(y);
  }
}

}  // namespace

cv::Mat decode_jpeg(const uint8_t* data, size_t size, CodecWarnings& warnings, int scale_denom) {
  jpeg_decompress_struct cinfo{};
  ErrorManager err{};
  err.warnings = &warnings;
  cinfo.err = jpeg_std_error(&err.pub);
  err.pub.error_exit = on_error;
  err.pub.output_message = on_message;
  // Everything that must survive a longjmp lives outside this frame's registers.
  cv::Mat out;
  std::vector<uint8_t> row;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    fail(ErrorCode::Decode, std::string("JPEG: ") + err.message);
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, static_cast<unsigned long>(size));
  jpeg_read_header(&cinfo, TRUE);
  int comps = cinfo.num_components;
  if (comps == 1) cinfo.out_color_space = JCS_GRAYSCALE;
  else if (comps == 3) cinfo.out_color_space = JCS_EXT_BGR;
  else if (comps == 4) cinfo.out_color_space = JCS_CMYK;  // CMYK and YCCK both arrive as CMYK
  else {
    jpeg_destroy_decompress(&cinfo);
    fail(ErrorCode::Decode, "JPEG: unsupported component count " + std::to_string(comps));
  }
  cinfo.scale_num = 1;
  cinfo.scale_denom = unsigned(scale_denom);
  jpeg_start_decompress(&cinfo);
  out.create(int(cinfo.output_height), int(cinfo.output_width), comps == 1 ? CV_8UC1 : CV_8UC3);
  if (comps == 4) row.resize(size_t(cinfo.output_width) * 4);
  while (cinfo.output_scanline < cinfo.output_height) {
    int y = int(cinfo.output_scanline);
    JSAMPROW dst = comps == 4 ? row.data() : out.ptr<uint8_t>(y);
    jpeg_read_scanlines(&cinfo, &dst, 1);
    if (comps == 4) cmyk_to_bgr(row.data(), out.ptr<uint8_t>(y), int(cinfo.output_width));
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return out;
}

}  // namespace iqa
