# Reads native/sources.json: the one list of native sources shared with binding.gyp.
file(READ "${CMAKE_CURRENT_LIST_DIR}/../native/sources.json" CONVKIT_SOURCES_JSON)
# Reconfigure when the list changes, so a build never links without a newly listed file.
if(NOT CMAKE_SCRIPT_MODE_FILE)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${CMAKE_CURRENT_LIST_DIR}/../native/sources.json")
endif()
get_filename_component(CONVKIT_ROOT "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)

# convkit_sources(<group> <out-var>): absolute paths of the group's sources.
function(convkit_sources group out)
  string(JSON count LENGTH "${CONVKIT_SOURCES_JSON}" ${group})
  set(result "")
  if(count GREATER 0)
    math(EXPR last "${count} - 1")
    foreach(i RANGE ${last})
      string(JSON path GET "${CONVKIT_SOURCES_JSON}" ${group} ${i})
      list(APPEND result "${CONVKIT_ROOT}/${path}")
    endforeach()
  endif()
  set(${out} ${result} PARENT_SCOPE)
endfunction()

# convkit_flags(<group> <out-var>): the group's compiler flags.
function(convkit_flags group out)
  string(JSON count LENGTH "${CONVKIT_SOURCES_JSON}" flags ${group})
  set(result "")
  math(EXPR last "${count} - 1")
  foreach(i RANGE ${last})
    string(JSON flag GET "${CONVKIT_SOURCES_JSON}" flags ${group} ${i})
    list(APPEND result "${flag}")
  endforeach()
  set(${out} ${result} PARENT_SCOPE)
endfunction()
