// Our AV1 plugin (native/core/image/heif_av1_decoder.cpp) against libheif's own dav1d and aom
// plugins, on the primary image's RGB(A) bytes, in one process.
//
//   heif_plugin_parity < list-of-avif-paths
// prints one line per file and a JSON summary {"files", "identical", "mismatched"}.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include <libheif/heif.h>

#include "image/codecs.h"

namespace {

// The interleaved RGB(A) bytes of the primary image through the decoder `id`; empty on error.
std::vector<uint8_t> decode_with(const std::vector<char>& bytes, const char* id) {
  std::vector<uint8_t> out;
  heif_context* ctx = heif_context_alloc();
  heif_image_handle* handle = nullptr;
  heif_decoding_options* options = heif_decoding_options_alloc();
  options->decoder_id = id;
  if (heif_context_read_from_memory_without_copy(ctx, bytes.data(), bytes.size(), nullptr).code == heif_error_Ok &&
      heif_context_get_primary_image_handle(ctx, &handle).code == heif_error_Ok) {
    bool alpha = heif_image_handle_has_alpha_channel(handle) != 0;
    heif_image* image = nullptr;
    if (heif_decode_image(handle, &image, heif_colorspace_RGB, alpha ? heif_chroma_interleaved_RGBA : heif_chroma_interleaved_RGB, options).code == heif_error_Ok) {
      int stride = 0;
      const uint8_t* p = heif_image_get_plane_readonly(image, heif_channel_interleaved, &stride);
      int w = heif_image_get_width(image, heif_channel_interleaved), h = heif_image_get_height(image, heif_channel_interleaved);
      size_t row = size_t(w) * (alpha ? 4 : 3);
      for (int y = 0; y < h; ++y) out.insert(out.end(), p + size_t(y) * stride, p + size_t(y) * stride + row);
      heif_image_release(image);
    }
    heif_image_handle_release(handle);
  }
  heif_decoding_options_free(options);
  heif_context_free(ctx);
  return out;
}

}  // namespace

int main() {
  iqa::register_quiet_av1_decoder();
  std::string path;
  int files = 0, identical = 0, mismatched = 0;
  while (std::getline(std::cin, path)) {
    if (path.empty()) continue;
    std::ifstream in(path, std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    ++files;
    std::vector<uint8_t> ours = decode_with(bytes, "iqa-dav1d"), dav1d = decode_with(bytes, "dav1d"), aom = decode_with(bytes, "aom");
    bool same = !ours.empty() && ours == dav1d && ours == aom;
    (same ? identical : mismatched)++;
    std::printf("%s %s: %zu bytes; libheif's dav1d %s, aom %s\n", same ? "ok" : "MISMATCH", path.c_str(), ours.size(),
                ours == dav1d ? "identical" : "differs", ours == aom ? "identical" : "differs");
  }
  std::printf("{\"files\": %d, \"identical\": %d, \"mismatched\": %d}\n", files, identical, mismatched);
  return mismatched == 0 && files > 0 ? 0 : 1;
}
