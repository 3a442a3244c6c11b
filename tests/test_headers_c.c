/* Description: the public header alone in C, strict warnings. */
/* SPDX-License-Identifier: MIT */
/*
 * Built with -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes -Werror
 * against the public library only (no internal headers), as a user would.
 * The header comes first, so it must include everything it needs.
 */
#include "shmring.h"
#include "shmring.h" /* include guard */

#include <stdio.h>
#include <string.h>

_Static_assert(SHMRING_OK == 0 && SHMRING_ESYS == -13, "stable codes");
_Static_assert(SHMRING_NOWAIT == 0 && SHMRING_FOREVER == -1, "timeouts");
_Static_assert(sizeof(shmring_config) == 20, "five uint32_t fields");

int main(void)
{
	shmring_config cfg = {0, 0, 0, 0, 0};
	shmring_stats st;
	enum shmring_role role = SHMRING_PRODUCER;

	(void)cfg;
	memset(&st, 0, sizeof st);
	if (shmring_max_msg(NULL) != 0 || shmring_close(NULL) != SHMRING_OK ||
	    shmring_get_stats(NULL, &st) != SHMRING_EINVAL ||
	    role != SHMRING_PRODUCER) {
		fprintf(stderr, "unexpected results\n");
		return 1;
	}
	printf("%s\n", shmring_strerror(SHMRING_EBADFMT));
	return 0;
}
