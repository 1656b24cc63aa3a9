#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace iqa {
// Encodes a canonical image as png, jpeg, webp, bmp or tiff (cv::imencode). quality: JPEG/WebP 1-100.
std::vector<uint8_t> encode_image(const cv::Mat& img, const std::string& format, int quality);
}  // namespace iqa
