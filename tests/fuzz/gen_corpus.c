/* SPDX-License-Identifier: MIT */
/*
 * gen_corpus.c -- writes the seed corpus: gen_corpus DIR writes DIR/open/
 * (segment images made by the library itself, some then damaged) and
 * DIR/ops/ (fuzz_ops scripts, spelled out below op by op).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "layout.h"
#include "shmring.h"

static const char *outdir;

static void put(const char *sub, const char *file, const void *d, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s/%s", outdir, sub, file);
	f = fopen(path, "wb");
	if (!f || fwrite(d, 1, n, f) != n || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

/* The bytes of the segment @name, then unlinked. */
static uint8_t *image(const char *name, size_t *n)
{
	char path[256];
	struct stat st;
	uint8_t *buf;
	int fd;

	snprintf(path, sizeof path, "/shmring.%s", name);
	fd = shm_open(path, O_RDONLY, 0);
	if (fd < 0 || fstat(fd, &st) != 0)
		exit(1);
	*n = (size_t)st.st_size;
	buf = malloc(*n + 1);
	if (!buf || pread(fd, buf, *n, 0) != (ssize_t)*n)
		exit(1);
	close(fd);
	shm_unlink(path);
	return buf;
}

/* A ring of @size x @count holding @msgs messages (producer closed). */
static uint8_t *ring_with(uint32_t size, uint32_t count, int msgs, size_t *n)
{
	shmring_config cfg = {.slot_size = size, .slot_count = count};
	char name[64], msg[256];
	shmring *p, *c;
	const void *d;
	size_t len;

	snprintf(name, sizeof name, "gen-%ld", (long)getpid());
	if (shmring_create(name, &cfg, SHMRING_PRODUCER, &p) != 0 ||
	    shmring_open(name, SHMRING_CONSUMER, &c) != 0)
		exit(1);
	for (int i = 0; i < msgs + 1; i++) {
		memset(msg, 'a' + i, sizeof msg);
		shmring_send(p, msg, (size_t)(i * 11) % (size + 1), 0);
	}
	shmring_peek(c, &d, &len, 0); /* one consumed, one peeked */
	shmring_release(c);
	shmring_peek(c, &d, &len, 0);
	shmring_close(p);
	shmring_close(c);
	return image(name, n);
}

static void put_u64(uint8_t *img, size_t off, uint64_t v)
{
	memcpy(img + off, &v, 8);
}

static void gen_open(void)
{
	size_t n;
	uint8_t *img = ring_with(0, 2, 0, &n);

	put("open", "fresh-default-c2", img, n); /* slot 0 = default */
	put("open", "empty", img, 0);
	put("open", "short-header", img, SR_HDR_SIZE - 1);
	put_u64(img, 0, 0);
	put("open", "magic-zero", img, n);
	free(img);

	img = ring_with(56, 4, 3, &n);
	put("open", "msgs-s56-c4", img, n);
	img[8] = 2; /* version */
	put("open", "bad-version", img, n);
	img[8] = 1;
	memset(img + SR_HDR_SIZE + 64 + 64, 0xff, 4); /* slot 2 length */
	put("open", "bad-slot-len", img, n);
	free(img);

	img = ring_with(120, 8, 5, &n);
	put_u64(img, offsetof(struct sr_seg, role[0].owner), 0x7ffffffeu);
	img[offsetof(struct sr_seg, role[0].state)] = SR_ROLE_ATTACHED;
	put("open", "dead-producer-s120-c8", img, n);
	put_u64(img, offsetof(struct sr_seg, head), UINT64_MAX);
	put_u64(img, offsetof(struct sr_seg, tail), UINT64_MAX - 3);
	put("open", "wrap-s120-c8", img, n);
	put_u64(img, offsetof(struct sr_seg, head), 9);
	put("open", "head-too-far", img, n);
	free(img);
}

