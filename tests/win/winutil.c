/* SPDX-License-Identifier: MIT */
/* winutil.c -- see winutil.h. */
#include "winutil.h"

#include <stdio.h>
#include <string.h>

void wu_name(char *out, const char *tag)
{
	static volatile LONG counter;

	snprintf(out, WU_NAME_MAX, "w.%s.%lu.%ld", tag,
	         (unsigned long)GetCurrentProcessId(),
	         (long)InterlockedIncrement(&counter));
}

double wu_now_ms(void)
{
	LARGE_INTEGER c, f;

	QueryPerformanceCounter(&c);
	QueryPerformanceFrequency(&f);
	return (double)c.QuadPart * 1000.0 / (double)f.QuadPart;
}

/* One job per process, created on first use; children die with us. */
static HANDLE wu_job(void)
{
	static HANDLE job;
	JOBOBJECT_EXTENDED_LIMIT_INFORMATION li;

	if (job)
		return job;
	job = CreateJobObjectW(NULL, NULL);
	if (!job)
		return NULL;
	memset(&li, 0, sizeof li);
	li.BasicLimitInformation.LimitFlags =
	        JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
	SetInformationJobObject(job, JobObjectExtendedLimitInformation, &li,
	                        sizeof li);
	return job;
}

/* @a then @b, ASCII, widened into @out (truncated to @cap - 1). Returns the
 * number of characters written before the terminator. */
static int wu_widen(wchar_t *out, size_t cap, const char *a, const char *b)
{
	size_t n = 0;

	for (; *a && n + 1 < cap; a++)
		out[n++] = (wchar_t)(unsigned char)*a;
	for (; *b && n + 1 < cap; b++)
		out[n++] = (wchar_t)(unsigned char)*b;
	out[n] = 0;
	return (int)n;
}

HANDLE wu_spawn(const char *args)
{
	wchar_t exe[MAX_PATH], cmd[2 * MAX_PATH + 512];
	STARTUPINFOW si;
	PROCESS_INFORMATION pi;
	DWORD n = GetModuleFileNameW(NULL, exe, MAX_PATH);
	int len;

	if (n == 0 || n >= MAX_PATH)
		return NULL;
	/* "<exe>" --child <args>: args are ASCII (names, numbers) */
	len = 0;
	cmd[len++] = L'"';
	for (DWORD i = 0; i < n; i++)
		cmd[len++] = exe[i];
	wu_widen(cmd + len, sizeof cmd / sizeof cmd[0] - (size_t)len,
	         "\" --child ", args);
	memset(&si, 0, sizeof si);
	si.cb = sizeof si;
	if (!CreateProcessW(exe, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si,
	                    &pi))
		return NULL;
	HANDLE job = wu_job();
	if (job)
		AssignProcessToJobObject(job, pi.hProcess);
	CloseHandle(pi.hThread);
	return pi.hProcess;
}

int wu_reap(HANDLE proc, DWORD ms)
{
	DWORD code = 0;
	int rc = -1;

	if (!proc)
		return -1;
	if (WaitForSingleObject(proc, ms) == WAIT_OBJECT_0 &&
	    GetExitCodeProcess(proc, &code))
		rc = (int)code;
	else
		wu_kill(proc);
	CloseHandle(proc);
	return rc;
}

void wu_kill(HANDLE proc)
{
	TerminateProcess(proc, 9);
	WaitForSingleObject(proc, 10000);
}

struct wu_killer {
	HANDLE proc;
	DWORD delay_ms;
	volatile double *t_kill;
};

static DWORD WINAPI wu_killer_main(LPVOID arg)
{
	struct wu_killer k = *(struct wu_killer *)arg;

	HeapFree(GetProcessHeap(), 0, arg);
	Sleep(k.delay_ms);
	*k.t_kill = wu_now_ms();
	TerminateProcess(k.proc, 9);
	return 0;
}

