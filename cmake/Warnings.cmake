# Every target of ours links synack_warnings: warnings are errors everywhere.
add_library(synack_warnings INTERFACE)
target_compile_options(synack_warnings INTERFACE
  -Wall -Wextra -Werror -Wshadow -Wconversion -Wsign-conversion -Wnon-virtual-dtor
  -Wold-style-cast -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough)