static void gen_ops(void)
{
	/* header: slot_size, log2(count)-1, flags (bit 0: start near 2^64);
	 * (bit 1: one 1 ms call allowed); then ops: 0 send len t | 2 claim len
	 * t | 3 commit len | 4 recv cap t | 6 peek t | 7 release | 8 toggle
	 * side | 9 dup side | 10 write target raw[8] mode | 248 sendv n-1 t
	 * len... | 252 recvv n-1 t cap... (t = 7: a 1 ms timed call) */
	static const uint8_t fill[] = {16, 1, 0, 0,  5, 0, 0,  16, 0,  0,  0,
	                               0,  0, 3, 0,  0, 9, 0,  4,  16, 0,  4,
	                               16, 0, 4, 16, 0, 4, 16, 0,  4,  16, 0};
	static const uint8_t zc[] = {32, 2, 0, 2,  20, 0, 3, 12, 6,
	                             0,  6, 0, 7,  2,  0, 0, 3,  0,
	                             6,  0, 4, 32, 0,  7, 4, 32, 0};
	static const uint8_t closing[] = {8, 0, 0, 0, 4, 0, 8, 0, 4, 8, 0,
	                                  4, 8, 0, 8, 0, 0, 3, 0, 4, 8, 0};
	static const uint8_t takeover[] = {8, 0, 0, 0, 3, 0, 0, 4, 0, 6,
	                                   0, 8, 1, 0, 1, 0, 8, 1, 6, 0,
	                                   7, 4, 8, 0, 9, 1, 9, 0};
	static const uint8_t wrap[] = {4, 0, 9, 0, 1, 0, 4, 4, 0, 0,
	                               2, 0, 4, 4, 0, 0, 3, 0, 0, 4,
	                               0, 4, 4, 0, 4, 4, 0, 4, 4, 0};
	static const uint8_t bad_head[] = {8, 1, 0, 0, 3, 0, 10, 13, 13, 0,
	                                   0, 0, 0, 0, 0, 0, 2,  4,  8,  0};
	static const uint8_t wake_word[] = {
	        8,  1, 2, 10, 15, 1, 0, 0, 0, 0, 0, 0, 0, 0, 4, 8, 7, 10,
	        17, 1, 0, 0,  0,  0, 0, 0, 0, 0, 0, 3, 0, 7, 4, 8, 0};
	static const uint8_t hdr_dirty[] = {8,  1, 0, 0, 3, 0, 10, 5,
	                                    64, 0, 0, 0, 0, 0, 0,  0,
	                                    0,  8, 1, 8, 1, 4, 8,  0};
	static const uint8_t slot_len[] = {
	        8,    1, 0, 0, 3, 0, 10, 0x80, 0xff, 0xff, 0xff,
	        0xff, 0, 0, 0, 0, 0, 4,  8,    0,    6,    0};

	/* sendv 3; sendv 4 of which 1 fits; recvv 4; recvv on empty;
	 * sendv with one message too large */
	static const uint8_t batch[] = {
	        8,   1, 0, 248, 2, 0, 5, 9,   0, 249, 3, 0,   1, 2, 3,  4,
	        252, 3, 0, 9,   9, 2, 9, 253, 0, 0,   0, 250, 1, 0, 10, 3};
	/* two messages, the second's length made absurd: recvv takes one */
	static const uint8_t batch_bad_len[] = {
	        8,    1,    0,    0,    5, 0,   0, 6, 0, 10,  0x84,
	        0xff, 0xff, 0xff, 0xff, 0, 0,   0, 0, 0, 252, 3,
	        0,    9,    9,    9,    9, 252, 0, 0, 9};

	put("ops", "batch", batch, sizeof batch);
	put("ops", "batch-bad-len", batch_bad_len, sizeof batch_bad_len);
	put("ops", "fill-drain", fill, sizeof fill);
	put("ops", "zero-copy", zc, sizeof zc);
	put("ops", "close-eos-reopen", closing, sizeof closing);
	put("ops", "consumer-takeover", takeover, sizeof takeover);
	put("ops", "wrap", wrap, sizeof wrap);
	put("ops", "bad-head", bad_head, sizeof bad_head);
	put("ops", "wake-word-forced", wake_word, sizeof wake_word);
	put("ops", "header-dirty-reopen", hdr_dirty, sizeof hdr_dirty);
	put("ops", "slot-len-absurd", slot_len, sizeof slot_len);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	gen_open();
	gen_ops();
	return 0;
}
