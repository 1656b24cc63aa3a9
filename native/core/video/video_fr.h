// Per-frame full-reference scores between two yuv420p frames, computed the way ffmpeg's psnr
// and ssim filters compute them (so that their numbers can be reproduced), plus the image
// metrics' MS-SSIM and GMSD on the luma plane.
#pragma once
#include <opencv2/core.hpp>

#include "video/frame_source.h"

namespace iqa {

struct PlaneScores {
  double y = 0, u = 0, v = 0, all = 0;  // PSNR: all = from the area-weighted mean MSE; SSIM: area-weighted mean
};

// Mean squared error of each plane and their area-weighted mean (ffmpeg's mse_avg).
PlaneScores video_mse(const VideoFrame& ref, const VideoFrame& dist);
// 10 log10(255² / mse), +inf when mse is 0 (as ffmpeg reports identical frames).
double psnr_from_mse(double mse);
// ffmpeg's ssim filter: 8x8 windows stepped by 4 (sums of 4x4 blocks), constants for 8 bits,
// each window's SSIM in float as the filter computes it, planes weighted by area.
double ffmpeg_ssim_plane(const cv::Mat& a, const cv::Mat& b);
PlaneScores video_ssim(const VideoFrame& ref, const VideoFrame& dist);

}  // namespace iqa
