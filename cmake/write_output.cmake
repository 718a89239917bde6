# write_output.cmake — run PROGRAM with ARG and keep its stdout as OUT
# (written to OUT.tmp first, so a failed run never leaves half a file).
#   cmake -DPROGRAM=... -DARG=... -DOUT=... -P write_output.cmake
execute_process(COMMAND ${PROGRAM} ${ARG} OUTPUT_FILE ${OUT}.tmp RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  file(REMOVE ${OUT}.tmp)
  message(FATAL_ERROR "${PROGRAM} ${ARG} failed: ${rc}")
endif()
file(RENAME ${OUT}.tmp ${OUT})
