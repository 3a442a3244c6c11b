/* SPDX-License-Identifier: MIT */
/*
 * os_linux.c -- the Linux backend of os.h.
 *
 * Segment: shm_open("/shmring.<name>") + mmap(MAP_SHARED), created with
 * O_EXCL, sized with posix_fallocate so that a full /dev/shm is ENOMEM at
 * create time rather than SIGBUS on first touch, and fchmod'ed to the exact
 * permission asked for (shm_open's mode goes through the umask).
 * Lock: flock(2) on the segment's descriptor: shared between processes,
 * per open file description, dropped by the kernel when the holder dies.
 * Wake: FUTEX_WAIT/FUTEX_WAKE *without* FUTEX_PRIVATE_FLAG, because the
 * word is shared between processes.
 * Heavy barrier: membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED), which runs a
 * full barrier on every CPU currently running a process registered with
 * MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED (Linux >= 4.16). The
 * environment variable SHMRING_FENCE=full turns it off for this process
 * (both sides then use full fences), for comparison and for testing.
 * Liveness: pid plus the process's start time (field 22 of
 * /proc/<pid>/stat, clock ticks since boot), so a reused pid is not taken
 * for the old process; a zombie (state Z or X) counts as dead.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "os.h"
#include "shmring.h"

#define OS_PATH_MAX (SHMRING_MAX_NAME + 16)

struct os_seg {
	int fd;
	void *base;
	size_t size;
	char path[OS_PATH_MAX];
};

static int os_err(int e)
{
	switch (e) {
	case EEXIST:
		return SHMRING_EEXIST;
	case ENOENT:
		return SHMRING_ENOENT;
	case EACCES:
	case EPERM:
		return SHMRING_EACCES;
	case ENOMEM:
	case ENOSPC:
	case EFBIG:
	case EMFILE:
	case ENFILE:
		return SHMRING_ENOMEM;
	case EINVAL:
	case ENAMETOOLONG:
		return SHMRING_EINVAL;
	default:
		return SHMRING_ESYS;
	}
}

static void os_path(char *path, const char *name)
{
	snprintf(path, OS_PATH_MAX, "/shmring.%s", name);
}

/*
 * A process started with a standard stream closed gets the segment as fd
 * 0, 1 or 2, and its next printf would write into the ring's header: move
 * such an fd above 2. Returns the fd to use, or -1 (errno set; @fd
 * closed).
 */
static int lx_fd_above_stdio(int fd)
{
	int moved;

	if (fd > 2)
		return fd;
	moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return moved;
}

static int os_seg_new(const char *name, int fd, struct os_seg **out)
{
	struct os_seg *s = calloc(1, sizeof *s);

	if (!s)
		return SHMRING_ENOMEM;
	s->fd = fd;
	os_path(s->path, name);
	*out = s;
	return SHMRING_OK;
}

static int os_seg_map(struct os_seg *s, size_t size, int flags, int prot)
{
	void *p;

	if (size == 0)
		return SHMRING_OK;
	p = mmap(NULL, size, prot, MAP_SHARED | flags, s->fd, 0);
	if (p == MAP_FAILED)
		return os_err(errno);
	s->base = p;
	s->size = size;
	return SHMRING_OK;
}

