/*
 * Preloaded after the AddressSanitizer runtime when the ASan build of the plugin runs inside the
 * uninstrumented system mosquitto (LD_PRELOAD="libasan.so libstdc++.so.6 energyhub_asan_preload.so").
 * Test-only.
 *
 * Why: a preloaded ASan runtime initializes itself at the first malloc(). In mosquitto on Debian 12
 * that first malloc() happens in libgpg-error's constructor, inside bindtextdomain(), while glibc
 * holds its gettext lock for writing; ASan's initialization then translates a dlerror() message,
 * taking the same lock for reading, and leaves it in a state where every later writer waits
 * forever. The next writer is libpq's bindtextdomain() on its first connection: the plugin's
 * refresher thread would hang (google/sanitizers#1270). This bindtextdomain() allocates once
 * before calling the real one, so ASan is initialized before the lock is ever taken.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

typedef char* (*bindtextdomain_fn)(const char*, const char*);

__attribute__((visibility("default"))) char* bindtextdomain(const char* domainname, const char* dirname) {
    static int asan_ready;
    static bindtextdomain_fn real;
    if (!__atomic_load_n(&asan_ready, __ATOMIC_ACQUIRE)) {
        void* volatile first = malloc(1); /* volatile: the compiler may not drop the pair */
        free(first);
        __atomic_store_n(&asan_ready, 1, __ATOMIC_RELEASE);
    }
    bindtextdomain_fn fn = __atomic_load_n(&real, __ATOMIC_ACQUIRE);
    if (!fn) {
        void* sym = dlsym(RTLD_NEXT, "bindtextdomain");
        memcpy(&fn, &sym, sizeof fn);  /* the POSIX way to turn dlsym's result into a function */
        __atomic_store_n(&real, fn, __ATOMIC_RELEASE);
    }
    return fn ? fn(domainname, dirname) : NULL;
}
