/* SPDX-License-Identifier: MIT */
/* fuzz_seg.c -- see fuzz_seg.h. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_seg.h"

#define FUZZ_MAPS 16

static struct {
	uintptr_t base;
	size_t len;
} fuzz_maps[FUZZ_MAPS];

void *__real_mmap64(void *addr, size_t len, int prot, int flags, int fd,
                    off_t off);
int __real_munmap(void *addr, size_t len);
void *__wrap_mmap64(void *addr, size_t len, int prot, int flags, int fd,
                    off_t off);
int __wrap_munmap(void *addr, size_t len);

void *__wrap_mmap64(void *addr, size_t len, int prot, int flags, int fd,
                    off_t off)
{
	void *p = __real_mmap64(addr, len, prot, flags, fd, off);

	if (p == MAP_FAILED || fd < 0 || !(flags & MAP_SHARED))
		return p;
	for (int i = 0; i < FUZZ_MAPS; i++) {
		if (fuzz_maps[i].len == 0) {
			fuzz_maps[i].base = (uintptr_t)p;
			fuzz_maps[i].len = len;
			break;
		}
	}
	return p;
}

int __wrap_munmap(void *addr, size_t len)
{
	for (int i = 0; i < FUZZ_MAPS; i++) {
		if (fuzz_maps[i].base == (uintptr_t)addr)
			fuzz_maps[i].len = 0;
	}
	return __real_munmap(addr, len);
}

int fuzz_in_mapping(const void *p, size_t len)
{
	uintptr_t a = (uintptr_t)p;

	for (int i = 0; i < FUZZ_MAPS; i++) {
		uintptr_t b = fuzz_maps[i].base;
		if (fuzz_maps[i].len && a >= b &&
		    len <= fuzz_maps[i].len - (a - b) &&
		    a - b <= fuzz_maps[i].len)
			return 1;
	}
	return 0;
}

static int fuzz_shm_path(char *path, size_t cap, const char *name)
{
	return snprintf(path, cap, "/shmring.%s", name) < (int)cap ? 0 : -1;
}

int fuzz_seg_write(const char *name, const uint8_t *d, size_t n)
{
	char path[256];
	size_t off = 0;
	int fd;

	if (fuzz_shm_path(path, sizeof path, name) != 0)
		return -1;
	fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	while (off < n) {
		ssize_t w = write(fd, d + off, n - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	close(fd);
	if (off == n)
		return 0;
	shm_unlink(path);
	return -1;
}

uint8_t *fuzz_seg_map(const char *name, size_t *size)
{
	char path[256];
	struct stat st;
	void *p = MAP_FAILED;
	int fd;

	if (fuzz_shm_path(path, sizeof path, name) != 0)
		return NULL;
	fd = shm_open(path, O_RDWR | O_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && st.st_size > 0)
		p = __real_mmap64(NULL, (size_t)st.st_size,
		                  PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return NULL;
	*size = (size_t)st.st_size;
	return p;
}

void fuzz_seg_unmap(uint8_t *p, size_t size)
{
	if (p)
		__real_munmap(p, size); /* not recorded: not the library's */
}
