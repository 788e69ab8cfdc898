# Unit tests of signal/ modules.
agentflow_unit_test(test_signal_table SOURCES unit/test_signal_table.c LIBS agentflow_signal_core)
agentflow_unit_test(test_signal_register SOURCES unit/test_signal_register.c LIBS agentflow_signal_core)