/* 1 if the shared-memory name @path still leads to the file open as @fd. */
static int os_path_names(const char *path, int fd)
{
	struct stat a, b;
	int other = shm_open(path, O_RDONLY | O_CLOEXEC, 0);
	int same;

	if (other < 0)
		return 0;
	same = fstat(other, &a) == 0 && fstat(fd, &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
	close(other);
	return same;
}

/* Undo a failed create or open: the handle owns @fd once it exists. */
static int os_seg_fail(struct os_seg *s, int fd, int rc)
{
	if (s)
		os_seg_close(s);
	else
		close(fd);
	return rc;
}

/* Size the new segment, reserving its memory. */
static int os_seg_size_new(int fd, size_t size, uint32_t perm)
{
	int e;

	if (fchmod(fd, (mode_t)perm) != 0)
		return os_err(errno);
	e = posix_fallocate(fd, 0, (off_t)size);
	if (e == EOPNOTSUPP || e == ENOSYS)
		e = ftruncate(fd, (off_t)size) == 0 ? 0 : errno;
	return e ? os_err(e) : SHMRING_OK;
}

int os_seg_create(const char *name, size_t size, uint32_t perm,
                  struct os_seg **out)
{
	char path[OS_PATH_MAX];
	struct os_seg *s = NULL;
	int fd, rc;

	os_path(path, name);
	fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return os_err(errno);
	fd = lx_fd_above_stdio(fd);
	if (fd < 0) {
		shm_unlink(path);
		return os_err(errno);
	}
	/* Waits at most for an opener that found the empty file and holds
	 * the shared lock for a moment. */
	while (flock(fd, LOCK_EX) != 0 && errno == EINTR)
		;
	/* A creator stalled here for seconds may have had its empty file
	 * judged stale and its name removed by a reclaimer (os_seg_young):
	 * then the name is someone else's now. */
	if (!os_path_names(path, fd)) {
		close(fd);
		return SHMRING_EEXIST;
	}
	rc = os_seg_size_new(fd, size, perm);
	if (rc == SHMRING_OK)
		rc = os_seg_new(name, fd, &s);
	if (rc == SHMRING_OK)
		rc = os_seg_map(s, size, MAP_POPULATE, PROT_READ | PROT_WRITE);
	if (rc != SHMRING_OK) {
		shm_unlink(path);
		return os_seg_fail(s, fd, rc);
	}
	*out = s;
	return SHMRING_OK;
}

static int lx_seg_open(const char *name, int writable, struct os_seg **out)
{
	char path[OS_PATH_MAX];
	struct os_seg *s = NULL;
	struct stat st;
	int fd, rc;

	os_path(path, name);
	/* O_NONBLOCK: a FIFO planted at the name must not hang the open
	 * (a read-only open of one waits for a writer); it has no effect on
	 * a regular file. */
	fd = shm_open(path,
	              (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NONBLOCK,
	              0);
	if (fd < 0)
		return errno == EISDIR || errno == ELOOP ? SHMRING_EBADFMT
		                                         : os_err(errno);
	fd = lx_fd_above_stdio(fd);
	if (fd < 0)
		return os_err(errno);
	rc = fstat(fd, &st) == 0 ? SHMRING_OK : os_err(errno);
	if (rc == SHMRING_OK && (!S_ISREG(st.st_mode) || st.st_size < 0 ||
	                         (uint64_t)st.st_size > SIZE_MAX))
		rc = SHMRING_EBADFMT; /* a FIFO, device or directory there */
	if (rc == SHMRING_OK)
		rc = os_seg_new(name, fd, &s);
	/* No MAP_POPULATE: a hostile creator may have sized it absurdly. */
	if (rc == SHMRING_OK)
		rc = os_seg_map(s, (size_t)st.st_size, 0,
		                writable ? PROT_READ | PROT_WRITE : PROT_READ);
	if (rc != SHMRING_OK)
		return os_seg_fail(s, fd, rc);
	*out = s;
	return SHMRING_OK;
}

int os_seg_open(const char *name, struct os_seg **out)
{
	return lx_seg_open(name, 1, out);
}

int os_seg_open_ro(const char *name, struct os_seg **out)
{
	return lx_seg_open(name, 0, out);
}

int os_seg_list(int (*fn)(const char *name, void *arg), void *arg)
{
	static const char prefix[] = "shmring.";
	DIR *d = opendir("/dev/shm");
	struct dirent *e;
	int rc = SHMRING_OK;

	if (!d)
		return errno == ENOENT ? SHMRING_OK : os_err(errno);
	while (rc == SHMRING_OK && (errno = 0, e = readdir(d)) != NULL)
		if (strncmp(e->d_name, prefix, sizeof prefix - 1) == 0 &&
		    fn(e->d_name + sizeof prefix - 1, arg) != 0)
			break;
	if (!e && errno != 0)
		rc = os_err(errno);
	closedir(d);
	return rc;
}

void *os_seg_base(const struct os_seg *s)
{
	return s->base;
}

size_t os_seg_size(const struct os_seg *s)
{
	return s->size;
}

size_t os_seg_granule(void)
{
	return 1; /* fstat reports the size given to posix_fallocate */
}

int os_seg_lock(struct os_seg *s, enum os_lock how)
{
	int op = how == OS_LOCK_SHARED ? LOCK_SH : LOCK_EX | LOCK_NB;

	while (flock(s->fd, op) != 0) {
		if (errno == EWOULDBLOCK)
			return SHMRING_EBUSY;
		if (errno != EINTR)
			return os_err(errno);
	}
	return SHMRING_OK;
}

void os_seg_unlock(struct os_seg *s)
{
	flock(s->fd, LOCK_UN);
}

int os_seg_linked(const struct os_seg *s)
{
	return os_path_names(s->path, s->fd);
}

int os_seg_young(const struct os_seg *s)
{
	struct stat st;
	struct timespec now;

	if (fstat(s->fd, &st) != 0 || clock_gettime(CLOCK_REALTIME, &now) != 0)
		return 1; /* cannot tell: do not judge it dead */
	return now.tv_sec - st.st_ctim.tv_sec < 2;
}

int os_seg_remove(struct os_seg *s)
{
	return shm_unlink(s->path) == 0 || errno == ENOENT ? SHMRING_OK
	                                                   : os_err(errno);
}

int os_seg_unlink(const char *name)
{
	char path[OS_PATH_MAX];

	os_path(path, name);
	return shm_unlink(path) == 0 ? SHMRING_OK : os_err(errno);
}

void os_seg_close(struct os_seg *s)
{
	if (!s)
		return;
	if (s->base)
		munmap(s->base, s->size);
	if (s->fd >= 0)
		close(s->fd); /* also drops any flock we held */
	free(s);
}

/* ---- processes ---------------------------------------------------------- */

/*
 * Read state and start time of @pid from /proc/<pid>/stat. Returns 1 if
 * read, 0 if the process does not exist, -1 if /proc cannot tell us.
 */
static int os_proc_stat(uint32_t pid, char *state, uint64_t *start)
{
	char path[64], buf[1024];
	const char *p;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof path, "/proc/%u/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ESRCH ? 0 : -1;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return n == 0 || errno == ESRCH ? 0 : -1;
	buf[n] = '\0';
	/* "pid (comm) S ..." -- comm may hold spaces and ')': use the last. */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || !p[2])
		return -1;
	*state = p[2];
	/* state is field 3; starttime is field 22 */
	for (field = 3, p += 2; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (!p)
		return -1;
	*start = strtoull(p + 1, NULL, 10);
	return 1;
}

_Atomic uint32_t os_fork_gen;

static void lx_fork_child(void)
{
	/* Relaxed: read by this process's own threads, after the fork. */
	atomic_fetch_add_explicit(&os_fork_gen, 1, memory_order_relaxed);
}

static void lx_fork_register(void)
{
	(void)pthread_atfork(NULL, NULL, lx_fork_child);
}

uint64_t os_proc_self(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	uint32_t pid;

	(void)pthread_once(&once, lx_fork_register);
	pid = (uint32_t)getpid();
	uint64_t start = 0;
	char state;

	if (os_proc_stat(pid, &state, &start) != 1)
		start = 0;
	return (uint64_t)(uint32_t)start << 32 | pid;
}

int os_proc_alive(uint64_t token)
{
	uint32_t pid = (uint32_t)token;
	uint64_t start = 0;
	char state = 0;
	int rc;

	if (pid == 0 || pid > INT32_MAX)
		return 0;
	rc = os_proc_stat(pid, &state, &start);
	if (rc < 0) /* no /proc: fall back to the pid alone */
		return kill((pid_t)pid, 0) == 0 || errno == EPERM;
	if (rc == 0 || state == 'Z' || state == 'X' || state == 'x')
		return 0;
	return (uint32_t)start == (uint32_t)(token >> 32);
}

/* ---- wake --------------------------------------------------------------- */

static long os_futex(_Atomic uint32_t *word, int op, uint32_t val,
                     const struct timespec *ts)
{
	return syscall(SYS_futex, (uint32_t *)word, op, val, ts, NULL, 0);
}

int os_wait(struct os_seg *s, unsigned side, _Atomic uint32_t *word,
            uint64_t peer, int timeout_ms)
{
	struct timespec ts = {timeout_ms / 1000,
	                      (long)(timeout_ms % 1000) * 1000000L};
	int rc = SHMRING_OK;

	(void)s;
	(void)side;
	(void)peer; /* a futex cannot also wait for a process: ring.c polls */
	/* Sleeps only while the word is 0 (no signal pending); the kernel
	 * checks that under its lock, so a signal sent before we sleep is
	 * seen and one sent after wakes us. */
	if (os_futex(word, FUTEX_WAIT, 0, &ts) != 0)
		rc = errno == ETIMEDOUT ? SHMRING_ETIMEDOUT
		     : errno == EINTR   ? SHMRING_EINTR
		                        : SHMRING_OK;
	/* Consume the signal (auto-reset). Relaxed: the caller re-checks the
	 * indices after its fence (S1), which is what orders. */
	atomic_store_explicit(word, 0, memory_order_relaxed);
	return rc;
}

int os_signal(struct os_seg *s, unsigned side, _Atomic uint32_t *word)
{
	(void)s;
	(void)side;
	/* A signal already pending needs no second system call: the sleeper
	 * has not consumed it yet, so it will not sleep through it. Release:
	 * keeps the index store the caller made before the signal. */
	if (atomic_exchange_explicit(word, 1, memory_order_release) != 0)
		return 0;
	os_futex(word, FUTEX_WAKE, 1, NULL);
	return 1;
}

static long os_membarrier(int cmd)
{
	return syscall(SYS_membarrier, cmd, 0, 0);
}

int os_barrier_init(void)
{
	const char *env = getenv("SHMRING_FENCE");
	long cmds;

	if (env && strcmp(env, "full") == 0)
		return 0;
	cmds = os_membarrier(MEMBARRIER_CMD_QUERY);
	if (cmds < 0 || !(cmds & MEMBARRIER_CMD_GLOBAL_EXPEDITED) ||
	    !(cmds & MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED))
		return 0;
	/* Registration is per address space and idempotent; the trial run
	 * proves a seccomp filter does not forbid the command. */
	if (os_membarrier(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) != 0)
		return 0;
	return os_membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) == 0;
}

int os_barrier_heavy(void)
{
	return os_membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) == 0
	               ? SHMRING_OK
	               : SHMRING_ESYS;
}

int os_cpu_self(void)
{
	/* glibc reads it from rseq or the vDSO: no system call. */
	return sched_getcpu();
}

uint64_t os_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t os_realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
