#ifndef CSYSTEM_H
#define CSYSTEM_H

/// Names the calling thread (Linux keeps 15 bytes), so `top -H` and `perf` can tell threads apart.
int csystem_set_thread_name(const char *name);



/// Keeps large allocations (multi-megabyte replies) in the reusable heap instead of fresh mmap
/// pages, which the kernel must zero and fault in on every request.
void csystem_keep_large_allocations_in_heap(void);
#endif
