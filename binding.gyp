# node-gyp build of the addon and the native test executable. The source lists and the per-file ISA
# flags come from native/sources.json (through scripts/native-sources.mjs), the same list
# CMakeLists.txt reads, so the two builds cannot drift apart.
{
  'target_defaults': {
    'include_dirs': [
      'native',
      "<!(node -p \"require('node-addon-api').include_dir\")",
    ],
    'defines': ['NAPI_VERSION=8', 'NODE_ADDON_API_CPP_EXCEPTIONS', 'NODE_ADDON_API_DISABLE_DEPRECATED'],
    'cflags!': ['-fno-exceptions'],
    'cflags_cc!': ['-fno-exceptions', '-fno-rtti', '-std=gnu++17', '-std=gnu++20', '-O2', '-O0'],
    'cflags': ['-fPIC', '-O3', '-fopenmp', '-Wall', '-Wextra', '-fvisibility=hidden'],
    'cflags_cc': ['-std=c++17', '-fexceptions'],
    'ldflags': ['-fopenmp'],
    'conditions': [
      ['target_arch=="x64"', {'defines': ['CONVKIT_HAVE_X86_KERNELS']}],
    ],
    'configurations': {
      'Release': {
        'cflags!': ['-O2'],
        'cflags_cc!': ['-O2'],
        'cflags': ['-O3'],
      },
    },
  },
  'targets': [
    {
      'target_name': 'convkit_kernels',
      'type': 'static_library',
      'sources': ["<!@(node scripts/native-sources.mjs kernels)"],
      'conditions': [
        ['target_arch=="x64"', {'dependencies': ['convkit_kernels_avx2', 'convkit_kernels_avx512']}],
      ],
    },
    {
      'target_name': 'convkit',
      'dependencies': ['convkit_kernels'],
      'sources': ["<!@(node scripts/native-sources.mjs binding)"],
    },
    {
      'target_name': 'convkit_native_tests',
      'type': 'executable',
      'dependencies': ['convkit_kernels'],
      'sources': ["<!@(node scripts/native-sources.mjs tests)"],
    },
  ],
  'conditions': [
    ['target_arch=="x64"', {
      'targets': [
        {
          'target_name': 'convkit_kernels_avx2',
          'type': 'static_library',
          'sources': ["<!@(node scripts/native-sources.mjs kernels_avx2)"],
          'cflags': ["<!@(node scripts/native-sources.mjs --flags kernels_avx2)"],
        },
        {
          'target_name': 'convkit_kernels_avx512',
          'type': 'static_library',
          'sources': ["<!@(node scripts/native-sources.mjs kernels_avx512)"],
          'cflags': ["<!@(node scripts/native-sources.mjs --flags kernels_avx512)"],
        },
      ],
    }],
  ],
}
