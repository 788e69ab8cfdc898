# System tests of agentflow-signal (tests/system/test_signal*.py, helpers in
# tests/system/harness.py).  Each starts its own signal processes on free
# loopback ports with private temporary directories, so they run in parallel.
agentflow_system_test(signal_api test_signal_api.py)
agentflow_system_test(signal_refusals test_signal_refusals.py)
agentflow_system_test(signal_limits test_signal_limits.py)
agentflow_system_test(signal_tls test_signal_tls.py)
agentflow_system_test(signal_process test_signal_process.py)
agentflow_system_test(signal_robust test_signal_robust.py)
agentflow_system_test(signal_cors test_signal_cors.py)
