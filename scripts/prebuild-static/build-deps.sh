#!/usr/bin/env bash
# Runs INSIDE the Debian 11 build root (scripts/prebuild-static/build.sh): builds the addon's
# native dependencies as static, position-independent libraries into $PREFIX, from the source
# tarballs in /src (Debian's pool, bookworm's versions, so that pixels and scores match the
# Debian 12 source build). FFmpeg gets only the decoders and demuxers video input needs; OpenCV
# only core, imgproc and imgcodecs, over these codecs, with Debian 12's CPU baseline and
# dispatch (SSE2; SSE4.1 ... AVX-512 chosen at run time), -O2 and no IPP.
# Each step is skipped when its stamp exists (the cache).
set -euo pipefail
PREFIX=${PREFIX:-/opt/iqa-static}
SRC=${SRC:-/src}
WORK=${WORK:-/build}
JOBS=${JOBS:-2}
export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig"
export CFLAGS="-O2 -fPIC" CXXFLAGS="-O2 -fPIC"
mkdir -p "$PREFIX" "$WORK"
cmake_static=(-DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$PREFIX" -DCMAKE_INSTALL_LIBDIR=lib -DCMAKE_POSITION_INDEPENDENT_CODE=ON -DBUILD_SHARED_LIBS=OFF -DCMAKE_PREFIX_PATH="$PREFIX")

step() {  # step NAME TARBALL: unpack into $WORK/NAME and cd there, unless done
  local name=$1 tarball=$2
  if [ -f "$PREFIX/.done-$name" ]; then echo "== $name: cached"; return 1; fi
  echo "== $name"
  rm -rf "${WORK:?}/$name" && mkdir -p "$WORK/$name"
  tar -xf "$SRC/$tarball" -C "$WORK/$name" --strip-components=1
  cd "$WORK/$name"
}
done_step() { touch "$PREFIX/.done-$1"; }

if step zlib zlib_1.2.13.dfsg.orig.tar.bz2; then
  ./configure --prefix="$PREFIX" --static && make -j"$JOBS" && make install
  done_step zlib
fi
if step libjpeg-turbo libjpeg-turbo_2.1.5.orig.tar.gz; then
  # (libjpeg-turbo resolves a relative CMAKE_INSTALL_LIBDIR against its build tree: give it whole)
  cmake -B b "${cmake_static[@]}" -DCMAKE_INSTALL_LIBDIR="$PREFIX/lib" -DENABLE_SHARED=OFF -DENABLE_STATIC=ON -DWITH_TURBOJPEG=OFF && cmake --build b -j"$JOBS" && cmake --install b
  done_step libjpeg-turbo
fi
if step libpng libpng1.6_1.6.39.orig.tar.gz; then
  cmake -B b "${cmake_static[@]}" -DPNG_SHARED=OFF -DPNG_STATIC=ON -DPNG_TESTS=OFF -DPNG_EXECUTABLES=OFF -DZLIB_ROOT="$PREFIX" && cmake --build b -j"$JOBS" && cmake --install b
  done_step libpng
fi
if step libwebp libwebp_1.2.4.orig.tar.gz; then
  cmake -B b "${cmake_static[@]}" -DWEBP_BUILD_ANIM_UTILS=OFF -DWEBP_BUILD_CWEBP=OFF -DWEBP_BUILD_DWEBP=OFF -DWEBP_BUILD_GIF2WEBP=OFF -DWEBP_BUILD_IMG2WEBP=OFF -DWEBP_BUILD_VWEBP=OFF -DWEBP_BUILD_WEBPINFO=OFF -DWEBP_BUILD_WEBPMUX=OFF -DWEBP_BUILD_EXTRAS=OFF && cmake --build b -j"$JOBS" && cmake --install b
  done_step libwebp
fi
if step giflib giflib_5.2.1.orig.tar.gz; then
  make -j"$JOBS" libgif.a CFLAGS="$CFLAGS -std=gnu99 -Wall" && install -D -m644 libgif.a "$PREFIX/lib/libgif.a" && install -D -m644 gif_lib.h "$PREFIX/include/gif_lib.h"
  done_step giflib
fi
if step tiff tiff_4.5.0.orig.tar.bz2; then
  cmake -B b "${cmake_static[@]}" -Dtiff-tools=OFF -Dtiff-tests=OFF -Dtiff-contrib=OFF -Dtiff-docs=OFF -Djbig=OFF -Dlzma=OFF -Dzstd=OFF -Dwebp=OFF -Dlerc=OFF -Dlibdeflate=OFF -Dold-jpeg=OFF -Djpeg12=OFF -Dcxx=OFF && cmake --build b -j"$JOBS" && cmake --install b
  done_step tiff
fi
if step libzip libzip_1.7.3.orig.tar.xz; then
  cmake -B b "${cmake_static[@]}" -DENABLE_BZIP2=OFF -DENABLE_LZMA=OFF -DENABLE_ZSTD=OFF -DENABLE_OPENSSL=OFF -DENABLE_GNUTLS=OFF -DENABLE_MBEDTLS=OFF -DENABLE_COMMONCRYPTO=OFF -DENABLE_WINDOWS_CRYPTO=OFF -DBUILD_TOOLS=OFF -DBUILD_REGRESS=OFF -DBUILD_EXAMPLES=OFF -DBUILD_DOC=OFF && cmake --build b -j"$JOBS" && cmake --install b
  done_step libzip
fi
if step libsvm libsvm_3.24+ds.orig.tar.xz; then
  g++ $CXXFLAGS -c svm.cpp -o svm.o && ar rcs libsvm.a svm.o && install -D -m644 libsvm.a "$PREFIX/lib/libsvm.a" && install -D -m644 svm.h "$PREFIX/include/libsvm/svm.h"
  done_step libsvm
fi
if step dav1d dav1d_1.0.0.orig.tar.xz; then
  meson setup b --prefix="$PREFIX" --libdir=lib --buildtype=release --default-library=static -Denable_tools=false -Denable_tests=false -Db_pic=true && ninja -C b -j"$JOBS" && ninja -C b install
  done_step dav1d
fi
if step libde265 libde265_1.0.11.orig.tar.gz; then
  cmake -B b "${cmake_static[@]}" -DENABLE_SDL=OFF -DENABLE_DECODER=OFF -DENABLE_ENCODER=OFF && cmake --build b -j"$JOBS" && cmake --install b
  done_step libde265
fi
if step libheif libheif_1.15.1.orig.tar.gz; then
  cmake -B b "${cmake_static[@]}" -DWITH_LIBDE265=ON -DWITH_DAV1D=ON -DWITH_AOM_DECODER=OFF -DWITH_AOM_ENCODER=OFF -DWITH_X265=OFF -DWITH_RAV1E=OFF -DWITH_SvtEnc=OFF -DWITH_JPEG_DECODER=OFF -DWITH_JPEG_ENCODER=OFF -DWITH_KVAZAAR=OFF -DWITH_FFMPEG_DECODER=OFF -DWITH_EXAMPLES=OFF -DWITH_GDK_PIXBUF=OFF -DENABLE_PLUGIN_LOADING=OFF -DBUILD_TESTING=OFF && cmake --build b -j"$JOBS" && cmake --install b
  done_step libheif
fi
if step ffmpeg ffmpeg_5.1.9.orig.tar.xz; then
  ./configure --prefix="$PREFIX" --enable-static --disable-shared --enable-pic --disable-programs --disable-doc \
    --disable-autodetect --disable-everything --disable-avdevice --disable-avfilter --disable-swresample --disable-postproc --disable-network \
    --enable-zlib --enable-libdav1d \
    --enable-decoder=h264,hevc,vp8,vp9,libdav1d,mpeg4,mpeg1video,mpeg2video,mjpeg,rawvideo,h263,theora,prores,ffv1,png \
    --enable-demuxer=mov,matroska,avi,yuv4mpegpipe,rawvideo,h264,hevc,mpegts,mpegps,m4v,flv,ogg,ivf,obu \
    --enable-parser=h264,hevc,vp8,vp9,av1,mpeg4video,mpegvideo,mjpeg,png \
    --enable-protocol=file,pipe \
    --extra-cflags="-I$PREFIX/include" --extra-ldflags="-L$PREFIX/lib" --pkg-config-flags=--static
  make -j"$JOBS" && make install
  done_step ffmpeg
fi
if step opencv opencv_4.6.0+dfsg.orig.tar.xz; then
  cmake -B b -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$PREFIX" -DCMAKE_INSTALL_LIBDIR=lib -DCMAKE_POSITION_INDEPENDENT_CODE=ON \
    -DCMAKE_C_FLAGS_RELEASE="-O2 -DNDEBUG" -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" \
    -DBUILD_SHARED_LIBS=OFF -DBUILD_LIST=core,imgproc,imgcodecs -DOPENCV_GENERATE_PKGCONFIG=ON \
    -DCPU_BASELINE="SSE;SSE2" -DCPU_DISPATCH="SSE4_1;SSE4_2;FP16;AVX;AVX2;AVX512_SKX" \
    -DWITH_IPP=OFF -DWITH_ITT=OFF -DWITH_OPENCL=OFF -DWITH_TBB=OFF -DWITH_OPENMP=OFF -DWITH_PTHREADS_PF=ON -DWITH_EIGEN=OFF -DWITH_LAPACK=OFF \
    -DWITH_CAROTENE=OFF -DWITH_PROTOBUF=OFF -DWITH_QUIRC=OFF -DWITH_ADE=OFF -DWITH_VA=OFF -DWITH_VA_INTEL=OFF -DWITH_1394=OFF -DWITH_FFMPEG=OFF -DWITH_GSTREAMER=OFF -DWITH_V4L=OFF \
    -DWITH_GTK=OFF -DWITH_QT=OFF -DWITH_OPENEXR=OFF -DWITH_OPENJPEG=OFF -DWITH_JASPER=OFF -DWITH_GDAL=OFF -DWITH_GDCM=OFF -DWITH_IMGCODEC_HDR=ON -DWITH_IMGCODEC_SUNRASTER=ON -DWITH_IMGCODEC_PXM=ON -DWITH_IMGCODEC_PFM=ON \
    -DBUILD_ZLIB=OFF -DZLIB_ROOT="$PREFIX" \
    -DWITH_JPEG=ON -DBUILD_JPEG=OFF -DJPEG_INCLUDE_DIR="$PREFIX/include" -DJPEG_LIBRARY="$PREFIX/lib/libjpeg.a" \
    -DWITH_PNG=ON -DBUILD_PNG=OFF -DPNG_PNG_INCLUDE_DIR="$PREFIX/include" -DPNG_LIBRARY="$PREFIX/lib/libpng16.a" \
    -DWITH_TIFF=ON -DBUILD_TIFF=OFF -DTIFF_INCLUDE_DIR="$PREFIX/include" -DTIFF_LIBRARY="$PREFIX/lib/libtiff.a" \
    -DWITH_WEBP=ON -DBUILD_WEBP=OFF -DWEBP_INCLUDE_DIR="$PREFIX/include" -DWEBP_LIBRARY="$PREFIX/lib/libwebp.a" \
    -DBUILD_TESTS=OFF -DBUILD_PERF_TESTS=OFF -DBUILD_EXAMPLES=OFF -DBUILD_opencv_apps=OFF -DBUILD_JAVA=OFF -DBUILD_opencv_python3=OFF -DBUILD_opencv_python2=OFF -DBUILD_DOCS=OFF
  cmake --build b -j"$JOBS" && cmake --install b
  done_step opencv
fi
echo "== all dependency steps done"
