# cmake -P cmake/print-sources.cmake: prints every group as CMake sees it, "group: path" per line.
# The source-list test compares this with what binding.gyp expands, so the builds cannot diverge.
include(${CMAKE_CURRENT_LIST_DIR}/sources.cmake)
foreach(group kernels kernels_avx2 kernels_avx512 binding tests bench)
  convkit_sources(${group} paths)
  foreach(path ${paths})
    file(RELATIVE_PATH rel "${CONVKIT_ROOT}" "${path}")
    message("${group}: ${rel}")
  endforeach()
endforeach()
