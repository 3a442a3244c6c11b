/* SPDX-License-Identifier: MIT */
/* sys_win32.c -- sys.h on Windows (mingw-w64's msvcrt). */
#include <windows.h>

#include <fcntl.h>
#include <io.h>
#include <stdio.h>

#include "sys.h"

#define SYS_SIGINT 2 /* what Ctrl-C is called on POSIX */
#define SYS_IO_MAX (1u << 30)

static volatile LONG sys_signal;

static BOOL WINAPI sys_on_ctrl(DWORD type)
{
	(void)type;
	InterlockedCompareExchange(&sys_signal, SYS_SIGINT, 0);
	return TRUE; /* handled: let the program close in order */
}

/* The library names its objects by handle, never by C file descriptor:
 * nothing it opens can take the place of a closed standard stream. */
int sys_std_fds(void)
{
	return 0;
}

void sys_signals(void)
{
	SetConsoleCtrlHandler(sys_on_ctrl, TRUE);
}

int sys_interrupted(void)
{
	return (int)sys_signal;
}

void sys_binary_stdio(void)
{
	_setmode(_fileno(stdin), _O_BINARY);
	_setmode(_fileno(stdout), _O_BINARY);
}

void sys_ansi_terminal(void)
{
	HANDLE h = GetStdHandle(STD_OUTPUT_HANDLE);
	DWORD mode;

	if (h != INVALID_HANDLE_VALUE && GetConsoleMode(h, &mode))
		SetConsoleMode(h,
		               mode | 0x0004 /* VIRTUAL_TERMINAL_PROCESSING */);
}

long sys_read(int fd, void *buf, size_t n)
{
	return _read(fd, buf, n > SYS_IO_MAX ? SYS_IO_MAX : (unsigned)n);
}

long sys_write(int fd, const void *buf, size_t n)
{
	return _write(fd, buf, n > SYS_IO_MAX ? SYS_IO_MAX : (unsigned)n);
}

void sys_pipe_buffer(int fd, size_t bytes)
{
	(void)fd; /* anonymous pipes are sized when created */
	(void)bytes;
}

int sys_isatty(int fd)
{
	return _isatty(fd) != 0;
}

uint64_t sys_mono_ns(void)
{
	LARGE_INTEGER f, c;

	if (!QueryPerformanceFrequency(&f) || !QueryPerformanceCounter(&c))
		return 0;
	return (uint64_t)(c.QuadPart / f.QuadPart) * 1000000000u +
	       (uint64_t)(c.QuadPart % f.QuadPart) * 1000000000u /
	               (uint64_t)f.QuadPart;
}

uint64_t sys_wall_ns(void)
{
	FILETIME ft;
	uint64_t t;

	GetSystemTimePreciseAsFileTime(&ft);
	t = (uint64_t)ft.dwHighDateTime << 32 | ft.dwLowDateTime;
	/* 100 ns ticks since 1601 */
	return (t - 116444736000000000u) * 100u;
}

void sys_sleep_ms(unsigned ms)
{
	Sleep(ms);
}
