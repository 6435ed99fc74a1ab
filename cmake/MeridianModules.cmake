# One static library per module folder. Dependencies are PRIVATE unless a module's public headers
# expose another module's types, so that the layering in ARCHITECTURE.md is visible in the build.
include(GoogleTest)

# meridian_module(NAME SOURCES ... [PUBLIC_DEPS ...] [PRIVATE_DEPS ...])
function(meridian_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(meridian_${name} STATIC ${ARG_SOURCES})
  target_include_directories(meridian_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(meridian_${name} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
endfunction()

# meridian_test(NAME SOURCES ... DEPS ...): a GoogleTest binary whose tests ctest lists one by one.
# Tests find the source tree in the TEST_SOURCE_DIR macro.
function(meridian_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gmock GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE TEST_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60)
endfunction()

# meridian_use_jemalloc(TARGET): links jemalloc as the program's malloc, except in sanitizer
# builds (ASan brings its own). common/allocator.h says why.
function(meridian_use_jemalloc target)
  if(MERIDIAN_SANITIZE)
    target_compile_definitions(${target} PRIVATE MERIDIAN_EXPECTED_ALLOCATOR="glibc")
    return()
  endif()
  find_library(MERIDIAN_JEMALLOC_LIBRARY jemalloc REQUIRED)
  target_link_libraries(${target} PRIVATE ${MERIDIAN_JEMALLOC_LIBRARY})
  target_compile_definitions(${target} PRIVATE MERIDIAN_EXPECTED_ALLOCATOR="jemalloc")
endfunction()
