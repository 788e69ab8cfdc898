# The images: deploy/build-images.sh builds deploy/Dockerfile.* with podman
# (the Debian base made with debootstrap), then the test runs a signal and
# two nodes from them on loopback.  Needs root, Debian's mirror and the npm
# registry.  A cold build takes about 6.5 minutes on two cores, a warm one
# 30 s (a change under tests/ or a source directory compiles the image's
# build stage again, 2 minutes), hence the longer timeout; it runs alone so
# that its compiler does not slow the timing-sensitive tests.  `ctest -LE
# images` leaves it out.  The images are built from the sources, not from
# this build tree, so the sanitizer build does not build them again.
if(NOT AGENTFLOW_SANITIZE)
  agentflow_system_test(images test_images.py)
  set_tests_properties(system.images PROPERTIES TIMEOUT 1800 RUN_SERIAL TRUE
    LABELS "system;images")
endif()
