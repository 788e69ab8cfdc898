# Unit tests of node/api/ws.c: a real evhttp server and hand-written RFC 6455
# test clients over loopback sockets, in one process and one event loop.
agentflow_unit_test(test_ws SOURCES unit/test_ws.c
  LIBS agentflow_ws agentflow_common)

# Unit tests of node/api/ws_policy.c: a table of upgrade requests and
# their verdicts (pure; no server).
agentflow_unit_test(test_ws_policy SOURCES unit/test_ws_policy.c
  LIBS agentflow_ws_policy)
