/* A slow disk for bench/ingest_http.py: fsync and fdatasync sleep FSYNC_DELAY_US first.
 *
 *   gcc -O2 -shared -fPIC -o /tmp/slowfsync.so bench/slowfsync.c -ldl
 *   LD_PRELOAD=/tmp/slowfsync.so FSYNC_DELAY_US=5000 python bench/ingest_http.py \
 *       --sqlite-synchronous full --one-tx-also-at normal ...
 *
 * Our VM's disk syncs in ~0.2 ms when quiet; a spinning disk or a network volume takes 5-20 ms.
 * What group commit saves grows with that, so BENCHMARKS.md measures it here too. Under load
 * the sleep overshoots (5 ms asked, ~13 ms a COMMIT measured with sqlite3 alone): say what a
 * COMMIT cost, not the delay asked. Every process of the run inherits it (the floor too).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <unistd.h>

static void slow(void) {
    const char *value = getenv("FSYNC_DELAY_US");
    if (value) usleep((useconds_t)atol(value));
}

int fsync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    slow();
    return real(fd);
}

int fdatasync(int fd) {
    static int (*real)(int);
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    slow();
    return real(fd);
}
