# agentflow_ws: the dashboard's WebSocket feed, /ws (ws.h, WS.md).  Framing
# by wslay.  Debian's libwslay-dev 1.1.1 ships no libwslay.pc (only a CMake
# export whose imported target has no include directory), so wslay is found
# the way mbedTLS is.
find_library(WSLAY_LIB wslay REQUIRED)
find_path(WSLAY_INCLUDE_DIR wslay/wslay.h REQUIRED)
add_library(agentflow_ws STATIC ws.c)
target_include_directories(agentflow_ws PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
target_include_directories(agentflow_ws PRIVATE ${WSLAY_INCLUDE_DIR})
target_link_libraries(agentflow_ws PUBLIC agentflow_node_core agentflow_common
  PkgConfig::LIBEVENT PkgConfig::JANSSON mbedtls_all ${WSLAY_LIB})
