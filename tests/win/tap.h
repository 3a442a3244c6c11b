/* SPDX-License-Identifier: MIT */
/*
 * tap.h -- a tiny TAP runner for the Windows tests (Criterion has no mingw
 * build). A test is `static int name(void)` that returns 0 (pass), 1 (fail)
 * or TAP_SKIP; CHECK* print a diagnostic and fail the test on the spot.
 *
 *   static const struct tap_test tests[] = { TAP(create_then_open), ... };
 *   int main(int argc, char **argv) { return TAP_MAIN(argc, argv, tests); }
 *
 * Output: "1..N", then "ok N - name" / "not ok N - name" per test on stdout
 * (unbuffered), and "N passed, N failed" on stderr. `prog NAME` runs only
 * the tests whose name contains NAME. An unhandled exception prints
 * "Bail out!" and exits 99, so a crash is a failure and never a hang in a
 * debugger (see ../../../shared/windows.md, quirk 1).
 */
#ifndef SHMRING_TAP_H
#define SHMRING_TAP_H

#include <windows.h>

#include <stdio.h>
#include <string.h>

#define TAP_SKIP 77

struct tap_test {
	const char *name;
	int (*fn)(void);
};

#define TAP(fn)                                                                \
	{                                                                      \
#fn, fn                                                        \
	}

#define TAP_FAIL(...)                                                          \
	do {                                                                   \
		printf("#   %s:%d: ", __FILE__, __LINE__);                     \
		printf(__VA_ARGS__);                                           \
		printf("\n");                                                  \
		return 1;                                                      \
	} while (0)

#define CHECK(e)                                                               \
	do {                                                                   \
		if (!(e))                                                      \
			TAP_FAIL("CHECK(%s)", #e);                             \
	} while (0)

/* Integers of any type; prints both values on failure. */
#define CHECK_EQ(a, b)                                                         \
	do {                                                                   \
		long long a_ = (long long)(a), b_ = (long long)(b);            \
		if (a_ != b_)                                                  \
			TAP_FAIL("%s == %s: %lld != %lld", #a, #b, a_, b_);    \
	} while (0)

/* A shmring call's return code, printed by name on failure. */
#define CHECK_RC(call, want)                                                   \
	do {                                                                   \
		int rc_ = (call), want_ = (want);                              \
		if (rc_ != want_)                                              \
			TAP_FAIL("%s: %d (%s), want %d (%s)", #call, rc_,      \
			         shmring_strerror(rc_), want_,                 \
			         shmring_strerror(want_));                     \
	} while (0)

#define TAP_NOTE(...)                                                          \
	do {                                                                   \
		printf("# ");                                                  \
		printf(__VA_ARGS__);                                           \
		printf("\n");                                                  \
	} while (0)

static LONG WINAPI tap_crash(EXCEPTION_POINTERS *ep)
{
	printf("Bail out! unhandled exception 0x%08lx\n",
	       (unsigned long)ep->ExceptionRecord->ExceptionCode);
	fflush(stdout);
	ExitProcess(99);
	return EXCEPTION_EXECUTE_HANDLER;
}

/* Crash handling and unbuffered output; also for child processes. */
static inline void tap_init(void)
{
	SetUnhandledExceptionFilter(tap_crash);
	SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX);
	setvbuf(stdout, NULL, _IONBF, 0);
	setvbuf(stderr, NULL, _IONBF, 0);
}

static inline int tap_run(int argc, char **argv, const struct tap_test *t,
                          size_t n)
{
	const char *only = argc > 1 ? argv[1] : NULL;
	unsigned planned = 0, passed = 0, failed = 0, k = 0;

	tap_init();
	for (size_t i = 0; i < n; i++)
		planned += !only || strstr(t[i].name, only) != NULL;
	printf("1..%u\n", planned);
	for (size_t i = 0; i < n; i++) {
		int rc;
		if (only && !strstr(t[i].name, only))
			continue;
		rc = t[i].fn();
		k++;
		if (rc == TAP_SKIP)
			printf("ok %u - %s # SKIP\n", k, t[i].name);
		else
			printf("%sok %u - %s\n", rc ? "not " : "", k,
			       t[i].name);
		passed += rc == 0 || rc == TAP_SKIP;
		failed += rc != 0 && rc != TAP_SKIP;
	}
	fprintf(stderr, "%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}

#define TAP_MAIN(argc, argv, tests)                                            \
	tap_run(argc, argv, tests, sizeof(tests) / sizeof((tests)[0]))

#endif /* SHMRING_TAP_H */
