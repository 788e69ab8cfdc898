# proto/: the Frame codec over the generated mesh.proto code.
agentflow_unit_test(test_proto
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/unit/test_proto.c
  LIBS agentflow_proto)
# proto/mesh_names.c: the names of the enums' values.
agentflow_unit_test(test_mesh_names
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/unit/test_mesh_names.c
  LIBS agentflow_proto)
# proto/mesh_features.c: the features a Hello lists.
agentflow_unit_test(test_mesh_features
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/unit/test_mesh_features.c
  LIBS agentflow_proto)
# proto/frame_codec.c on JobUpdate and ScheduleUpdate: every bound of
# their fields.
agentflow_unit_test(test_proto_jobs
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/unit/test_proto_jobs.c
  LIBS agentflow_proto)
# proto/frame_codec.c on WorkflowUpdate: its bounds, counts and byte size.
agentflow_unit_test(test_proto_workflows
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/unit/test_proto_workflows.c
  LIBS agentflow_proto)
# proto/frame_codec.c on ServiceUpdate: its bounds, counts and byte size.
agentflow_unit_test(test_proto_services
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/unit/test_proto_services.c
  LIBS agentflow_proto)
# proto/frame_codec_work.c on artifacts: ArtifactUpdate, ArtifactRequest,
# ArtifactChunk and their bounds.
agentflow_unit_test(test_proto_artifacts
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/unit/test_proto_artifacts.c
  LIBS agentflow_proto)
