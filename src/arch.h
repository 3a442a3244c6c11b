/* SPDX-License-Identifier: MIT */
/* arch.h -- the processor-specific helpers the ring needs. */
#ifndef SHMRING_ARCH_H
#define SHMRING_ARCH_H

#include <stdatomic.h>

/* Tell the core we are in a spin-wait loop (saves power, frees the sibling
 * hyper-thread, avoids a memory-order machine clear on loop exit). */
static inline void sr_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	atomic_signal_fence(memory_order_seq_cst);
#endif
}

/* Start taking the cache line at @p for writing (exclusive), so that later
 * stores to it do not wait for the other core to give it up. A hint: no
 * effect on memory contents or ordering. GCC emits PREFETCHW for
 * __builtin_prefetch(p, 1) only with -mprfchw, so x86 spells it out
 * (0F 0D /1: a no-op on the few x86-64 CPUs that lack it). */
static inline void sr_prefetch_write(const void *p)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ __volatile__("prefetchw %0" : : "m"(*(const char *)p));
#else
	__builtin_prefetch(p, 1, 3);
#endif
}

#endif /* SHMRING_ARCH_H */
