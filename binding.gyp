{
  "targets": [
    {
      "target_name": "procprobe",
      "sources": ["native/addon.cc", "native/args.cc", "native/loop.cc", "native/spawn_addon.cc", "native/forkwatch_addon.cc", "native/ready_addon.cc"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags": ["-Wall", "-Wextra", "-fno-exceptions"],
      "cflags_cc": ["-Wall", "-Wextra", "-fno-exceptions", "-std=c++17"],
      "conditions": [
        ["OS=='linux'", {
          "sources": ["native/probe_linux.cc", "native/proc_linux.cc", "native/threads_linux.cc", "native/timing_posix.cc", "native/spawn_posix.cc", "native/forkwatch_linux.cc", "native/ready_posix.cc"]
        }],
        ["OS=='mac'", {
          "sources": ["native/probe_darwin.cc", "native/timing_posix.cc", "native/spawn_unsupported.cc", "native/forkwatch_unsupported.cc", "native/ready_posix.cc"],
          "xcode_settings": {
            "GCC_ENABLE_CPP_EXCEPTIONS": "NO",
            "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
            "MACOSX_DEPLOYMENT_TARGET": "11.0",
            "WARNING_CFLAGS": ["-Wall", "-Wextra"]
          }
        }],
        ["OS=='win'", {
          "sources": ["native/probe_win.cc", "native/timing_win.cc", "native/spawn_unsupported.cc", "native/forkwatch_unsupported.cc", "native/ready_unsupported.cc"],
          "libraries": ["psapi.lib"],
          "msvs_settings": {
            "VCCLCompilerTool": { "ExceptionHandling": 0, "WarningLevel": 3 }
          }
        }],
        ["OS!='linux' and OS!='mac' and OS!='win'", {
          "sources": ["native/probe_unsupported.cc", "native/spawn_unsupported.cc", "native/forkwatch_unsupported.cc", "native/ready_unsupported.cc"]
        }]
      ]
    }
  ]
}
