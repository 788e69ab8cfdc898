# proto/: the Frame codec over the generated mesh.proto code.
agentflow_unit_test(test_proto
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/unit/test_proto.c
  LIBS agentflow_proto)
