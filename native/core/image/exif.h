// EXIF orientation: where the tag lives in each container and how the pixels turn.
#pragma once
#include <cstddef>
#include <cstdint>

#include <opencv2/core.hpp>

namespace iqa {

// The EXIF orientation (1..8) stored in a JPEG APP1 segment, a PNG eXIf chunk (before IDAT),
// a WebP EXIF chunk or a TIFF's first IFD; 1 when there is none or it is malformed. Reads only
// inside [data, data + size) and never more than a bounded number of segments or entries.
int exif_orientation(const uint8_t* data, size_t size);

// Turns stored pixels into display orientation, as OpenCV's ApplyExifOrientation (flip and
// transpose, exact): 2 mirror, 3 rotate 180, 4 flip, 5 transpose, 6 rotate 90 clockwise,
// 7 transverse, 8 rotate 90 counter-clockwise. Values outside 2..8 leave the image as is.
void apply_orientation(cv::Mat& img, int orientation);

// The orientation that undoes `orientation` (6 and 8 swap; the others undo themselves).
int inverse_orientation(int orientation);

}  // namespace iqa
