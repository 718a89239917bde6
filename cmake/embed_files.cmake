# embed_files.cmake — turns the files under SRC_DIR matching PATTERN
# (recursively, in name order) into a C table of {path, data, len}, so
# static content (the web UI, the OpenAPI document) ships inside the
# binary. Paths are relative to SRC_DIR with '/' separators.
# Usage: cmake -DSRC_DIR=<dir> -DPATTERN=<glob> -DOUT=<file.c> -DPREFIX=<name>
#              -P embed_files.cmake
# defines PREFIX_files[] and PREFIX_files_count (struct embedded_file, see
# src/server/embedded.h).
if(NOT PATTERN)
  set(PATTERN "*")
endif()
file(GLOB_RECURSE files RELATIVE "${SRC_DIR}" "${SRC_DIR}/${PATTERN}")
list(SORT files)
set(body "")
set(table "")
set(count 0)
foreach(rel ${files})
  if(IS_DIRECTORY "${SRC_DIR}/${rel}")
    continue()
  endif()
  file(READ "${SRC_DIR}/${rel}" hex HEX)
  string(LENGTH "${hex}" hexlen)
  math(EXPR len "${hexlen} / 2")
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(APPEND body "static const unsigned char file_${count}[] = {${bytes}0x00};\n")
  string(APPEND table "\t{ \"${rel}\", file_${count}, ${len} },\n")
  math(EXPR count "${count}+1")
endforeach()
if(count EQUAL 0)
  set(table "\t{ 0 },\n")
endif()
file(WRITE "${OUT}.tmp" "/* Generated from ${SRC_DIR} by cmake/embed_files.cmake. */\n#include \"server/embedded.h\"\n${body}\nconst struct embedded_file ${PREFIX}_files[] = {\n${table}};\nconst size_t ${PREFIX}_files_count = ${count};\n")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
