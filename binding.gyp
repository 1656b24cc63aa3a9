{
  "targets": [
    {
      "target_name": "iqa_node",
      "sources": [
        "<!@(node -p \"require('fs').readdirSync('native/binding').filter(f => f.endsWith('.cpp')).map(f => 'native/binding/' + f).join(' ')\")",
        "<!@(node -p \"require('fs').readdirSync('native/core', {recursive: true}).filter(f => f.endsWith('.cpp')).map(f => 'native/core/' + f).join(' ')\")"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "native/core",
        "third_party/onnxruntime/include",
        "/usr/include/libsvm",
        "<!@(pkg-config --cflags-only-I opencv4 | sed s/-I//g)",
        "<!@(pkg-config --cflags-only-I libzip matio libavformat libavcodec libavutil libswscale libpng libwebpdemux libheif dav1d | sed s/-I//g)"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O3", "-fexceptions", "-fopenmp-simd", "-fno-math-errno", "-fno-trapping-math", "-ffp-contract=off"],
      "libraries": [
        "<!@(pkg-config --libs opencv4)",
        "<!@(pkg-config --libs libzip matio libavformat libavcodec libavutil libswscale libpng libwebpdemux libheif dav1d)",
        "-ljpeg",
        "-lgif",
        "-lsvm",
        "-ldl"
      ],
      "actions": []
    }
  ]
}
