# Unit tests of node/work/alerts.c, the alert rules.
agentflow_unit_test(test_alerts SOURCES unit/test_alerts.c
  LIBS agentflow_alerts agentflow_common)
