/* SPDX-License-Identifier: MIT */
/*
 * fuzz_common.h -- helpers shared by the libFuzzer harnesses and their
 * replay mains: a property check that aborts (so libFuzzer and the replay
 * both report it), unique segment names, and the sets of return codes the
 * contract (include/shmring.h) allows per call.
 */
#ifndef SHMRING_FUZZ_COMMON_H
#define SHMRING_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "shmring.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond)                                                      \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: property failed: %s\n",        \
			        __FILE__, __LINE__, #cond);                    \
			abort();                                               \
		}                                                              \
	} while (0)

/* Codes a data-path call may return with valid arguments (EINVAL is a
 * usage error the harnesses check separately where they expect it). */
static inline int fuzz_data_code(int rc)
{
	return rc == SHMRING_OK || rc == SHMRING_EINVAL ||
	       rc == SHMRING_EAGAIN || rc == SHMRING_ETIMEDOUT ||
	       rc == SHMRING_EMSGSIZE || rc == SHMRING_ECLOSED ||
	       rc == SHMRING_EPEERDEAD || rc == SHMRING_EBADFMT;
}

/* Codes shmring_open may return. */
static inline int fuzz_open_code(int rc)
{
	return rc == SHMRING_OK || rc == SHMRING_ENOENT ||
	       rc == SHMRING_EACCES || rc == SHMRING_EBUSY ||
	       rc == SHMRING_EBADFMT || rc == SHMRING_ENOMEM ||
	       rc == SHMRING_ESYS;
}

/* "fuzz-<tag>-<pid>-<n>": unique per process and call, so parallel
 * fuzzers and meson tests never collide. */
static inline void fuzz_name(char *buf, size_t cap, const char *tag)
{
	static unsigned n;

	snprintf(buf, cap, "fuzz-%s-%ld-%u", tag, (long)getpid(), n++);
}

#endif /* SHMRING_FUZZ_COMMON_H */
