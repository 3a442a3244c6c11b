/* SPDX-License-Identifier: MIT */
/*
 * demo_win.c -- the Windows demo (scripts/demo-windows.sh): this process
 * creates a ring as producer, starts itself again as the consumer with
 * CreateProcessW, and streams for a few seconds, printing live figures once
 * a second and a final line. The consumer checks every sequence number,
 * every length and the total; the demo fails (exit 1) on any loss,
 * duplicate, reorder or truncation.
 *
 *   demo_win.exe [--seconds N] [--size BYTES] [--slots N] [--slot-size B]
 *
 * The ring is the library's default (SHMRING_DEFAULT_SLOT_COUNT slots of
 * SHMRING_DEFAULT_SLOT_SIZE bytes, max_msg 512 KiB - 8) unless --slots or
 * --slot-size say otherwise: a message larger than a slot spans
 * consecutive slots (format version 2). A --size above the default
 * max_msg asks for max_msg = --size, if the ring can hold one record that
 * large.
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
	uint32_t slots;     /* 0: the library's default */
	uint32_t slot_size; /* 0: the library's default */
};

static int parse(int argc, char **argv, struct opts *o)
{
	*o = (struct opts){.seconds = 3.0, .size = 64};
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(argv[i], "--seconds") && v)
			o->seconds = atof(v);
		else if (!strcmp(argv[i], "--size") && v)
			o->size = (size_t)strtoul(v, NULL, 0);
		else if (!strcmp(argv[i], "--slots") && v)
			o->slots = (uint32_t)strtoul(v, NULL, 0);
		else if (!strcmp(argv[i], "--slot-size") && v)
			o->slot_size = (uint32_t)strtoul(v, NULL, 0);
		else {
			fprintf(stderr,
			        "usage: %s [--seconds N] [--size BYTES] "
			        "[--slots N] [--slot-size BYTES]\n",
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

/* The consumer: exit 0 only if every message came, once, in order and
 * whole (@size bytes). */
static int consume(const char *name, size_t size)
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
		if (len < 16) {
			fprintf(stderr, "consumer: a %zu-byte message\n", len);
			rc = SHMRING_EBADFMT;
			break;
		}
		memcpy(&seq, msg, 8);
		if (seq == TRAILER) {
			memcpy(&total, msg + 8, 8);
			rc = total == want ? SHMRING_OK : SHMRING_EBADFMT;
			break;
		}
		if (seq != want++ || len != size) {
			fprintf(stderr,
			        "consumer: got %llu (%zu bytes), want %llu "
			        "(%zu bytes)\n",
			        (unsigned long long)seq, len,
			        (unsigned long long)(want - 1), size);
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
	char name[WU_NAME_MAX], args[WU_NAME_MAX + 48];
	struct opts o;
	shmring_config cfg = {0};
	shmring *r = NULL;
	uint64_t sent = 0;
	HANDLE child;
	double t0, secs;
	int rc, crc;

	if (argc == 5 && !strcmp(argv[1], "--child"))
		return consume(argv[3], (size_t)strtoul(argv[4], NULL, 0));
	tap_init();
	if (parse(argc, argv, &o))
		return 2;
	cfg.slot_size = o.slot_size;
	cfg.slot_count = o.slots;
	wu_name(name, "demo");
	rc = shmring_create(name, &cfg, SHMRING_PRODUCER, &r);
	if (rc == SHMRING_OK && o.size > shmring_max_msg(r)) {
		/* larger than the default max_msg: ask for one that large */
		shmring_close(r);
		r = NULL;
		cfg.max_msg = (uint32_t)o.size;
		wu_name(name, "demo");
		rc = shmring_create(name, &cfg, SHMRING_PRODUCER, &r);
		if (rc == SHMRING_EINVAL)
			fprintf(stderr,
			        "demo: a %zu-byte message does not fit this "
			        "ring: more --slots or a larger --slot-size\n",
			        o.size);
	}
	if (rc != SHMRING_OK) {
		fprintf(stderr, "demo: create: %s\n", shmring_strerror(rc));
		return 1;
	}
	snprintf(args, sizeof args, "consume %s %zu", name, o.size);
	child = wu_spawn(args);
	if (!child) {
		fprintf(stderr, "demo: CreateProcessW failed (%lu)\n",
		        (unsigned long)GetLastError());
		return 1;
	}
	{
		uint32_t ss =
		        o.slot_size ? o.slot_size : SHMRING_DEFAULT_SLOT_SIZE;
		size_t stride = (SHMRING_RECORD_HEADER + ss + 15u) & ~15u;
		size_t per =
		        (SHMRING_RECORD_HEADER + o.size + stride - 1) / stride;
		printf("shmring Windows demo: producer pid %lu -> consumer pid "
		       "%lu, %zu-byte messages (%zu slot%s each), %u slots of "
		       "%zu bytes, max_msg %zu, %.0f s (under Wine)\n",
		       (unsigned long)GetCurrentProcessId(),
		       (unsigned long)GetProcessId(child), o.size, per,
		       per == 1 ? "" : "s",
		       o.slots ? o.slots : SHMRING_DEFAULT_SLOT_COUNT, stride,
		       shmring_max_msg(r), o.seconds);
	}
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
