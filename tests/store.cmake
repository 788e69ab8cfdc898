# Unit tests of the node's SQLite store and of the config file reader.
agentflow_unit_test(test_store SOURCES unit/test_store.c LIBS agentflow_store)
agentflow_unit_test(test_config_file SOURCES unit/test_config_file.c LIBS agentflow_common)
agentflow_unit_test(test_store_work SOURCES unit/test_store_work.c LIBS agentflow_store)
agentflow_unit_test(test_store_jobs SOURCES unit/test_store_jobs.c LIBS agentflow_store)
agentflow_unit_test(test_store_workflows SOURCES unit/test_store_workflows.c LIBS agentflow_store)
