# Tests of certs/: the PKI library (unit) and `agentflow certs` (system).
agentflow_unit_test(test_certs SOURCES unit/test_certs.c LIBS agentflow_certs)
agentflow_unit_test(test_certs_file SOURCES unit/test_certs_file.c LIBS agentflow_certs)
agentflow_system_test(certs test_certs.py)
agentflow_system_test(deploy test_deploy.py)
