# Warnings, CPU tuning and sanitizers for Anchorage's own targets only: link
# anchorage::options PRIVATE; third-party headers stay warning-free because
# imported targets' include directories are SYSTEM.
add_library(anchorage_options INTERFACE)
add_library(anchorage::options ALIAS anchorage_options)
target_compile_options(anchorage_options INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion
  -Wno-missing-field-initializers
  # GCC 12 warns falsely on std::string concatenation at -O3 (GCC PR 105329).
  $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>
  $<$<BOOL:${ANCHORAGE_WERROR}>:-Werror>
  $<$<BOOL:${ANCHORAGE_NATIVE}>:-march=native>)
if(ANCHORAGE_SANITIZE)
  target_compile_options(anchorage_options INTERFACE
    -fsanitize=${ANCHORAGE_SANITIZE} -fno-omit-frame-pointer
    -fno-sanitize-recover=all)
  target_link_options(anchorage_options INTERFACE
    -fsanitize=${ANCHORAGE_SANITIZE})
endif()
