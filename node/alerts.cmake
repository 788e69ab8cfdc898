# agentflow_alerts: threshold rules over the node's status samples and
# task updates (alerts.h).  Pure logic: no event loop, no I/O.
add_library(agentflow_alerts STATIC alerts.c)
target_include_directories(agentflow_alerts PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(agentflow_alerts PUBLIC agentflow_proto agentflow_common
  PkgConfig::JANSSON m)
