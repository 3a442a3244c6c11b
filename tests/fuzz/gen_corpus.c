/* SPDX-License-Identifier: MIT */
/*
 * gen_corpus.c -- writes the seed corpus: gen_corpus DIR writes DIR/open/
 * (segment images made by the library itself, some then damaged) and
 * DIR/ops/ (fuzz_ops scripts, spelled out below op by op) and DIR/mpsc/
 * (fuzz_mpsc scripts, likewise).
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

#include <stddef.h>

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

/* A ring of @size x @count (max_msg @max, 0 = default) whose indices
 * start at @start: messages of @lens[0..n) sent in order (a full ring
 * makes room by receiving one), then @take received and one peeked, both
 * roles closed. */
static uint8_t *ring_img(uint32_t size, uint32_t count, uint32_t max,
                         uint64_t start, const size_t *lens, int n, int take,
                         size_t *out)
{
	shmring_config cfg = {
	        .slot_size = size, .slot_count = count, .max_msg = max};
	char name[64], path[80];
	static char msg[1 << 16], buf[1 << 16];
	shmring *p, *c;
	const void *d;
	size_t len;
	int fd;

	snprintf(name, sizeof name, "gen-%ld", (long)getpid());
	if (shmring_create(name, &cfg, SHMRING_PRODUCER, &p) != 0)
		exit(1);
	if (start) {
		snprintf(path, sizeof path, "/shmring.%s", name);
		shmring_close(p);
		fd = shm_open(path, O_RDWR, 0);
		if (fd < 0 ||
		    pwrite(fd, &start, 8, offsetof(struct sr_seg, head)) != 8 ||
		    pwrite(fd, &start, 8, offsetof(struct sr_seg, tail)) != 8)
			exit(1);
		close(fd);
		if (shmring_open(name, SHMRING_PRODUCER, &p) != 0)
			exit(1);
	}
	if (shmring_open(name, SHMRING_CONSUMER, &c) != 0)
		exit(1);
	for (int i = 0; i < n; i++) {
		memset(msg, 'a' + i, lens[i]);
		while (shmring_send(p, msg, lens[i], 0) == SHMRING_EAGAIN)
			shmring_recv(c, buf, sizeof buf, &len, 0);
	}
	for (int i = 0; i < take; i++)
		shmring_recv(c, buf, sizeof buf, &len, 0);
	shmring_peek(c, &d, &len, 0);
	shmring_close(p);
	shmring_close(c);
	return image(name, out);
}

static void put_u64(uint8_t *img, size_t off, uint64_t v)
{
	memcpy(img + off, &v, 8);
}

static void put_u32(uint8_t *img, size_t off, uint32_t v)
{
	memcpy(img + off, &v, 4);
}

static uint64_t get_u64(const uint8_t *img, size_t off)
{
	uint64_t v;

	memcpy(&v, img + off, 8);
	return v;
}

/* Offset of the header word of the record at the image's tail. */
static size_t tail_word(const uint8_t *img)
{
	struct sr_hdr h;

	memcpy(&h, img, sizeof h);
	return SR_HDR_SIZE +
	       (size_t)(get_u64(img, offsetof(struct sr_seg, tail)) &
	                (h.slot_count - 1)) *
	               h.slot_stride;
}

