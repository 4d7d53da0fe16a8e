# Fails the build when a source under hub/src includes a layer above its own (ARCHITECTURE.md):
#   0 util, domain, security      shared vocabulary, no outside world
#   1 config                      the settings, checked
#   2 pipeline, insights, notify  the logic, talking to the world only through ports they own
#   3 postgres, redis, smtp, ollama, mqtt, http   one adapter per external system; never each other
#   4 service                     wires adapters to the logic: the daemons
# Below the adapters no file may include the client libraries of the outside world (libpqxx, Paho,
# libcurl, hiredis): the logic reaches them only through its ports.
# Usage: cmake -DSRC=<hub/src> -P check_layers.cmake
set(rank_util 0)
set(rank_domain 0)
set(rank_security 0)
set(rank_config 1)
set(rank_pipeline 2)
set(rank_insights 2)
set(rank_notify 2)
set(rank_postgres 3)
set(rank_redis 3)
set(rank_smtp 3)
set(rank_ollama 3)
set(rank_mqtt 3)
set(rank_http 3)
set(rank_service 4)

get_filename_component(SRC "${SRC}" ABSOLUTE)
file(GLOB_RECURSE sources RELATIVE "${SRC}" "${SRC}/*.cpp" "${SRC}/*.hpp")
set(problems "")
foreach(file IN LISTS sources)
  string(REGEX MATCH "^[a-z_]+" layer "${file}")
  if(NOT DEFINED rank_${layer})
    string(APPEND problems "  ${file}: folder ${layer}/ has no layer in cmake/check_layers.cmake\n")
    continue()
  endif()
  if(rank_${layer} LESS 3)
    file(STRINGS "${SRC}/${file}" clients REGEX "^#include <(pqxx|mqtt|curl|hiredis)/")
    foreach(line IN LISTS clients)
      string(APPEND problems "  ${file}: ${line} (${layer}/ is layer ${rank_${layer}}: no client library below the adapters)\n")
    endforeach()
  endif()
  file(STRINGS "${SRC}/${file}" lines REGEX "^#include \"[a-z_]+/")
  foreach(line IN LISTS lines)
    string(REGEX REPLACE "^#include \"([a-z_]+)/.*" "\\1" target "${line}")
    if(NOT DEFINED rank_${target})
      continue()
    endif()
    if(rank_${target} GREATER rank_${layer}
       OR (rank_${layer} EQUAL 3 AND rank_${target} EQUAL 3 AND NOT target STREQUAL layer))
      string(APPEND problems "  ${file}: ${line} (${layer}/ is layer ${rank_${layer}}, ${target}/ layer ${rank_${target}})\n")
    endif()
  endforeach()
endforeach()
if(problems)
  message(FATAL_ERROR "layer check: a lower layer includes a higher one (or an adapter another):\n${problems}")
endif()
