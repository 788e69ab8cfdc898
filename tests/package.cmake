# The Debian packages (cmake/package.cmake): cpack makes them, dpkg -i
# installs agentflow-node on this machine, a node runs from the installed
# layout as its unit would start it, dpkg --purge removes it all.  Needs
# root (it skips, saying so, without); when this build is not configured
# for /usr it builds the packaged targets again in a temporary build
# (-j1, about 45 s on two cores, more beside other tests: one core stays with the tests running
# beside it), hence the longer timeout.  RESOURCE_LOCK: one dpkg at a time,
# and not beside system.cli_find, which makes /var/lib/agentflow for a moment.
if(AGENTFLOW_SANITIZE)
  message(STATUS "system.package is not registered in the sanitizer build: "
    "packages ship release binaries, so it tests them in a build without "
    "AGENTFLOW_SANITIZE")
else()
  agentflow_system_test(package test_package.py)
  # A skip (no root, an install already here) shows as "Not Run", never
  # as a pass.
  set_tests_properties(system.package PROPERTIES TIMEOUT 1200
    LABELS "system;package" RESOURCE_LOCK "dpkg;var_lib_agentflow"
    SKIP_REGULAR_EXPRESSION "system.package skipped")
endif()