static void gen_open(void)
{
	static const size_t s56[] = {0, 11, 22, 33};
	/* stride 16, 8 slots: 3 + 2 slots, then one that pads at the end */
	static const size_t s8[] = {40, 20, 5, 40, 0, 24, 40};
	static const size_t full[] = {20, 120};
	size_t n, w;
	uint8_t *img = ring_img(0, 2, 0, 0, NULL, 0, 0, &n);

	put("open", "fresh-default-c2", img, n); /* slot 0 = default */
	put("open", "empty", img, 0);
	put("open", "short-header", img, SR_HDR_SIZE - 1);
	put_u64(img, 0, 0);
	put("open", "magic-zero", img, n);
	free(img);

	img = ring_img(56, 4, 0, 0, s56, 4, 1, &n);
	put("open", "msgs-s56-c4", img, n);
	img[8] = 1; /* a version-1 segment */
	put("open", "version-1", img, n);
	img[8] = 2;
	put_u32(img, offsetof(struct sr_hdr, max_msg), 4 * 64 - 7);
	put("open", "max-msg-too-big", img, n);
	put_u32(img, offsetof(struct sr_hdr, max_msg), 4 * 64 / 2 - 8);
	put_u32(img, offsetof(struct sr_hdr, slot_stride), 128);
	put("open", "stride-wrong", img, n);
	put_u32(img, offsetof(struct sr_hdr, slot_stride), 64);
	put_u32(img, tail_word(img), 0xffffffffu); /* the next record's len */
	put("open", "bad-rec-len", img, n);
	free(img);

	img = ring_img(8, 8, 0, 0, s8, 7, 4, &n);
	put("open", "records-s8-c8", img, n);
	w = tail_word(img);
	img[w + 4] ^= 1u << 2; /* bit 34: the lap */
	put("open", "records-s8-c8-bad-lap", img, n);
	img[w + 4] ^= 1u << 2;
	img[w + 4] &= ~3u; /* type 0: empty */
	put("open", "records-s8-c8-empty-type", img, n);
	img[w + 4] = (uint8_t)((img[w + 4] & ~3u) | SR_REC_PAD);
	put_u32(img, w, 9 * 16 - 8); /* padding of 9 slots: past the end */
	put("open", "records-s8-c8-pad-past-end", img, n);
	free(img);

	img = ring_img(8, 8, 120, UINT64_MAX - 2, full, 2, 1, &n);
	put("open", "max-full-s8-c8-wrap", img, n);
	free(img);

	img = ring_img(120, 8, 0, 0, s56, 4, 1, &n);
	put_u64(img, offsetof(struct sr_seg, role[0].owner), 0x7ffffffeu);
	img[offsetof(struct sr_seg, role[0].state)] = SR_ROLE_ATTACHED;
	put("open", "dead-producer-s120-c8", img, n);
	put_u64(img, offsetof(struct sr_seg, head), UINT64_MAX);
	put_u64(img, offsetof(struct sr_seg, tail), UINT64_MAX - 3);
	put("open", "stale-laps-s120-c8", img, n);
	put_u64(img, offsetof(struct sr_seg, head), 9);
	put_u64(img, offsetof(struct sr_seg, tail), 0);
	put("open", "head-too-far", img, n);
	free(img);
}

/* fuzz_ops script ops (fuzz_ops.c): operands after each */
enum {
	SEND = 0,      /* len t */
	CLAIM = 2,     /* len t */
	COMMIT = 3,    /* len */
	RECV = 4,      /* cap t */
	PEEK = 6,      /* t */
	REL = 7,       /*  */
	TOGGLE = 8,    /* side (0 producer, 1 consumer) */
	DUP = 9,       /* side */
	WRITE = 10,    /* target raw[8] mode */
	CLAIMV = 240,  /* n t len[n] */
	COMMITV = 241, /* n mode(bit 0: NULL lens) [len[n]] */
	PEEKV = 242,   /* n t */
	RELV = 243,    /* n */
	WORD = 244,    /* which mode raw[8] */
	SENDV = 248,   /* n-1 t len[n] */
	RECVV = 252,   /* n-1 t cap[n] */
};
/* size escapes (fz_size) and the header bytes (fz_setup) */
#define LIMIT   0xf0 /* exactly the limit: max_msg, or the claim */
#define PAST    0xf1 /* one past it */
#define SLOTS   0xf5 /* then k - 1: exactly k slots */
#define S8_C8   7, 2 /* slot size 8 (stride 16), 8 slots */
#define MAXFULL 0x08 /* d[1]: max_msg = stride * count - 8 */
#define RAW8    0, 0, 0, 0, 0, 0, 0, 0

#define PUT(name, ...)                                                         \
	do {                                                                   \
		static const uint8_t b_[] = {__VA_ARGS__};                     \
		put("ops", name, b_, sizeof b_);                               \
	} while (0)

