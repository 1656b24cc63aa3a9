#include "image/exif.h"

#include <cstring>

namespace iqa {
namespace {

constexpr uint16_t kOrientationTag = 274;
constexpr int kMaxSegments = 4096;  // JPEG segments / PNG and WebP chunks looked at

uint32_t rd16(const uint8_t* p, bool le) { return le ? uint32_t(p[0]) | (uint32_t(p[1]) << 8) : (uint32_t(p[0]) << 8) | p[1]; }
uint32_t rd32(const uint8_t* p, bool le) {
  return le ? uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24)
            : (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | p[3];
}

// Orientation from a TIFF structure (EXIF payload or a TIFF file): tag 274 of IFD0, type SHORT.
int tiff_orientation(const uint8_t* d, size_t n) {
  if (n >= 6 && std::memcmp(d, "Exif\0\0", 6) == 0) { d += 6; n -= 6; }  // some writers keep the APP1 prefix
  if (n < 8) return 1;
  bool le;
  if (d[0] == 'I' && d[1] == 'I' && rd16(d + 2, true) == 42) le = true;
  else if (d[0] == 'M' && d[1] == 'M' && rd16(d + 2, false) == 42) le = false;
  else return 1;
  uint64_t ifd = rd32(d + 4, le);
  if (ifd + 2 > n) return 1;
  uint32_t count = rd16(d + ifd, le);
  for (uint32_t k = 0; k < count; ++k) {
    uint64_t e = ifd + 2 + 12ULL * k;
    if (e + 12 > n) return 1;
    if (rd16(d + e, le) != kOrientationTag) continue;
    if (rd16(d + e + 2, le) != 3 || rd32(d + e + 4, le) < 1) return 1;  // SHORT, count >= 1
    uint32_t v = rd16(d + e + 8, le);
    return v >= 1 && v <= 8 ? int(v) : 1;
  }
  return 1;
}

int jpeg_orientation(const uint8_t* d, size_t n) {
  size_t i = 2;
  for (int seg = 0; seg < kMaxSegments && i + 4 <= n; ++seg) {
    if (d[i] != 0xFF) return 1;
    uint8_t m = d[i + 1];
    if (m == 0xFF) { ++i; continue; }
    if (m == 0xD8 || (m >= 0xD0 && m <= 0xD7) || m == 0x01) { i += 2; continue; }
    if (m == 0xDA || m == 0xD9) return 1;  // scan data: no more metadata segments
    size_t len = (size_t(d[i + 2]) << 8) | d[i + 3];
    if (len < 2 || i + 2 + len > n) return 1;
    if (m == 0xE1 && len >= 8 && std::memcmp(d + i + 4, "Exif\0\0", 6) == 0)
      return tiff_orientation(d + i + 10, len - 8);
    i += 2 + len;
  }
  return 1;
}

int png_orientation(const uint8_t* d, size_t n) {
  size_t i = 8;
  for (int seg = 0; seg < kMaxSegments && i + 12 <= n; ++seg) {
    size_t len = rd32(d + i, false);
    const uint8_t* type = d + i + 4;
    if (len > n - i - 12) return 1;
    // As OpenCV and browsers: only an eXIf before the image data counts.
    if (std::memcmp(type, "IDAT", 4) == 0 || std::memcmp(type, "IEND", 4) == 0) return 1;
    if (std::memcmp(type, "eXIf", 4) == 0) return tiff_orientation(d + i + 8, len);
    i += 12 + len;
  }
  return 1;
}

int webp_orientation(const uint8_t* d, size_t n) {
  size_t i = 12;
  for (int seg = 0; seg < kMaxSegments && i + 8 <= n; ++seg) {
    size_t len = rd32(d + i + 4, true);
    if (len > n - i - 8) return 1;
    if (std::memcmp(d + i, "EXIF", 4) == 0) return tiff_orientation(d + i + 8, len);
    i += 8 + len + (len & 1);
  }
  return 1;
}

}  // namespace

int exif_orientation(const uint8_t* d, size_t n) {
  if (d == nullptr) return 1;
  if (n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF) return jpeg_orientation(d, n);
  if (n >= 8 && std::memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0) return png_orientation(d, n);
  if (n >= 12 && std::memcmp(d, "RIFF", 4) == 0 && std::memcmp(d + 8, "WEBP", 4) == 0) return webp_orientation(d, n);
  if (n >= 8 && (std::memcmp(d, "II*\0", 4) == 0 || std::memcmp(d, "MM\0*", 4) == 0)) return tiff_orientation(d, n);
  return 1;
}

void apply_orientation(cv::Mat& img, int orientation) {
  switch (orientation) {
    case 2: cv::flip(img, img, 1); break;
    case 3: cv::flip(img, img, -1); break;
    case 4: cv::flip(img, img, 0); break;
    case 5: cv::transpose(img, img); break;
    case 6: cv::transpose(img, img); cv::flip(img, img, 1); break;
    case 7: cv::transpose(img, img); cv::flip(img, img, -1); break;
    case 8: cv::transpose(img, img); cv::flip(img, img, 0); break;
    default: break;
  }
}

int inverse_orientation(int orientation) {
  if (orientation == 6) return 8;
  if (orientation == 8) return 6;
  return orientation;
}

}  // namespace iqa
