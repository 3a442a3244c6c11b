/* SPDX-License-Identifier: MIT */
/*
 * sys.h -- the little the shmring command needs from the OS beyond the
 * library and standard C: raw reads and writes on the standard streams,
 * clocks, a sleep, terminals and signals. One file per OS implements it
 * (sys_posix.c, sys_win32.c), chosen by tools/meson.build; the rest of the
 * program has no OS #ifdef.
 */
#ifndef SHMRING_TOOLS_SYS_H
#define SHMRING_TOOLS_SYS_H

#include <stddef.h>
#include <stdint.h>

/* Make sure file descriptors 0, 1 and 2 are open, so that no file the
 * library opens takes one of their numbers (output meant for a closed
 * stdout would land in the segment): each closed one is opened on the
 * null device. Return: a mask of those that were closed (bit 0 stdin,
 * bit 1 stdout, bit 2 stderr). */
int sys_std_fds(void);

/* Install the handlers: SIGINT, SIGTERM and SIGHUP (Ctrl-C and Ctrl-Break
 * on Windows) set the flag sys_interrupted() returns and interrupt a
 * blocking read or write; SIGPIPE is ignored, so a broken stdout is an
 * EPIPE error from sys_write(). */
void sys_signals(void);

/* The number of the first interrupting signal received, 0 if none. */
int sys_interrupted(void);

/* Put stdin and stdout in binary mode (a no-op on POSIX). */
void sys_binary_stdio(void);

/* Make the terminal on stdout understand the ANSI sequences that clear the
 * screen (a no-op on POSIX). */
void sys_ansi_terminal(void);

/* read(2) / write(2) on a file descriptor: the number of bytes moved, 0 at
 * end of file, -1 with errno set (EINTR after a signal). */
long sys_read(int fd, void *buf, size_t n);
long sys_write(int fd, const void *buf, size_t n);

/* If @fd is a pipe, ask for a pipe buffer of @bytes, so that the process
 * on its other end is woken less often (Linux: F_SETPIPE_SZ, up to
 * /proc/sys/fs/pipe-max-size; a no-op where pipes cannot be resized). */
void sys_pipe_buffer(int fd, size_t bytes);

/* 1 if @fd is a terminal. */
int sys_isatty(int fd);

/* Nanoseconds of a monotonic clock, and of the wall clock since the Unix
 * epoch. */
uint64_t sys_mono_ns(void);
uint64_t sys_wall_ns(void);

/* Sleep @ms milliseconds, or less if a signal arrives. */
void sys_sleep_ms(unsigned ms);

#endif