static void gen_ops(void)
{
	/* version-1 era scripts, kept as they were written (the encoding of
	 * their ops is unchanged; sizes now reach over many slots) */
	PUT("fill-drain", 16, 1, 0, 0, 5, 0, 0, 16, 0, 0, 0, 0, 0, 3, 0, 0, 9,
	    0, 4, 16, 0, 4, 16, 0, 4, 16, 0, 4, 16, 0, 4, 16, 0);
	PUT("zero-copy", 32, 2, 0, 2, 20, 0, 3, 12, 6, 0, 6, 0, 7, 2, 0, 0, 3,
	    0, 6, 0, 4, 32, 0, 7, 4, 32, 0);
	PUT("close-eos-reopen", 8, 0, 0, 0, 4, 0, 8, 0, 4, 8, 0, 4, 8, 0, 8, 0,
	    0, 3, 0, 4, 8, 0);
	PUT("consumer-takeover", 8, 0, 0, 0, 3, 0, 0, 4, 0, 6, 0, 8, 1, 0, 1, 0,
	    8, 1, 6, 0, 7, 4, 8, 0, 9, 1, 9, 0);
	PUT("wrap", 4, 0, 9, 0, 1, 0, 4, 4, 0, 0, 2, 0, 4, 4, 0, 0, 3, 0, 0, 4,
	    0, 4, 4, 0, 4, 4, 0, 4, 4, 0);
	PUT("bad-head", 8, 1, 0, 0, 3, 0, 10, 13, 13, 0, 0, 0, 0, 0, 0, 0, 2, 4,
	    8, 0);
	PUT("wake-word-forced", 8, 1, 2, 10, 15, 1, 0, 0, 0, 0, 0, 0, 0, 0, 4,
	    8, 7, 10, 17, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 7, 4, 8, 0);
	PUT("header-dirty-reopen", 8, 1, 0, 0, 3, 0, 10, 5, 64, 0, 0, 0, 0, 0,
	    0, 0, 0, 8, 1, 8, 1, 4, 8, 0);
	PUT("slot-len-absurd", 8, 1, 0, 0, 3, 0, 10, 0x80, 0xff, 0xff, 0xff,
	    0xff, 0, 0, 0, 0, 0, 4, 8, 0, 6, 0);
	/* sendv 3; sendv 4; recvv 4; recvv on empty; sendv, one too long */
	PUT("batch", 8, 1, 0, 248, 2, 0, 5, 9, 0, 249, 3, 0, 1, 2, 3, 4, 252, 3,
	    0, 9, 9, 2, 9, 253, 0, 0, 0, 250, 1, 0, 10, PAST);
	/* two messages, the second's len made absurd: recvv takes one */
	PUT("batch-bad-len", 8, 1, 0, 0, 5, 0, 0, 6, 0, 10, 0x84, 0xff, 0xff,
	    0xff, 0xff, 0, 0, 0, 0, 0, 252, 3, 0, 9, 9, 9, 9, 252, 0, 0, 9);

	/* version 2: records over many slots, stride 16, 8 slots, max_msg
	 * 56 (default): 3 + 2 slots; one that pads the end (slots 6-7) and
	 * goes to slot 0; the consumer skips the padding */
	PUT("records-s8-pad-at-end", S8_C8, 0, SEND, 40, 0, SEND, 20, 0, RECV,
	    LIMIT, 0, SEND, 40, 0, SEND, 40, 0, RECV, LIMIT, 0, RECV, LIMIT, 0,
	    RECV, LIMIT, 0, SEND, 40, 0, SEND, 40, 0, RECV, 39, 0, RECV, LIMIT,
	    0, RECV, LIMIT, 0, RECV, LIMIT, 0, SEND, PAST, 0);
	/* max_msg = all 120 bytes of the 8 slots: one message fills the
	 * ring; at slot 2 one needs 6 slots of padding + 8: the padding is
	 * published alone (EAGAIN), the consumer skips it (EAGAIN), then the
	 * message goes to slot 0 */
	PUT("records-s8-max-full-lone-pad", 7, 2 | MAXFULL, 0, SEND, LIMIT, 0,
	    SEND, 0, 0, RECV, LIMIT, 0, SEND, 20, 0, RECV, LIMIT, 0, SEND,
	    LIMIT, 0, RECV, LIMIT, 0, SEND, LIMIT, 0, RECV, 3, 0, RECV, LIMIT,
	    0, CLAIM, LIMIT, 0, COMMIT, 17, RECV, LIMIT, 0);
	/* the same through claim, claimv and sendv, starting near 2^64 */
	PUT("records-s8-max-full-wrap64", 7, 2 | MAXFULL, 1 | 2 << 1, SEND, 20,
	    0, RECV, LIMIT, 0, CLAIMV, 1, 0, LIMIT, COMMITV, 1, 1, RECV, LIMIT,
	    0, SENDV, 1, 0, 30, LIMIT, RECVV, 1, 0, LIMIT, LIMIT, SENDV, 0, 0,
	    LIMIT, RECVV, 0, 0, LIMIT);
	/* claimv 3 (20, exactly 2 slots, 5); commit the first shorter (its
	 * gap padded); peekv 4 gets 3; release 1; peekv 2 gets the same
	 * second first; release 2; claimv 3, commitv 1 discards two; claimv
	 * 2 and commitv 0 discards both; commitv with a length past its
	 * claim is EINVAL and keeps the claims */
	PUT("zc-batch", S8_C8, 0, CLAIMV, 3, 0, 20, SLOTS, 1, 5, COMMITV, 3, 0,
	    3, LIMIT, LIMIT, PEEKV, 4, 0, RELV, 1, PEEKV, 2, 0, PEEK, 0, RELV,
	    2, CLAIMV, 3, 0, 1, 2, 3, COMMITV, 1, 1, RECV, LIMIT, 0, RECV,
	    LIMIT, 0, CLAIMV, 2, 0, 9, 9, COMMITV, 0, 1, CLAIMV, 2, 0, 9, 9,
	    COMMITV, 2, 0, 9, PAST, COMMITV, 2, 0, 4, LIMIT, RECVV, 3, 0, LIMIT,
	    LIMIT, LIMIT, LIMIT);
	/* peeked messages survive a partial release at the same address;
	 * the consumer closes with a peek pending and sees it again */
	PUT("peekv-partial-close", S8_C8, 0, SENDV, 3, 0, 8, 24, 40, 0, PEEKV,
	    2, 0, RELV, 1, PEEKV, 3, 0, TOGGLE, 1, TOGGLE, 1, PEEKV, 8, 0, RELV,
	    3, RECV, LIMIT, 0);
	/* record header words: each of format.md's reasons to reject one
	 * (WORD mode 0 .. 11) must make the next read EBADFMT and leave the
	 * record in place, also after a reopen */
	for (uint8_t mode = 0; mode < 12; mode++) {
		char name[64];
		const uint8_t b[] = {
		        S8_C8,  0,     SEND, 20,    0,     SEND,  40,     0,
		        WORD,   0,     mode, 0xff,  0xff,  0xff,  0xff,   0xff,
		        0xff,   0xff,  0xff, RECV,  LIMIT, 0,     PEEKV,  3,
		        0,      RECVV, 1,    0,     LIMIT, LIMIT, TOGGLE, 1,
		        TOGGLE, 1,     RECV, LIMIT, 0,     SEND,  8,      0};
		snprintf(name, sizeof name, "word-mode-%u", mode);
		put("ops", name, b, sizeof b);
	}
	/* a bad second record: recvv and peekv stop before it */
	PUT("word-second-bad", S8_C8, 0, SENDV, 2, 0, 8, 24, 8, WORD, 1, 7,
	    RAW8, RECVV, 3, 0, LIMIT, LIMIT, LIMIT, LIMIT, PEEKV, 4, 0, RECV,
	    LIMIT, 0);
	/* a len past the head the consumer last read (not past the head
	 * published since): EBADFMT, a record is judged by the head read */
	PUT("word-past-cached-head", S8_C8, 0, SEND, 8, 0, RECV, 0, 0, SEND, 8,
	    0, SEND, 8, 0, WORD, 0, 6, RAW8, RECV, LIMIT, 0, RECVV, 1, 0, LIMIT,
	    LIMIT);
}

