# CPack: two Debian packages from the install rules' components,
#   agentflow-node    the node, the CLI, the dashboard, man pages,
#                     completions, agentflow-healthcheck (for a signal
#                     too: deploy/CMakeLists.txt says why), its unit
#                     (component node)
#   agentflow-signal  the signal and its unit (component signal)
# with their libraries' dependencies from dpkg-shlibdeps and the
# maintainer scripts deploy/CMakeLists.txt makes from deploy/debian/.
# A package installs where the build was configured to (the unit's
# ExecStart and the node's dashboard directory are this prefix's), so
# packages come from a build made with -DCMAKE_INSTALL_PREFIX=/usr:
#   cmake -S . -B build-deb -DCMAKE_INSTALL_PREFIX=/usr
#   cmake --build build-deb -j2 && (cd build-deb && cpack)
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME agentflow)
set(CPACK_PACKAGE_VENDOR "AgentFlow")
set(CPACK_PACKAGE_CONTACT "AgentFlow maintainers <agentflow@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "a mesh of home servers: tasks, jobs, services, alerts")
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL node signal)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# adduser: the user where there is no systemd-sysusers.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")

set(CPACK_DEBIAN_NODE_PACKAGE_NAME agentflow-node)
# libcurl4: loaded only by a node whose --notify names an e-mail channel
# (node/work/notify_curl.h), so shlibdeps cannot see it.  libarchive13:
# loaded by a node's first artifact unpack (common/lazylib.h), a part of
# services every node may be asked for, so a dependency.
set(CPACK_DEBIAN_NODE_PACKAGE_RECOMMENDS "libcurl4")
set(CPACK_DEBIAN_NODE_PACKAGE_DEPENDS "adduser, libarchive13")
set(CPACK_COMPONENT_NODE_DESCRIPTION "AgentFlow mesh node, the agentflow CLI, the dashboard and the healthcheck")
set(CPACK_DEBIAN_NODE_PACKAGE_CONTROL_EXTRA
  ${AGENTFLOW_DEBIAN_DIR}/node/postinst ${AGENTFLOW_DEBIAN_DIR}/node/prerm
  ${AGENTFLOW_DEBIAN_DIR}/node/postrm)
set(CPACK_DEBIAN_SIGNAL_PACKAGE_NAME agentflow-signal)
set(CPACK_COMPONENT_SIGNAL_DESCRIPTION "AgentFlow signal: the mesh's rendezvous on a public host")
set(CPACK_DEBIAN_SIGNAL_PACKAGE_CONTROL_EXTRA
  ${AGENTFLOW_DEBIAN_DIR}/signal/postinst ${AGENTFLOW_DEBIAN_DIR}/signal/prerm
  ${AGENTFLOW_DEBIAN_DIR}/signal/postrm)
include(CPack)
