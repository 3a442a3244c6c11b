/* SPDX-License-Identifier: MIT */
/* errors.c -- the one table of error strings, checked by tests/test_errors.c */
#include "shmring.h"

static const char *const sr_errstr[] = {
        [0] = "success",
        [-SHMRING_EINVAL] = "invalid argument",
        [-SHMRING_EAGAIN] = "operation would block",
        [-SHMRING_ETIMEDOUT] = "timed out",
        [-SHMRING_EMSGSIZE] = "message too large for the ring or the buffer",
        [-SHMRING_ECLOSED] = "peer closed",
        [-SHMRING_EPEERDEAD] = "peer process died",
        [-SHMRING_EEXIST] = "a live ring has that name",
        [-SHMRING_ENOENT] = "no such ring",
        [-SHMRING_EACCES] = "permission denied",
        [-SHMRING_EBUSY] = "role already attached by a live process",
        [-SHMRING_EBADFMT] = "segment is not a valid shmring",
        [-SHMRING_ENOMEM] = "out of memory",
        [-SHMRING_ESYS] = "operating-system failure",
        [-SHMRING_EINTR] = "interrupted by a signal",
};

const char *shmring_strerror(int code)
{
	if (code > 0 ||
	    code < -(int)(sizeof sr_errstr / sizeof sr_errstr[0] - 1))
		return "unknown shmring error";
	return sr_errstr[-code];
}
