/* Description: a pkg-config consumer round trip. */
/* SPDX-License-Identifier: MIT */
#include <shmring.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	shmring_config cfg = {.slot_size = 64, .slot_count = 8};
	shmring *prod = NULL, *cons = NULL;
	char name[64], buf[64];
	size_t len = 0;
	int rc;

	snprintf(name, sizeof name, "srt-pkgconfig-%ld", (long)getpid());
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
	printf("round trip ok (pkg-config)\n");
	return 0;
}
