/* SPDX-License-Identifier: MIT */
/* fuzz_seg.c -- see fuzz_seg.h. */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_seg.h"
#include "os.h"
#include "shmring.h"

#define FUZZ_MAPS     16
#define FUZZ_VIEW_MAX (1u << 20) /* largest segment a harness may use */

/* One handle's mapping: what os_linux.c's struct os_seg holds, less the
 * descriptor and the name. Private to this file, as the real one is to
 * os_linux.c; the library only passes it back to os.h calls. */
struct os_seg {
	uint8_t *base;
	size_t size;
	unsigned gen; /* which create it maps: os_seg_linked() */
};

/* The one segment object: a memfd, the name it answers to, and the
 * harness's own view of it (mapped once, FUZZ_VIEW_MAX bytes; only the
 * first `size` are ever touched). */
static struct {
	int fd;
	uint8_t *view;
	size_t size;
	unsigned gen;
	int linked;
	char name[SHMRING_MAX_NAME + 1];
} fz_obj = {.fd = -1};

static struct {
	uintptr_t base;
	size_t len;
	unsigned seq;
} fuzz_maps[FUZZ_MAPS];
static unsigned fuzz_map_seq;

int __wrap_os_seg_create(const char *name, size_t size, uint32_t perm,
                         struct os_seg **out);
int __wrap_os_seg_open(const char *name, struct os_seg **out);
void *__wrap_os_seg_base(const struct os_seg *s);
size_t __wrap_os_seg_size(const struct os_seg *s);
int __wrap_os_seg_lock(struct os_seg *s, enum os_lock how);
void __wrap_os_seg_unlock(struct os_seg *s);
int __wrap_os_seg_linked(const struct os_seg *s);
int __wrap_os_seg_young(const struct os_seg *s);
int __wrap_os_seg_remove(struct os_seg *s);
int __wrap_os_seg_unlink(const char *name);
void __wrap_os_seg_close(struct os_seg *s);
uint64_t __wrap_os_proc_self(void);
uint64_t __real_os_proc_self(void);
int __wrap_os_proc_alive(uint64_t token);
int __real_os_proc_alive(uint64_t token);
int __wrap_os_barrier_init(void);
int __real_os_barrier_init(void);
int __wrap_os_barrier_heavy(void);
int __wrap_os_wait(struct os_seg *s, unsigned side, _Atomic uint32_t *word,
                   uint64_t peer, int timeout_ms);
uint64_t __wrap_os_now_ns(void);
uint64_t __real_os_now_ns(void);

/* Virtual time gained by the sleeps that were skipped (ns). */
static uint64_t fz_skipped_ns;

static int fz_obj_ready(void)
{
	void *v;

	if (fz_obj.fd >= 0)
		return 0;
	fz_obj.fd = memfd_create("shmring-fuzz", MFD_CLOEXEC);
	if (fz_obj.fd < 0)
		return -1;
	v = mmap(NULL, FUZZ_VIEW_MAX, PROT_READ | PROT_WRITE, MAP_SHARED,
	         fz_obj.fd, 0);
	if (v == MAP_FAILED) {
		close(fz_obj.fd);
		fz_obj.fd = -1;
		return -1;
	}
	fz_obj.view = v;
	return 0;
}

/* A new, zero-filled segment of @size bytes named @name. */
static int fz_obj_create(const char *name, size_t size)
{
	if (fz_obj_ready() != 0)
		return SHMRING_ESYS;
	if (fz_obj.linked && strcmp(fz_obj.name, name) == 0)
		return SHMRING_EEXIST;
	if (size > FUZZ_VIEW_MAX || strlen(name) > SHMRING_MAX_NAME)
		return SHMRING_ENOMEM;
	if (size != fz_obj.size && ftruncate(fz_obj.fd, (off_t)size) != 0)
		return SHMRING_ENOMEM;
	memset(fz_obj.view, 0, size);
	fz_obj.size = size;
	fz_obj.gen++;
	fz_obj.linked = 1;
	strcpy(fz_obj.name, name);
	return SHMRING_OK;
}

