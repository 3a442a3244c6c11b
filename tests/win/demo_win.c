/* SPDX-License-Identifier: MIT */
/*
 * demo_win.c -- the Windows demo (scripts/demo-windows.sh): this process
 * creates a ring as producer, starts itself again as the consumer with
 * CreateProcessW, and streams for a few seconds, printing live figures once
 * a second and a final line. The consumer checks every sequence number and
 * the total; the demo fails (exit 1) on any loss, duplicate or reorder.
 *
 *   demo_win.exe [--seconds N] [--size BYTES] [--slots N]
 *
 * Under Wine every sleep and wake-up is a round trip to wineserver: the
 * figures say how this build behaves under Wine, not what Windows does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shmring.h"
#include "tap.h"
#include "winutil.h"

#define TRAILER  UINT64_MAX /* last message: the number sent before it */
#define MAX_SIZE (1u << 20)

static uint8_t msg[MAX_SIZE];

struct opts {
	double seconds;
	size_t size;
	uint32_t slots;
};

static int parse(int argc, char **argv, struct opts *o)
{
	*o = (struct opts){.seconds = 3.0, .size = 64, .slots = 1024};
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(argv[i], "--seconds") && v)
			o->seconds = atof(v);
		else if (!strcmp(argv[i], "--size") && v)
			o->size = (size_t)strtoul(v, NULL, 0);
		else if (!strcmp(argv[i], "--slots") && v)
			o->slots = (uint32_t)strtoul(v, NULL, 0);
		else {
			fprintf(stderr,
			        "usage: %s [--seconds N] [--size BYTES] "
			        "[--slots N]\n",
			        argv[0]);
			return -1;
		}
		i++;
	}
	if (o->size < 16 || o->size > MAX_SIZE || o->seconds <= 0) {
		fprintf(stderr, "demo: 16 <= --size <= %u, --seconds > 0\n",
		        MAX_SIZE);
		return -1;
	}
	return 0;
}

/* The consumer: exit 0 only if every message came, once and in order. */
static int consume(const char *name)
{
	uint64_t want = 0, seq, total;
	shmring *r = NULL;
	size_t len;
	int rc;

	tap_init();
	if (shmring_open(name, SHMRING_CONSUMER, &r))
		return 2;
	for (;;) {
		rc = shmring_recv(r, msg, sizeof msg, &len, SHMRING_FOREVER);
		if (rc != SHMRING_OK)
			break;
		memcpy(&seq, msg, 8);
		if (seq == TRAILER) {
			memcpy(&total, msg + 8, 8);
			rc = total == want ? SHMRING_OK : SHMRING_EBADFMT;
			break;
		}
		if (seq != want++) {
			fprintf(stderr, "consumer: got %llu, want %llu\n",
			        (unsigned long long)seq,
			        (unsigned long long)(want - 1));
			rc = SHMRING_EBADFMT;
			break;
		}
	}
	shmring_close(r);
	return rc == SHMRING_OK ? 0 : 1;
}

static int produce(shmring *r, const struct opts *o, uint64_t *sent)
{
	double t0 = wu_now_ms(), next = t0 + 1000, now = t0;
	uint64_t seq = 0, last = 0;
	int rc = SHMRING_OK;

	while (rc == SHMRING_OK && now - t0 < o->seconds * 1000) {
		for (int i = 0; i < 1024 && rc == SHMRING_OK; i++, seq++) {
			memcpy(msg, &seq, 8);
			rc = shmring_send(r, msg, o->size, 5000);
		}
		now = wu_now_ms();
		if (rc == SHMRING_OK && now >= next) {
			printf("  %4.1f s  %10llu msgs  %9.0f msgs/s  %7.1f "
			       "MB/s\n",
			       (now - t0) / 1000, (unsigned long long)seq,
			       (double)(seq - last) * 1000 /
			               (now - next + 1000),
			       (double)(seq - last) * (double)o->size /
			               (now - next + 1000) / 1000);
			last = seq;
			next += 1000;
		}
	}
	*sent = seq;
	memcpy(msg, &(uint64_t){TRAILER}, 8);
	memcpy(msg + 8, &seq, 8);
	if (rc == SHMRING_OK)
		rc = shmring_send(r, msg, 16, 5000);
	return rc;
}

int main(int argc, char **argv)
{
	char name[WU_NAME_MAX], args[WU_NAME_MAX + 16];
	struct opts o;
	shmring_config cfg = {0};
	shmring *r = NULL;
	uint64_t sent = 0;
	HANDLE child;
	double t0, secs;
	int rc, crc;

	if (argc == 4 && !strcmp(argv[1], "--child"))
		return consume(argv[3]);
	tap_init();
	if (parse(argc, argv, &o))
		return 2;
	cfg.slot_size = (uint32_t)o.size;
	cfg.slot_count = o.slots;
	wu_name(name, "demo");
	rc = shmring_create(name, &cfg, SHMRING_PRODUCER, &r);
	if (rc != SHMRING_OK) {
		fprintf(stderr, "demo: create: %s\n", shmring_strerror(rc));
		return 1;
	}
	snprintf(args, sizeof args, "consume %s", name);
	child = wu_spawn(args);
	if (!child) {
		fprintf(stderr, "demo: CreateProcessW failed (%lu)\n",
		        (unsigned long)GetLastError());
		return 1;
	}
	printf("shmring Windows demo: producer pid %lu -> consumer pid %lu, "
	       "%zu-byte messages, %u slots, %.0f s (under Wine)\n",
	       (unsigned long)GetCurrentProcessId(),
	       (unsigned long)GetProcessId(child), o.size, o.slots, o.seconds);
	t0 = wu_now_ms();
	rc = produce(r, &o, &sent);
	shmring_close(r); /* end of stream */
	crc = wu_reap(child, 30000);
	secs = (wu_now_ms() - t0) / 1000;
	if (rc != SHMRING_OK || crc != 0) {
		fprintf(stderr, "demo: FAILED: producer %s, consumer exit %d\n",
		        shmring_strerror(rc), crc);
		return 1;
	}
	printf("windows demo: %llu msgs of %zu bytes in %.2f s: %.0f msgs/s, "
	       "%.1f MB/s, all verified by the consumer process "
	       "(Wine figures, not Windows ones)\n",
	       (unsigned long long)sent, o.size, secs, (double)sent / secs,
	       (double)sent * (double)o.size / secs / 1e6);
	return 0;
}
