# Unit tests of node/ modules.
#
# test_transport runs real gRPC over real mutual TLS on 127.0.0.1 in one
# process (and one child process it starts from its own binary for the
# frozen-peer case).
agentflow_unit_test(test_transport SOURCES unit/test_transport.c
  LIBS agentflow_transport agentflow_certs agentflow_common)
agentflow_unit_test(test_decompress SOURCES unit/test_decompress.c
  LIBS agentflow_transport agentflow_common)

# System tests of agentflow-node: real nodes and signals on loopback.
agentflow_system_test(node_mesh test_node_mesh.py)
agentflow_system_test(node_sync test_node_sync.py)
agentflow_system_test(node_catchup test_node_catchup.py)
agentflow_system_test(catchup_paced test_catchup_paced.py)
agentflow_system_test(node_identity test_node_identity.py)
agentflow_system_test(partial_mesh test_partial_mesh.py)
agentflow_unit_test(test_links SOURCES unit/test_links.c
  LIBS agentflow_node_core agentflow_certs agentflow_common)
agentflow_system_test(cli test_cli.py)
agentflow_system_test(cli_find test_cli_find.py)
# It makes /var/lib/agentflow for a moment, which system.package installs
# and purges: never both at once.
set_tests_properties(system.cli_find PROPERTIES RESOURCE_LOCK var_lib_agentflow)
agentflow_system_test(tokens test_tokens.py)
agentflow_system_test(commands test_commands.py)
agentflow_system_test(audit test_audit.py)
agentflow_system_test(history test_history.py)
agentflow_system_test(cli_work test_cli_work.py)
agentflow_system_test(ws test_ws.py)
agentflow_system_test(api_replies test_api_replies.py)
agentflow_unit_test(test_api_auth SOURCES unit/test_api_auth.c
  LIBS agentflow_node_core agentflow_common)
agentflow_unit_test(test_tokens SOURCES unit/test_tokens.c
  LIBS agentflow_node_core agentflow_certs agentflow_common)
agentflow_system_test(netns test_netns.py)
agentflow_unit_test(test_sync SOURCES unit/test_sync.c
  LIBS agentflow_node_core agentflow_certs agentflow_common)
# Forwarding (sync_forward.c) as a relay does it: the links module is
# replaced at link time (--wrap) by the test's fake, which records sends.
agentflow_unit_test(test_sync_forward SOURCES unit/test_sync_forward.c
  LIBS agentflow_node_core agentflow_certs agentflow_common)
target_link_options(test_sync_forward PRIVATE
  "LINKER:--wrap=links_send_raw,--wrap=links_send_bulk,--wrap=links_broadcast_raw"
  "LINKER:--wrap=links_up_generation,--wrap=links_link_generation"
  "LINKER:--wrap=links_is_up,--wrap=links_foreach_up,--wrap=links_peer_speaks"
  "LINKER:--wrap=links_queued,--wrap=links_drop")
agentflow_unit_test(test_origin_keys SOURCES unit/test_origin_keys.c
  LIBS agentflow_origin_keys agentflow_certs agentflow_common)
agentflow_unit_test(test_sync_opaque SOURCES unit/test_sync_opaque.c
  LIBS agentflow_node_core agentflow_common)
agentflow_unit_test(test_sync_json SOURCES unit/test_sync_json.c
  LIBS agentflow_node_core agentflow_common)
# The mesh's view of services (sync_services.c) through sync.c.
agentflow_unit_test(test_sync_services SOURCES unit/test_sync_services.c
  LIBS agentflow_node_core agentflow_certs agentflow_common)
# Our own state's snapshot at its worst fits a frame (every view's bound).
agentflow_unit_test(test_snapshot_budget SOURCES unit/test_snapshot_budget.c
  LIBS agentflow_node_core agentflow_common)
# valgrind cannot run the sanitizer build's binaries.
if(NOT AGENTFLOW_SANITIZE)
  agentflow_system_test(valgrind test_valgrind.py)
endif()
agentflow_system_test(chaos test_chaos.py)
agentflow_system_test(chaos_work test_chaos_work.py)
agentflow_unit_test(test_routing SOURCES unit/test_routing.c
  LIBS agentflow_routing agentflow_common)
agentflow_unit_test(test_ring SOURCES unit/test_ring.c
  ${CMAKE_SOURCE_DIR}/node/mesh/ring.c)
target_include_directories(test_ring PRIVATE ${CMAKE_SOURCE_DIR}/node/mesh)
agentflow_unit_test(test_commands SOURCES unit/test_commands.c
  LIBS agentflow_node_core agentflow_common)
