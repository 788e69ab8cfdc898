# Unit tests of node/host/collector.c, the host statistics collector.

agentflow_unit_test(test_collector SOURCES unit/test_collector.c
  LIBS agentflow_collector)
