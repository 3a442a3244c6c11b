/* Description: a consumer's create/send/recv round trip, built two ways:
 * as a meson subproject consumer (tests/subproject/meson.build) and with
 * pkg-config against an installed copy (scripts/test-install.sh, which
 * defines ROUNDTRIP_VIA). */
/* SPDX-License-Identifier: MIT */
#include <shmring.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifndef ROUNDTRIP_VIA
#define ROUNDTRIP_VIA "subproject"
#endif

int main(void)
{
	shmring_config cfg = {.slot_size = 64, .slot_count = 8};
	shmring *prod = NULL, *cons = NULL;
	char name[64], buf[64];
	size_t len = 0;
	int rc;

	snprintf(name, sizeof name, "srt-" ROUNDTRIP_VIA "-%ld",
	         (long)getpid());
	rc = shmring_create(name, &cfg, SHMRING_PRODUCER, &prod);
	if (rc == SHMRING_OK)
		rc = shmring_open(name, SHMRING_CONSUMER, &cons);
	if (rc == SHMRING_OK)
		rc = shmring_send(prod, "round trip", 10, SHMRING_NOWAIT);
	if (rc == SHMRING_OK)
		rc = shmring_recv(cons, buf, sizeof buf, &len, 1000);
	shmring_close(prod);
	shmring_close(cons);
	shmring_unlink(name);
	if (rc != SHMRING_OK || len != 10 || memcmp(buf, "round trip", 10)) {
		fprintf(stderr, "round trip failed: %s\n",
		        shmring_strerror(rc));
		return 1;
	}
	printf("round trip ok (" ROUNDTRIP_VIA ")\n");
	return 0;
}