agentflow_system_test(membership test_membership.py)
agentflow_system_test(signal_multi test_signal_multi.py)
agentflow_system_test(mixed_links test_mixed_links.py)

# agentflow-node-extra: the node built with an Event kind and a Frame body
# the normal build does not know (tests/extra/node_extra.c), for a mixed
# mesh.  Its own copy of proto/mesh_features.c, built with the same
# definition, lists "test_extra" and is linked ahead of agentflow_proto's.
add_executable(agentflow-node-extra ${CMAKE_SOURCE_DIR}/node/main.c
  ${CMAKE_SOURCE_DIR}/proto/mesh_features.c ${CMAKE_CURRENT_SOURCE_DIR}/extra/node_extra.c)
target_compile_definitions(agentflow-node-extra PRIVATE AGENTFLOW_TEST_EXTRA_KIND
  AGENTFLOW_TEST_HOOKS)
target_include_directories(agentflow-node-extra PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/extra)
target_link_libraries(agentflow-node-extra PRIVATE agentflow_node_core)
agentflow_system_test(version_skew test_version_skew.py)
# agentflow-node-nearring: the node as versions before the spread ring
# picked its --max-links neighbours (node/mesh/ring.h), for a mixed mesh in
# test_mixed_links.py: its own mesh_features.c lacks "spread_ring".
add_executable(agentflow-node-nearring ${CMAKE_SOURCE_DIR}/node/main.c
  ${CMAKE_SOURCE_DIR}/proto/mesh_features.c)
target_compile_definitions(agentflow-node-nearring PRIVATE AGENTFLOW_TEST_NEAR_RING)
target_link_libraries(agentflow-node-nearring PRIVATE agentflow_node_core)
agentflow_unit_test(test_audit SOURCES unit/test_audit.c
  LIBS agentflow_node_core agentflow_common)

# agentflow-node-forger: a member with a valid certificate that speaks for
# others (tests/extra/node_forger.c), for tests/system/test_trust.py.
add_executable(agentflow-node-forger ${CMAKE_SOURCE_DIR}/node/main.c
  ${CMAKE_CURRENT_SOURCE_DIR}/extra/node_forger.c)
target_compile_definitions(agentflow-node-forger PRIVATE AGENTFLOW_TEST_HOOKS)
target_include_directories(agentflow-node-forger PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/extra)
target_link_libraries(agentflow-node-forger PRIVATE agentflow_node_core)
agentflow_system_test(trust test_trust.py)
agentflow_system_test(freeze test_freeze.py)
agentflow_unit_test(test_callbacks SOURCES unit/test_callbacks.c
  LIBS agentflow_node_core agentflow_common)
agentflow_system_test(retention test_retention.py)
agentflow_system_test(event_shares test_event_shares.py)
agentflow_system_test(workflow_check test_workflow_check.py)
agentflow_system_test(workflows test_workflows.py)
# The three templates of examples/workflows/ end to end with their real tasks.
agentflow_system_test(workflow_templates test_workflow_templates.py)
# A dead coordinator's workflow taken over (workflows_takeover.h).
agentflow_system_test(workflow_takeover test_workflow_takeover.py)
# agentflow-node-jobforger: a member that sends the job commands a test
# hands it (tests/extra/node_jobforger.c), for tests/system/test_jobs.py.
add_executable(agentflow-node-jobforger ${CMAKE_SOURCE_DIR}/node/main.c
  ${CMAKE_CURRENT_SOURCE_DIR}/extra/node_jobforger.c)
target_compile_definitions(agentflow-node-jobforger PRIVATE AGENTFLOW_TEST_HOOKS)
target_include_directories(agentflow-node-jobforger PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/extra)
target_link_libraries(agentflow-node-jobforger PRIVATE agentflow_node_core)
agentflow_system_test(jobs test_jobs.py)
agentflow_unit_test(test_jobs SOURCES unit/test_jobs.c
  LIBS agentflow_node_core agentflow_common)
agentflow_unit_test(test_workflow_spec SOURCES unit/test_workflow_spec.c
  LIBS agentflow_node_core agentflow_common)
agentflow_unit_test(test_service_spec SOURCES unit/test_service_spec.c
  LIBS agentflow_node_core agentflow_common)
agentflow_system_test(jobs_callback test_jobs_callback.py)
# Every node lists every job (node/mesh/sync_jobs.c).
agentflow_system_test(jobs_mesh test_jobs_mesh.py)
agentflow_system_test(jobs_replay test_jobs_replay.py)
agentflow_unit_test(test_jobs_replay SOURCES unit/test_jobs_replay.c
  LIBS agentflow_node_core agentflow_common)