/* fuzz_mpsc script ops (fuzz_mpsc.c, op % 16): operands after each; p is
 * the producer handle (0..3) */
enum {
	M_SEND = 0,     /* p len */
	M_CLAIM = 2,    /* p len */
	M_COMMIT = 3,   /* p len */
	M_RECV = 4,     /* cap */
	M_PEEK = 5,     /*  */
	M_REL = 6,      /*  */
	M_SENDV = 7,    /* p n-1 len[n] */
	M_RECVV = 8,    /* n-1 cap[n] */
	M_CLAIMV = 9,   /* p n len[n] */
	M_COMMITV = 10, /* p n mode(bit 0: NULL lens) [len[n]] */
	M_PEEKV = 11,   /* n */
	M_RELV = 12,    /* n */
	M_PLIFE = 13,   /* p how: open if closed, else 0/1 close, 2 die
	                   (owner dead at once; bit 2: our pid, another start
	                   time), 3 die stalled (owner still alive) */
	M_CLIFE = 14,   /* b: 0/1 consumer close/reopen, 2 | k << 2 bury the
	                   next stalled entry from k, 3 | ms << 2 tick */
	M_WRITE = 15,   /* target mode raw[8] */
};
#define M_DIE      2
#define M_STALL    3
#define M_BURY     2
#define M_TICK(ms) (3 | (ms) << 2)
/* header: slot size 25 (stride 48), 8 slots, max_msg 184 (default) */
#define M_S25_C8 24, 2
/* d[2]: the consumer creates; auto tick; producers opened at start */
#define M_CONS_CREATES 2
#define M_AUTO_TICK    4
#define M_PRODS(n)     ((n) << 4)

