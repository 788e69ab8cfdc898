# Unit tests of node/work/tasks.c: real child processes via /bin/sh on a real
# event loop.
agentflow_unit_test(test_tasks SOURCES unit/test_tasks.c LIBS agentflow_tasks agentflow_common)
# A job's run: its environment, payload and result files (tasks_job.c).
agentflow_unit_test(test_tasks_job SOURCES unit/test_tasks_job.c LIBS agentflow_tasks agentflow_common)
# No orphans: a run's processes die with their node (kill -9, guardian
# gone too, SIGTERM), with a real node.
agentflow_system_test(orphans test_orphans.py)
# No orphans: the group hook, the guardian (this binary is its own, as the
# node's is) and the ending of a previous life's leftovers (tasks_guard.c).
agentflow_unit_test(test_tasks_guard SOURCES unit/test_tasks_guard.c LIBS agentflow_tasks agentflow_common)
# Task and alert id prefixes unique mesh-wide and within the id syntax
# (node/work/work_ids.c).
agentflow_unit_test(test_work_ids SOURCES unit/test_work_ids.c LIBS agentflow_work_ids agentflow_common)