agentflow_system_test(jobs_fanout test_jobs_fanout.py)
agentflow_unit_test(test_jobs_fanout SOURCES unit/test_jobs_fanout.c
  LIBS agentflow_node_core agentflow_common)
# Issue 22's shared budgets: the /ws snapshot, per-client backlogs, logs,
# listener deadlines and caps.
agentflow_system_test(budgets test_budgets.py)
# agentflow-mesh-mute: a member that opens a Link stream and never sends
# Hello (tests/extra/mesh_mute.c), for test_budgets.py.
add_executable(agentflow-mesh-mute ${CMAKE_CURRENT_SOURCE_DIR}/extra/mesh_mute.c)
target_link_libraries(agentflow-mesh-mute PRIVATE agentflow_transport agentflow_common)
# Schedules (node/work/cron.c, schedule_spec.c, schedules.c).
agentflow_unit_test(test_cron SOURCES unit/test_cron.c
  LIBS agentflow_node_core agentflow_common)
agentflow_unit_test(test_schedule_spec SOURCES unit/test_schedule_spec.c
  LIBS agentflow_node_core agentflow_common)
# Who made a schedule's definition, kept over a restart (schedules.c).
agentflow_unit_test(test_schedules SOURCES unit/test_schedules.c
  LIBS agentflow_node_core agentflow_certs agentflow_common)
agentflow_unit_test(test_quorum SOURCES unit/test_quorum.c
  LIBS agentflow_node_core agentflow_common)
agentflow_system_test(schedules test_schedules.py)
# A schedule that runs a workflow (schedule add --workflow).
agentflow_system_test(schedules_workflow test_schedules_workflow.py)
# A schedule across a 3/2 partition in network namespaces (skipped
# without CAP_NET_ADMIN).
agentflow_system_test(schedules_netns test_schedules_netns.py)
# A workflow's coordinator on the minority side of a 3/2 partition.
agentflow_system_test(workflow_takeover_netns test_workflow_takeover_netns.py)
# Workflows (issue 17): the state tables, the coordinator end to end.
agentflow_unit_test(test_workflow_state SOURCES unit/test_workflow_state.c
  LIBS agentflow_node_core agentflow_common)
# Services (issue 18): desired state kept, restarts by policy, the
# mesh's view, over a restart of the node.
agentflow_system_test(services test_services.py)
# Artifacts (issue 18 item 5): added on one node, fetched over the mesh
# by another, hash checked, unpacked safely (node/work/artifacts.c).
agentflow_system_test(artifacts test_artifacts.py)
# Rollouts over three nodes: one node rolled back, the rest untouched,
# pause, resume, abort, and a restart of the node running it
# (node/work/rollouts.c).
agentflow_system_test(rollouts test_rollouts.py)
# Notifications: a node's alerts to a webhook, ntfy, Gotify and an SMTP
# server (real receivers on loopback), retried, repeated, resolved
# (node/work/notify.c, notify_mail.c).
agentflow_system_test(notify test_notify.py)
# An email channel's fields and the message it sends (notify_mail.c).
agentflow_unit_test(test_notify_mail SOURCES unit/test_notify_mail.c
  LIBS agentflow_node_core agentflow_common)
# The notices kept over a restart: the tables, bounded, and the check of
# a row read back (store_notify.c, notify_store.c).
agentflow_unit_test(test_notify_store SOURCES unit/test_notify_store.c
  LIBS agentflow_node_core agentflow_common)
# What a group's notice says (notify_group.c).
agentflow_unit_test(test_notify_group SOURCES unit/test_notify_group.c
  LIBS agentflow_node_core agentflow_common)
agentflow_system_test(cli_silence test_cli_silence.py)
agentflow_unit_test(test_silences SOURCES unit/test_silences.c
  LIBS agentflow_node_core agentflow_common)
# The quiet reads' audit rate: a row per key an hour, a bounded table
# (node/work/audit_rate.c).
agentflow_unit_test(test_audit_rate SOURCES unit/test_audit_rate.c
  LIBS agentflow_node_core agentflow_common)
# Services' health checks against real servers and processes
# (node/work/service_health.c).
agentflow_unit_test(test_service_health SOURCES unit/test_service_health.c
  LIBS agentflow_node_core agentflow_common)
# A service's artifact unpacked, and hostile archives refused
# (node/work/artifact_unpack.c); libarchive also writes the test's archives.
agentflow_unit_test(test_artifact_unpack SOURCES unit/test_artifact_unpack.c
  LIBS agentflow_artifact agentflow_common PkgConfig::LIBARCHIVE)
