# Cross build for 64-bit Raspberry Pi OS / Debian arm64 (scripts/arm64.sh uses it).
# The target's libraries come from a Debian arm64 sysroot: ENERGYHUB_SYSROOT, made by mmdebstrap.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
# clang, which targets arm64 as it is: it builds this tree with 0.7 × GCC's CPU time (and the
# sanitizer trees are clang's already). The C++ library, start files and libgcc are the sysroot's
# GCC 12 ones, as a Pi's own build would use; the linker is binutils' aarch64-linux-gnu-ld.
set(CMAKE_C_COMPILER clang-14)
set(CMAKE_CXX_COMPILER clang++-14)
set(CMAKE_C_COMPILER_TARGET aarch64-linux-gnu)
set(CMAKE_CXX_COMPILER_TARGET aarch64-linux-gnu)

# Given as -DENERGYHUB_SYSROOT or in the environment; kept in the environment so that the
# compiler checks' own projects, which read this file again without the cache, see it too.
if(ENERGYHUB_SYSROOT)
  set(ENV{ENERGYHUB_SYSROOT} "${ENERGYHUB_SYSROOT}")
else()
  set(ENERGYHUB_SYSROOT "$ENV{ENERGYHUB_SYSROOT}")
endif()
if(NOT ENERGYHUB_SYSROOT OR NOT IS_DIRECTORY "${ENERGYHUB_SYSROOT}/usr/lib/aarch64-linux-gnu")
  message(FATAL_ERROR "ENERGYHUB_SYSROOT='${ENERGYHUB_SYSROOT}' is not an arm64 Debian sysroot")
endif()
set(CMAKE_SYSROOT "${ENERGYHUB_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH "${ENERGYHUB_SYSROOT}")
# Programs run on the build machine; libraries, headers and packages come from the sysroot only.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

# pkg-config reads the sysroot's .pc files and prefixes their paths with it.
set(ENV{PKG_CONFIG_DIR} "")
set(ENV{PKG_CONFIG_LIBDIR} "${ENERGYHUB_SYSROOT}/usr/lib/aarch64-linux-gnu/pkgconfig:${ENERGYHUB_SYSROOT}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${ENERGYHUB_SYSROOT}")

# Tests built here run under qemu-user with the sysroot's loader and libraries.
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64-static -L "${ENERGYHUB_SYSROOT}")
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE arm64)
