#define _GNU_SOURCE
#include <pthread.h>
#include <string.h>
#include "CSystem.h"

int csystem_set_thread_name(const char *name) {
    char truncated[16];
    strncpy(truncated, name, sizeof truncated - 1);
    truncated[sizeof truncated - 1] = '\0';
    return pthread_setname_np(pthread_self(), truncated);
}

#include <malloc.h>

void csystem_keep_large_allocations_in_heap(void) {
    mallopt(M_MMAP_THRESHOLD, 256 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
}
