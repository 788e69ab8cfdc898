# agentflow_tasks: the jobs this node runs, supervised on the loop thread
# (tasks.h).  libevent and jansson come with agentflow_common, which links
# them publicly; the TaskUpdate/TaskLog structs come with agentflow_proto.
add_library(agentflow_tasks STATIC tasks.c)
target_include_directories(agentflow_tasks PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(agentflow_tasks PUBLIC agentflow_proto agentflow_common
  PkgConfig::LIBEVENT)
