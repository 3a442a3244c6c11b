/* SPDX-License-Identifier: MIT */
/* sys_posix.c -- sys.h on Linux and other POSIX systems. */
#define _GNU_SOURCE /* F_SETPIPE_SZ */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sys.h"

static volatile sig_atomic_t sys_signal;

static void sys_on_signal(int sig)
{
	if (!sys_signal)
		sys_signal = sig;
}

int sys_std_fds(void)
{
	int closed = 0;

	for (int fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		closed |= 1 << fd;
		/* the lowest free number: fd itself */
		if (open("/dev/null", O_RDWR) != fd)
			break;
	}
	return closed;
}

void sys_signals(void)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = sys_on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: a blocked read(2) must return */
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaction(sigs[i], &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

int sys_interrupted(void)
{
	return sys_signal;
}

void sys_binary_stdio(void)
{
}

void sys_ansi_terminal(void)
{
}

long sys_read(int fd, void *buf, size_t n)
{
	return (long)read(fd, buf, n);
}

long sys_write(int fd, const void *buf, size_t n)
{
	return (long)write(fd, buf, n);
}

void sys_pipe_buffer(int fd, size_t bytes)
{
#ifdef F_SETPIPE_SZ
	struct stat st;

	if (fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode) && bytes <= INT_MAX)
		fcntl(fd, F_SETPIPE_SZ, (int)bytes); /* best effort */
#else
	(void)fd;
	(void)bytes;
#endif
}

int sys_isatty(int fd)
{
	return isatty(fd);
}

static uint64_t sys_clock_ns(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t sys_mono_ns(void)
{
	return sys_clock_ns(CLOCK_MONOTONIC);
}

uint64_t sys_wall_ns(void)
{
	return sys_clock_ns(CLOCK_REALTIME);
}

void sys_sleep_ms(unsigned ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL); /* EINTR: return early, as promised */
}