HANDLE wu_kill_later(HANDLE proc, DWORD delay_ms, volatile double *t_kill)
{
	struct wu_killer *k = HeapAlloc(GetProcessHeap(), 0, sizeof *k);
	HANDLE t;

	if (!k)
		return NULL;
	k->proc = proc;
	k->delay_ms = delay_ms;
	k->t_kill = t_kill;
	t = CreateThread(NULL, 0, wu_killer_main, k, 0, NULL);
	if (!t)
		HeapFree(GetProcessHeap(), 0, k);
	return t;
}

void wu_join(HANDLE thread)
{
	if (thread) {
		WaitForSingleObject(thread, INFINITE);
		CloseHandle(thread);
	}
}

HANDLE wu_event_create(const char *name)
{
	wchar_t w[WU_NAME_MAX + 32];

	wu_widen(w, sizeof w / sizeof w[0], "Local\\shmring-test.", name);
	return CreateEventW(NULL, TRUE, FALSE, w);
}

HANDLE wu_event_open(const char *name)
{
	wchar_t w[WU_NAME_MAX + 32];

	wu_widen(w, sizeof w / sizeof w[0], "Local\\shmring-test.", name);
	return OpenEventW(EVENT_MODIFY_STATE | SYNCHRONIZE, FALSE, w);
}

int wu_event_wait(HANDLE ev, DWORD ms)
{
	return WaitForSingleObject(ev, ms) == WAIT_OBJECT_0;
}

void *wu_seg_map(const char *name, size_t *size)
{
	wchar_t w[WU_NAME_MAX + 32];
	MEMORY_BASIC_INFORMATION mbi;
	HANDLE h;
	void *p;

	wu_widen(w, sizeof w / sizeof w[0], "Local\\shmring.", name);
	h = OpenFileMappingW(FILE_MAP_READ | FILE_MAP_WRITE, FALSE, w);
	if (!h)
		return NULL;
	p = MapViewOfFile(h, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, 0);
	CloseHandle(h); /* the view keeps the section */
	if (p && size) {
		VirtualQuery(p, &mbi, sizeof mbi);
		*size = mbi.RegionSize;
	}
	return p;
}

void wu_seg_unmap(void *base)
{
	if (base)
		UnmapViewOfFile(base);
}

/* ---- the verified stream ------------------------------------------------ */

uint64_t wu_mix(uint64_t x) /* splitmix64's finaliser */
{
	x += UINT64_C(0x9e3779b97f4a7c15);
	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	return x ^ (x >> 31);
}

static uint32_t wu_fnv(const uint8_t *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

size_t wu_msg_len(uint64_t seed, uint64_t seq, size_t max)
{
	uint64_t r = wu_mix(seed ^ (seq * 2 + 1));

	/* One in 16 is empty or full size: the edges get their share. */
	switch (r & 15) {
	case 0:
		return 0;
	case 1:
		return max;
	default:
		return (size_t)((r >> 8) % (max + 1));
	}
}

#define WU_HDR 12 /* u64 seq, u32 fnv of the rest */

void wu_msg_fill(void *buf, size_t len, uint64_t seed, uint64_t seq)
{
	uint8_t *p = buf;
	uint64_t r = wu_mix(seed + seq);
	uint32_t h;

	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(r >> (8 * (i & 7))) ^ (uint8_t)i;
	if (len < WU_HDR)
		return;
	memcpy(p, &seq, 8);
	h = wu_fnv(p + WU_HDR, len - WU_HDR);
	memcpy(p + 8, &h, 4);
}

int wu_msg_check(const void *buf, size_t len, uint64_t seed, uint64_t seq,
                 size_t max)
{
	const uint8_t *p = buf;
	uint64_t r = wu_mix(seed + seq), s;
	uint32_t h;

	if (len != wu_msg_len(seed, seq, max))
		return 0;
	if (len >= WU_HDR) {
		memcpy(&s, p, 8);
		memcpy(&h, p + 8, 4);
		if (s != seq || h != wu_fnv(p + WU_HDR, len - WU_HDR))
			return 0;
	}
	for (size_t i = len >= WU_HDR ? WU_HDR : 0; i < len; i++)
		if (p[i] != ((uint8_t)(r >> (8 * (i & 7))) ^ (uint8_t)i))
			return 0;
	return 1;
}
