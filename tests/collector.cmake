# Unit tests of node/host/collector.c, the host statistics collector.

agentflow_unit_test(test_collector SOURCES unit/test_collector.c
  LIBS agentflow_collector)

# node/host/status_pace.c: which sampled statuses go out (issue 21).
agentflow_unit_test(test_status_pace SOURCES unit/test_status_pace.c
  LIBS agentflow_collector)

# node/host/history.c: the node's own metric history, and its minutes
# through node/store/store_history.c.
agentflow_unit_test(test_history SOURCES unit/test_history.c
  LIBS agentflow_collector agentflow_store)
agentflow_unit_test(test_heap_trim SOURCES unit/test_heap_trim.c
  LIBS agentflow_collector)