#define PUTM(name, ...)                                                        \
	do {                                                                   \
		static const uint8_t b_[] = {__VA_ARGS__};                     \
		put("mpsc", name, b_, sizeof b_);                              \
	} while (0)

static void gen_mpsc(void)
{
	/* four producers, one message each, then a sendv; recv, recvv */
	PUTM("four-producers", M_S25_C8, M_AUTO_TICK | M_PRODS(3), M_SEND, 0,
	     10, M_SEND, 1, 20, M_SEND, 2, 5, M_SEND, 3, 0, M_RECV, LIMIT,
	     M_RECV, LIMIT, M_RECV, LIMIT, M_RECV, LIMIT, M_RECV, LIMIT,
	     M_SENDV, 1, 2, 30, 40, 60, M_RECVV, 3, LIMIT, LIMIT, LIMIT, LIMIT,
	     M_RECV, LIMIT);
	/* an open claim holds back a later producer's commit; a shorter
	 * commit pads its gap */
	PUTM("claims-interleaved", M_S25_C8, M_AUTO_TICK | M_PRODS(1), M_CLAIM,
	     0, 30, M_CLAIM, 1, 10, M_COMMIT, 1, 10, M_RECV, LIMIT, M_COMMIT, 0,
	     5, M_RECV, LIMIT, M_RECV, LIMIT, M_RECV, LIMIT);
	/* a producer dies with a claim open: skipped, counted abandoned */
	PUTM("death-abandoned", M_S25_C8, M_AUTO_TICK | M_PRODS(1), M_CLAIM, 0,
	     100, M_SEND, 1, 7, M_PLIFE, 0, M_DIE, M_RECV, LIMIT, M_RECV,
	     LIMIT);
	/* it stalls (alive), is found dead later; no tick: the probe that
	 * met the live claim is spent until the clock moves */
	PUTM("stalled-then-buried", M_S25_C8, M_PRODS(1), M_CLAIMV, 0, 2, 10,
	     20, M_SEND, 1, 7, M_PLIFE, 0, M_STALL, M_RECV, LIMIT, M_CLIFE,
	     M_BURY, M_RECV, LIMIT, M_CLIFE, M_TICK(20), M_RECV, LIMIT, M_RECV,
	     LIMIT);
	/* close with claims open: padding, not abandoned; reopen */
	PUTM("close-with-claims", M_S25_C8, M_AUTO_TICK | M_PRODS(1), M_CLAIMV,
	     0, 3, 10, 20, 30, M_SEND, 1, 5, M_PLIFE, 0, 0, M_RECV, LIMIT,
	     M_RECV, LIMIT, M_PLIFE, 0, 0, M_SEND, 0, 9, M_RECV, LIMIT);
	/* commitv of fewer than claimed, shorter ones; peekv / releasev */
	PUTM("commitv-fewer", M_S25_C8, M_AUTO_TICK | M_PRODS(1), M_CLAIMV, 0,
	     4, 40, 0, 50, 10, M_CLAIMV, 1, 2, 3, 4, M_COMMITV, 1, 1, 0, 1,
	     M_COMMITV, 0, 2, 0, 20, 0, M_PEEKV, 8, M_RELV, 1, M_PEEKV, 8,
	     M_RELV, 3, M_RECV, LIMIT);
	/* stride 16, 8 slots, max_msg 120; indices just below 2^64: a full
	 * ring, padding at the end, the index and the lap wrap */
	PUTM("full-wrap64", 8, 3 | MAXFULL, 1 | M_AUTO_TICK | M_PRODS(1) | 0x40,
	     5, M_SENDV, 0, 6, 1, 2, 3, 4, 5, 6, 7, M_SEND, 1, 0, M_SEND, 2, 40,
	     M_RECVV, 3, LIMIT, LIMIT, LIMIT, LIMIT, M_SEND, 3, 60, M_SEND, 1,
	     100, M_RECV, LIMIT, M_PEEK, M_REL, M_SENDV, 1, 2, 60, 60, 60,
	     M_RECVV, 7, LIMIT, LIMIT, LIMIT, LIMIT, LIMIT, LIMIT, LIMIT, LIMIT,
	     M_CLAIMV, 0, 3, LIMIT, 20, 20, M_COMMIT, 0, 7, M_RECV, LIMIT,
	     M_RECV, LIMIT);
	/* a dead producer's entry is taken over (our pid, another start
	 * time); the old claim, below since, is passed without a probe */
	PUTM("takeover", M_S25_C8, M_PRODS(1), M_CLAIM, 0, 20, M_PLIFE, 0,
	     M_DIE | 4, M_PLIFE, 0, 0, M_CLAIM, 0, 20, M_SEND, 1, 3, M_RECV,
	     LIMIT, M_COMMIT, 0, 20, M_RECV, LIMIT, M_RECV, LIMIT);
	/* every producer dies: EPEERDEAD once drained */
	PUTM("all-dead-epeerdead", M_S25_C8, M_AUTO_TICK | M_PRODS(1), M_SEND,
	     0, 3, M_PLIFE, 0, M_DIE, M_PLIFE, 1, M_DIE, M_RECV, LIMIT, M_RECV,
	     LIMIT);
	/* the consumer closes: ECLOSED to sends and claims (claimv of none
	 * is OK); reopened, it gets what was left */
	PUTM("consumer-close", M_S25_C8, M_AUTO_TICK, M_SEND, 0, 3, M_CLIFE, 0,
	     M_SEND, 0, 3, M_CLAIMV, 0, 0, M_CLAIMV, 0, 1, 5, M_CLIFE, 0,
	     M_RECV, LIMIT, M_RECV, LIMIT);
	/* the consumer creates: EAGAIN until a producer came, ECLOSED once
	 * every one closed */
	PUTM("consumer-creates", M_S25_C8, M_CONS_CREATES | M_AUTO_TICK, M_RECV,
	     LIMIT, M_PLIFE, 0, 0, M_SEND, 0, 4, M_RECV, LIMIT, M_PLIFE, 0, 0,
	     M_RECV, LIMIT, M_RECV, LIMIT);
	/* EMSGSIZE both ways, EINVAL of commit and release with none open */
	PUTM("msgsize-einval", M_S25_C8, M_AUTO_TICK | M_PRODS(1), M_SEND, 0,
	     PAST, M_SEND, 0, 100, M_RECV, 3, M_RECVV, 0, 4, M_COMMIT, 0, 1,
	     M_RELV, 1, M_REL, M_PEEK, M_RECV, LIMIT, M_REL, M_RECV, LIMIT);
	/* hostile words: a RESV of entry 31 at tail, head moved back, a
	 * RESV of an entry no producer has (k >= 32), tail moved on */
	PUTM("hostile-words", M_S25_C8, M_AUTO_TICK | M_PRODS(1), M_SEND, 0, 10,
	     M_CLAIM, 1, 30, M_WRITE, 0, 2, 6, 31, 0, 0, 0, 0, 0, 0, M_RECV,
	     LIMIT, M_WRITE, 1, 1, 0xfd, 0, 0, 0, 0, 0, 0, 0, M_SEND, 0, 50,
	     M_WRITE, 8, 2, 7, 36, 0, 0, 0, 0, 0, 0, M_RECV, LIMIT, M_RECV,
	     LIMIT, M_COMMIT, 1, 30, M_WRITE, 2, 1, 3, 0, 0, 0, 0, 0, 0, 0,
	     M_SEND, 0, 1, M_RECV, LIMIT, M_SEND, 2, 1, M_RECV, LIMIT);
	/* hostile producer table: entry 1's owner 0, since far ahead,
	 * state closed, attached 0 */
	PUTM("hostile-table", M_S25_C8, M_AUTO_TICK | M_PRODS(2), M_CLAIM, 1, 9,
	     M_SEND, 2, 9, M_WRITE, 3 | 1 << 3, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	     M_RECV, LIMIT, M_WRITE, 3 | 2 << 3, 0, 0xff, 0xff, 0, 0, 0, 3, 0,
	     0, M_RECV, LIMIT, M_WRITE, 4 | 1 << 3, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	     M_RECV, LIMIT, M_COMMIT, 1, 9, M_RECV, LIMIT, M_RECV, LIMIT);
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
	gen_mpsc();
	return 0;
}
