# The dashboard's end-to-end tests: a real mesh and the built frontend in
# headless Chromium (tests/e2e/dashboard.mjs).  Needs Node.js, Debian's
# chromium and `scripts/build-frontend.sh` (scripts/test.sh runs it first).
find_program(NODE_EXECUTABLE node)
if(NODE_EXECUTABLE)
  add_test(NAME e2e.dashboard
    COMMAND ${NODE_EXECUTABLE} ${CMAKE_CURRENT_SOURCE_DIR}/e2e/dashboard.mjs)
  set_tests_properties(e2e.dashboard PROPERTIES TIMEOUT 600 LABELS e2e
    ENVIRONMENT "AGENTFLOW_BIN=${CMAKE_BINARY_DIR}/bin;AGENTFLOW_SRC=${CMAKE_SOURCE_DIR};AGENTFLOW_E2E_OUT=${CMAKE_BINARY_DIR}/test-output/e2e")
endif()
