# Writes a C++ file that defines one function returning the text of a file, so the binary needs no
# files at run time (the dashboard page). Invoked by the build with -DIN=<file> -DOUT=<file>
# -DNAME=<function> -DNAMESPACE=<namespace>.
file(READ "${IN}" text)
string(FIND "${text}" ")energyhub_text\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${IN} contains the raw string delimiter )energyhub_text\"")
endif()
file(WRITE "${OUT}.tmp" "// Generated from ${IN} by cmake/bundle_text.cmake. Do not edit.\n#include <string_view>\n\nnamespace ${NAMESPACE} {\n\nstd::string_view ${NAME}() {\n    static constexpr std::string_view text = R\"energyhub_text(${text})energyhub_text\";\n    return text;\n}\n\n}  // namespace ${NAMESPACE}\n")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