static int fz_obj_names(const char *name)
{
	return fz_obj.fd >= 0 && fz_obj.linked &&
	       strcmp(fz_obj.name, name) == 0;
}

/* The library's mappings: a pool of FUZZ_POOL windows onto the memfd,
 * each mapped once (FUZZ_VIEW_MAX bytes: past the end of the file a
 * touch is SIGBUS, as past the end of a real mapping it is SIGSEGV) and
 * handed to one handle at a time, so that an open costs no mmap, munmap
 * or page fault. While a handle holds a window, the window is recorded
 * as a live mapping of seg_size bytes; once closed it is not. */
#define FUZZ_POOL 8
static struct {
	uint8_t *base;
	int busy;
} fz_pool[FUZZ_POOL];

static uint8_t *fz_pool_take(void)
{
	void *p;

	for (int i = 0; i < FUZZ_POOL; i++) {
		if (fz_pool[i].busy)
			continue;
		if (!fz_pool[i].base) {
			p = mmap(NULL, FUZZ_VIEW_MAX, PROT_READ | PROT_WRITE,
			         MAP_SHARED, fz_obj.fd, 0);
			if (p == MAP_FAILED)
				return NULL;
			fz_pool[i].base = p;
		}
		fz_pool[i].busy = 1;
		return fz_pool[i].base;
	}
	return NULL;
}

static void fz_pool_give(const uint8_t *base)
{
	for (int i = 0; i < FUZZ_POOL; i++)
		if (fz_pool[i].base == base)
			fz_pool[i].busy = 0;
}

/* Map the current object for the library, as os_seg_map() does (no
 * mapping at all for size 0). */
static int fz_map_new(struct os_seg **out)
{
	struct os_seg *s = calloc(1, sizeof *s);

	if (!s)
		return SHMRING_ENOMEM;
	s->gen = fz_obj.gen;
	s->size = fz_obj.size;
	if (s->size) {
		s->base = fz_pool_take();
		if (!s->base) {
			free(s);
			return SHMRING_ENOMEM;
		}
		for (int i = 0; i < FUZZ_MAPS; i++) {
			if (fuzz_maps[i].len == 0) {
				fuzz_maps[i].base = (uintptr_t)s->base;
				fuzz_maps[i].len = s->size;
				fuzz_maps[i].seq = ++fuzz_map_seq;
				break;
			}
		}
	}
	*out = s;
	return SHMRING_OK;
}

int __wrap_os_seg_create(const char *name, size_t size, uint32_t perm,
                         struct os_seg **out)
{
	int rc = fz_obj_create(name, size);

	(void)perm;
	return rc == SHMRING_OK ? fz_map_new(out) : rc;
}

int __wrap_os_seg_open(const char *name, struct os_seg **out)
{
	return fz_obj_names(name) ? fz_map_new(out) : SHMRING_ENOENT;
}

void *__wrap_os_seg_base(const struct os_seg *s)
{
	return s->base;
}

size_t __wrap_os_seg_size(const struct os_seg *s)
{
	return s->size;
}

int __wrap_os_seg_lock(struct os_seg *s, enum os_lock how)
{
	(void)s;
	(void)how;
	return SHMRING_OK; /* one process, one thread: nobody to exclude */
}

void __wrap_os_seg_unlock(struct os_seg *s)
{
	(void)s;
}

int __wrap_os_seg_linked(const struct os_seg *s)
{
	return fz_obj.linked && s->gen == fz_obj.gen;
}

int __wrap_os_seg_young(const struct os_seg *s)
{
	(void)s;
	return 0;
}

int __wrap_os_seg_remove(struct os_seg *s)
{
	if (fz_obj.linked && s->gen == fz_obj.gen)
		fz_obj.linked = 0;
	return SHMRING_OK;
}

int __wrap_os_seg_unlink(const char *name)
{
	if (!fz_obj_names(name))
		return SHMRING_ENOENT;
	fz_obj.linked = 0;
	return SHMRING_OK;
}

void __wrap_os_seg_close(struct os_seg *s)
{
	if (!s)
		return;
	if (s->base) {
		for (int i = 0; i < FUZZ_MAPS; i++) {
			if (fuzz_maps[i].base == (uintptr_t)s->base)
				fuzz_maps[i].len = 0;
		}
		fz_pool_give(s->base);
	}
	free(s);
}

