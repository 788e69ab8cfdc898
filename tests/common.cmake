# Unit tests of common/ modules.
agentflow_unit_test(test_hmap SOURCES unit/test_hmap.c LIBS agentflow_common)
agentflow_unit_test(test_ratelimit SOURCES unit/test_ratelimit.c LIBS agentflow_common)
agentflow_unit_test(test_opts SOURCES unit/test_opts.c LIBS agentflow_common)
agentflow_unit_test(test_trust SOURCES unit/test_trust.c LIBS agentflow_certs agentflow_common)
agentflow_unit_test(test_workq SOURCES unit/test_workq.c LIBS agentflow_common)
agentflow_unit_test(test_hostport SOURCES unit/test_hostport.c LIBS agentflow_common)
agentflow_unit_test(test_rng SOURCES unit/test_rng.c LIBS agentflow_common)
agentflow_unit_test(test_file SOURCES unit/test_file.c LIBS agentflow_common)
