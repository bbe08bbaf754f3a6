# Small helpers so every module's CMakeLists.txt reads the same way.
#
#   stopcall_library(routes SOURCES a.cpp b.cpp DEPS SQLite::SQLite3)
#     -> static library `stopcall_routes`, alias `stopcall::routes`, include root = repo root
#   stopcall_executable(stopcall-routes SOURCES main.cpp DEPS stopcall::routes)
#     -> installed in bin/ (the package) unless NOT_DEPLOYED is given
#   stopcall_test(routes SOURCES csv_test.cpp DEPS stopcall::routes)
#     -> test executable `routes_tests`, each GoogleTest case registered with CTest

function(stopcall_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(stopcall_${name} STATIC ${ARG_SOURCES})
  add_library(stopcall::${name} ALIAS stopcall_${name})
  target_include_directories(stopcall_${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(stopcall_${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS} stopcall_warnings)
endfunction()

function(stopcall_executable name)
  cmake_parse_arguments(ARG "NOT_DEPLOYED" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} stopcall_warnings)
  if(NOT ARG_NOT_DEPLOYED)  # NOT_DEPLOYED: built for tests and benches, left out of the package
    install(TARGETS ${name} RUNTIME DESTINATION bin)
  endif()
endfunction()

function(stopcall_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  if(NOT BUILD_TESTING)
    return()
  endif()
  add_executable(${name}_tests ${ARG_SOURCES})
  target_link_libraries(${name}_tests PRIVATE ${ARG_DEPS} GTest::gmock_main stopcall_warnings)
  target_compile_definitions(${name}_tests PRIVATE
    STOPCALL_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    STOPCALL_BINARY_DIR="${PROJECT_BINARY_DIR}")
  gtest_discover_tests(${name}_tests
    WORKING_DIRECTORY ${PROJECT_BINARY_DIR}
    DISCOVERY_TIMEOUT 60
    PROPERTIES ENVIRONMENT "STOPCALL_SHARED_DATA=${STOPCALL_SHARED_DATA}")
endfunction()
