# The native dependencies of a self-contained build (CMakeLists.txt with -DIQA_STATIC_PREFIX=P):
# static archives by full path, from P (built by build-deps.sh from Debian's sources), linked as
# one group, so their order does not matter. No matio: Debian's pool mirror here serves no matio
# source tarball, and Debian 11's libmatio.a and libhdf5.a are not position-independent, so this
# build reads NIQE models from .npz/JSON/YAML only (IQA_NO_MATIO; .mat is ERR_MODEL with a hint).
set(P "${IQA_STATIC_PREFIX}")
set(IQA_STATIC_ARCHIVES
  ${P}/lib/libavformat.a ${P}/lib/libavcodec.a ${P}/lib/libswscale.a ${P}/lib/libavutil.a
  ${P}/lib/libheif.a ${P}/lib/libde265.a ${P}/lib/libdav1d.a
  ${P}/lib/libwebpdemux.a ${P}/lib/libwebp.a ${P}/lib/libpng16.a ${P}/lib/libjpeg.a ${P}/lib/libgif.a
  ${P}/lib/libzip.a
  ${P}/lib/libz.a)
foreach(a ${IQA_STATIC_ARCHIVES})
  if(NOT EXISTS "${a}")
    message(FATAL_ERROR "static dependency missing: ${a} (run scripts/prebuild-static/build.sh)")
  endif()
endforeach()
include_directories(BEFORE "${P}/include")
set(IQA_CORE_DEFINITIONS IQA_NO_MATIO)
set(IQA_DEPENDENCY_LIBS -Wl,--start-group ${IQA_STATIC_ARCHIVES} -Wl,--end-group m pthread dl)