uint64_t __wrap_os_proc_self(void)
{
	static uint64_t self;

	if (!self)
		self = __real_os_proc_self();
	return self;
}

int __wrap_os_proc_alive(uint64_t token)
{
	if (token != 0 && token == __wrap_os_proc_self())
		return 1;
	return __real_os_proc_alive(token);
}

int __wrap_os_barrier_init(void)
{
	static int asym = -1;

	if (asym < 0)
		asym = __real_os_barrier_init();
	return asym;
}

/* One process, one thread: nobody else runs a registered process's code
 * that the barrier would have to order. */
int __wrap_os_barrier_heavy(void)
{
	atomic_thread_fence(memory_order_seq_cst);
	return SHMRING_OK;
}

/* A sleep in a one-threaded harness: nobody can signal it, so it lasts
 * its whole timeout unless a signal is already pending (the wake word is
 * not 0: a hostile write, or a signal sent before the sleep), exactly as
 * the futex would; the signal is consumed as os_linux.c does. The
 * timeout is added to the clock instead of slept, so a timed call costs
 * no time. */
int __wrap_os_wait(struct os_seg *s, unsigned side, _Atomic uint32_t *word,
                   uint64_t peer, int timeout_ms)
{
	int rc = SHMRING_OK;

	(void)s;
	(void)side;
	(void)peer;
	if (atomic_load_explicit(word, memory_order_relaxed) == 0) {
		fz_skipped_ns += (uint64_t)timeout_ms * 1000000u;
		rc = SHMRING_ETIMEDOUT;
	}
	atomic_store_explicit(word, 0, memory_order_relaxed);
	return rc;
}

/* fuzz_clock_virtual(): no real part (a fixed, non-zero start). */
static int fz_clock_virtual;
#define FZ_VIRTUAL_START (UINT64_C(1) << 40)

uint64_t __wrap_os_now_ns(void)
{
	if (fz_clock_virtual)
		return FZ_VIRTUAL_START + fz_skipped_ns;
	return __real_os_now_ns() + fz_skipped_ns;
}

void fuzz_clock_virtual(int on)
{
	fz_clock_virtual = on;
}

void fuzz_clock_advance(uint64_t ns)
{
	fz_skipped_ns += ns;
}

uint64_t fuzz_clock_now(void)
{
	return __wrap_os_now_ns();
}

/* ---- the harness's side ------------------------------------------------- */

int fuzz_seg_write(const char *name, const uint8_t *d, size_t n)
{
	if (fz_obj_create(name, n) != SHMRING_OK)
		return -1;
	if (n)
		memcpy(fz_obj.view, d, n);
	return 0;
}

uint8_t *fuzz_seg_map(const char *name, size_t *size)
{
	if (!fz_obj_names(name))
		return NULL;
	*size = fz_obj.size;
	return fz_obj.view;
}

void fuzz_seg_unmap(uint8_t *p, size_t size)
{
	(void)p;
	(void)size;
}

int fuzz_in_map_at(const uint8_t *base, const void *p, size_t len)
{
	uintptr_t a = (uintptr_t)p;

	for (int i = 0; i < FUZZ_MAPS; i++) {
		uintptr_t b = fuzz_maps[i].base;
		if (fuzz_maps[i].len && (!base || b == (uintptr_t)base) &&
		    a >= b && a - b <= fuzz_maps[i].len &&
		    len <= fuzz_maps[i].len - (a - b))
			return 1;
	}
	return 0;
}

int fuzz_in_mapping(const void *p, size_t len)
{
	return fuzz_in_map_at(NULL, p, len);
}

uint8_t *fuzz_last_mapping(void)
{
	unsigned best = 0;
	uint8_t *p = NULL;

	for (int i = 0; i < FUZZ_MAPS; i++) {
		if (fuzz_maps[i].len && fuzz_maps[i].seq > best) {
			best = fuzz_maps[i].seq;
			p = (uint8_t *)fuzz_maps[i].base;
		}
	}
	return p;
}
