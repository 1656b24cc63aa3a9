// NIQE pristine multivariate Gaussian model: the mean (36) and covariance (36x36) of the patch
// features of pristine images. Read from
//   - NumPy .npz with mu_pris_param (1x36) and cov_pris_param (36x36) (BasicSR/pyiqa's copy of
//     the release's model), via libzip;
//   - MATLAB .mat (v4, v5 or v7.3) with mu_prisparam / cov_prisparam (the release's
//     modelparameters.mat), via matio;
//   - this project's format, written by `iqa train niqe`: JSON (or YAML/XML) that
//     cv::FileStorage reads, {"format": "iqa-niqe-model", "version": 1, "mu": [36],
//     "cov": [1296, row-major], ...provenance}.
// The format is recognised from the file's first bytes. Any unreadable, incomplete or
// inconsistent model fails with ERR_MODEL.
#pragma once
#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace iqa::niqe {

struct PristineModel {
  cv::Mat mu;   // 1 x 36, CV_64F
  cv::Mat cov;  // 36 x 36, CV_64F
};

PristineModel load_pristine_model(const std::string& path);

// Checks sizes, finiteness and symmetry; throws ERR_MODEL naming `source` otherwise.
void validate_pristine_model(const PristineModel& m, const std::string& source);

}  // namespace iqa::niqe
