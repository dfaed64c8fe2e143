# Runs at every build (cmake -P, from the thaw_build_info target): writes the sources' git state and
# the compiler into a header for run records. configure_file rewrites the header only when its text
# changes, so an unchanged tree recompiles nothing. Without git or a repository: "unknown".
execute_process(COMMAND git describe --always --dirty WORKING_DIRECTORY "${SRC}" OUTPUT_VARIABLE THAW_GIT_DESCRIBE
                RESULT_VARIABLE describe_rc OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
execute_process(COMMAND git rev-parse HEAD WORKING_DIRECTORY "${SRC}" OUTPUT_VARIABLE THAW_GIT_COMMIT
                RESULT_VARIABLE commit_rc OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT describe_rc EQUAL 0 OR THAW_GIT_DESCRIBE STREQUAL "")
  set(THAW_GIT_DESCRIBE "unknown")
endif()
if(NOT commit_rc EQUAL 0 OR THAW_GIT_COMMIT STREQUAL "")
  set(THAW_GIT_COMMIT "unknown")
endif()
if(THAW_GIT_DESCRIBE STREQUAL "unknown")
  set(THAW_GIT_DIRTY "unknown")
elseif(THAW_GIT_DESCRIBE MATCHES "-dirty$")
  set(THAW_GIT_DIRTY "yes")
else()
  set(THAW_GIT_DIRTY "no")
endif()
configure_file("${SRC}/cmake/build_info.h.in" "${OUT}" @ONLY)
