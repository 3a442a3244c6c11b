/* SPDX-License-Identifier: MIT */
/* arch.h -- the one processor-specific helper the ring needs. */
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

#endif /* SHMRING_ARCH_H */
