# Writes leakbench/version.hpp at build time, and only when its content changes, so that the
# git commit in leakbench's JSON context is the one the binary was built from.
execute_process(COMMAND git rev-parse --short=12 HEAD WORKING_DIRECTORY "${SOURCE_DIR}"
                OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET
                RESULT_VARIABLE failed)
if(failed OR commit STREQUAL "")
  set(commit "unknown")
else()
  execute_process(COMMAND git status --porcelain --untracked-files=no WORKING_DIRECTORY "${SOURCE_DIR}"
                  OUTPUT_VARIABLE dirty OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(NOT dirty STREQUAL "")
    string(APPEND commit "-dirty")
  endif()
endif()
set(content "#pragma once\n\nnamespace leakbench {\ninline constexpr const char* k_version = \"${VERSION}\";\ninline constexpr const char* k_git_commit = \"${commit}\";\n}  // namespace leakbench\n")
set(path "${OUTPUT_DIR}/leakbench/version.hpp")
if(EXISTS "${path}")
  file(READ "${path}" old)
endif()
if(NOT old STREQUAL content)
  file(WRITE "${path}" "${content}")
endif()
