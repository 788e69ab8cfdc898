# cmake -DEXE=PROGRAM -DARGS="a;b" -DOUT=FILE -P capture.cmake: runs
# PROGRAM ARGS and keeps its standard output in FILE, for the files the
# build makes with its own binaries (man pages, shell completions) so that
# they have no source but the tables --help prints.  FILE is replaced only
# when the program succeeds.
execute_process(COMMAND ${EXE} ${ARGS} OUTPUT_FILE ${OUT}.tmp
  RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  file(REMOVE ${OUT}.tmp)
  message(FATAL_ERROR "${EXE} ${ARGS}: exit ${rc}")
endif()
file(RENAME ${OUT}.tmp ${OUT})
