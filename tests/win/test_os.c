/* SPDX-License-Identifier: MIT */
/*
 * test_os.c -- the Windows backend against the contract in src/os.h:
 * exclusive create, sizes, the lock (busy, shared wait, abandoned by a dead
 * holder), names and namespaces, perm -> DACL, process tokens (including an
 * exited process whose handle is still open: Windows' zombie), wake
 * objects, the CPU number (os_cpu_self) and the clocks.
 */
#include <aclapi.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "layout.h"
#include "os.h"
#include "shmring.h"
#include "tap.h"
#include "winutil.h"

/* A version-2 segment of 2 slots of slot_size 8: stride roundup(8 + 8, 16)
 * = 16, so 4096 + 32 = 4128 bytes, not a page multiple. */
#define SEG_STRIDE                                                             \
	((SR_REC_HDR + 8u + SR_STRIDE_ALIGN - 1) & ~(SR_STRIDE_ALIGN - 1))
#define SEG_SIZE (SR_HDR_SIZE + 2 * SEG_STRIDE)
_Static_assert(SEG_SIZE == 4128, "a v2 segment of two 16-byte slots");
#define CHILD_MS 30000u
#define NS_ENV   "SHMRING_WIN_NAMESPACE"

/* ---- children ----------------------------------------------------------- */

/* token SEG EV: publish our token as the consumer's owner, then sleep.
 * lock SEG EV:  take the segment's lock, then sleep (die holding it). */
static int child_main(int argc, char **argv)
{
	struct os_seg *s;
	HANDLE ev;

	tap_init();
	if (argc < 5 || os_seg_open(argv[3], &s) != SHMRING_OK)
		return 2;
	if (!strcmp(argv[2], "token"))
		atomic_store(&((struct sr_seg *)os_seg_base(s))->role[1].owner,
		             os_proc_self());
	else if (os_seg_lock(s, OS_LOCK_SHARED) != SHMRING_OK)
		return 3;
	ev = wu_event_open(argv[4]);
	if (!ev)
		return 4;
	SetEvent(ev);
	Sleep(INFINITE);
	return 0;
}

/* Start "<mode> <seg>" and wait until it is ready. */
static HANDLE spawn_ready(const char *mode, const char *seg)
{
	char ev_name[WU_NAME_MAX], args[256];
	HANDLE ev, child;

	wu_name(ev_name, "ev");
	ev = wu_event_create(ev_name);
	if (!ev)
		return NULL;
	snprintf(args, sizeof args, "%s %s %s", mode, seg, ev_name);
	child = wu_spawn(args);
	if (child && !wu_event_wait(ev, CHILD_MS)) {
		wu_kill(child);
		CloseHandle(child);
		child = NULL;
	}
	CloseHandle(ev);
	return child;
}

/* ---- segments ----------------------------------------------------------- */

static int create_is_exclusive_zeroed_and_exact(void)
{
	char name[WU_NAME_MAX];
	struct os_seg *s = NULL, *t = NULL;
	const uint8_t *b;

	wu_name(name, "os");
	CHECK_RC(os_seg_create(name, SEG_SIZE, 0600, &s), SHMRING_OK);
	b = os_seg_base(s);
	CHECK(b != NULL);
	CHECK_EQ(os_seg_size(s), SEG_SIZE);
	for (size_t i = 0; i < SEG_SIZE; i++)
		CHECK(b[i] == 0);
	CHECK_RC(os_seg_create(name, SEG_SIZE, 0600, &t), SHMRING_EEXIST);
	CHECK_RC(os_seg_create(name, 3 * SEG_SIZE, 0600, &t), SHMRING_EEXIST);
	os_seg_close(s);
	CHECK_RC(os_seg_create(name, SEG_SIZE, 0600, &s), SHMRING_OK);
	os_seg_close(s);
	os_seg_close(NULL);
	return 0;
}

/* Windows reports a section's size rounded up to the page: os_seg_size is
 * that figure, and os_seg_granule says how coarse it is, so that segment.c
 * can accept a header size within the last page. */
static int open_reports_the_page_rounded_size_and_its_granule(void)
{
	char name[WU_NAME_MAX];
	struct os_seg *s = NULL, *o = NULL;
	SYSTEM_INFO si;

	GetSystemInfo(&si);
	CHECK_EQ(os_seg_granule(), (size_t)si.dwPageSize);
	wu_name(name, "os");
	CHECK_RC(os_seg_create(name, 4097, 0600, &s), SHMRING_OK);
	CHECK_RC(os_seg_open(name, &o), SHMRING_OK);
	CHECK(os_seg_base(o) != NULL && os_seg_base(o) != os_seg_base(s));
	CHECK_EQ(os_seg_size(o), (size_t)2 * si.dwPageSize);
	os_seg_close(o);
	os_seg_close(s);
	return 0;
}

struct locker {
	const char *name;
	enum os_lock how;
	int rc;
	DWORD hold_ms;
};

static DWORD WINAPI locker_main(LPVOID arg)
{
	struct locker *l = arg;
	struct os_seg *s = NULL;

	l->rc = os_seg_open(l->name, &s);
	if (l->rc == SHMRING_OK)
		l->rc = os_seg_lock(s, l->how);
	if (l->rc == SHMRING_OK) {
		Sleep(l->hold_ms);
		os_seg_unlock(s);
	}
	os_seg_close(s);
	return 0;
}

static int lock_in_thread(struct locker *l)
{
	HANDLE t = CreateThread(NULL, 0, locker_main, l, 0, NULL);

	if (!t)
		return -1;
	WaitForSingleObject(t, INFINITE);
	CloseHandle(t);
	return l->rc;
}

/* The mutex is per thread: another thread stands for another process. */
static int create_holds_the_lock_until_unlocked(void)
{
	char name[WU_NAME_MAX];
	struct os_seg *s = NULL;
	struct locker l = {.how = OS_LOCK_EXCL_TRY};

	wu_name(name, "os");
	l.name = name;
	CHECK_RC(os_seg_create(name, SEG_SIZE, 0600, &s), SHMRING_OK);
	CHECK_RC(lock_in_thread(&l), SHMRING_EBUSY);
	os_seg_unlock(s);
	CHECK_RC(lock_in_thread(&l), SHMRING_OK);
	CHECK_RC(os_seg_lock(s, OS_LOCK_EXCL_TRY), SHMRING_OK);
	CHECK_RC(lock_in_thread(&l), SHMRING_EBUSY);
	os_seg_unlock(s);
	os_seg_close(s);
	return 0;
}

static int shared_lock_waits_for_the_holder(void)
{
	char name[WU_NAME_MAX];
	struct os_seg *s = NULL;
	struct locker l = {.how = OS_LOCK_SHARED, .hold_ms = 150};
	HANDLE t;
	double t0, dt;

	wu_name(name, "os");
	l.name = name;
	CHECK_RC(os_seg_create(name, SEG_SIZE, 0600, &s), SHMRING_OK);
	os_seg_unlock(s);
	t = CreateThread(NULL, 0, locker_main, &l, 0, NULL);
	CHECK(t != NULL);
	Sleep(50); /* let it take the lock */
	t0 = wu_now_ms();
	CHECK_RC(os_seg_lock(s, OS_LOCK_SHARED), SHMRING_OK);
	dt = wu_now_ms() - t0;
	os_seg_unlock(s);
	WaitForSingleObject(t, INFINITE);
	CloseHandle(t);
	CHECK_RC(l.rc, SHMRING_OK);
	TAP_NOTE("shared lock waited %.0f ms for a 150 ms holder", dt);
	CHECK(dt >= 50);
	os_seg_close(s);
	return 0;
}

static int lock_of_a_dead_holder_is_free(void)
{
	char name[WU_NAME_MAX];
	struct os_seg *s = NULL;
	HANDLE child;

	wu_name(name, "os");
	CHECK_RC(os_seg_create(name, SEG_SIZE, 0600, &s), SHMRING_OK);
	os_seg_unlock(s);
	child = spawn_ready("lock", name);
	CHECK(child != NULL);
	CHECK_RC(os_seg_lock(s, OS_LOCK_EXCL_TRY), SHMRING_EBUSY);
	wu_kill(child);
	CloseHandle(child);
	CHECK_RC(os_seg_lock(s, OS_LOCK_EXCL_TRY), SHMRING_OK); /* abandoned */
	os_seg_unlock(s);
	os_seg_close(s);
	return 0;
}

static int names_go_with_the_last_handle(void)
{
	char name[WU_NAME_MAX];
	struct os_seg *s = NULL, *o = NULL;

	wu_name(name, "os");
	CHECK_RC(os_seg_unlink(name), SHMRING_ENOENT);
	CHECK_RC(os_seg_open(name, &o), SHMRING_ENOENT);
	CHECK_RC(os_seg_create(name, SEG_SIZE, 0600, &s), SHMRING_OK);
	CHECK_EQ(os_seg_linked(s), 1);
	CHECK_EQ(os_seg_young(s), 0);
	CHECK_RC(os_seg_remove(s), SHMRING_OK);
	CHECK_RC(os_seg_unlink(name), SHMRING_OK);
	CHECK_RC(os_seg_open(name, &o), SHMRING_OK); /* still there */
	os_seg_close(s);
	CHECK_RC(os_seg_unlink(name), SHMRING_OK); /* o holds it */
	os_seg_close(o);
	CHECK_RC(os_seg_unlink(name), SHMRING_ENOENT);
	CHECK_RC(os_seg_open(name, &o), SHMRING_ENOENT);
	return 0;
}

/* Ring "a.lock" must not collide with ring "a"'s lock object. */
static int ring_names_never_collide_with_object_names(void)
{
	static const char *const sfx[] = {".lock", ".wake0", ".wake1", "_lock"};
	char name[WU_NAME_MAX], other[WU_NAME_MAX + 8];
	shmring *a = NULL, *b[4] = {0};

	wu_name(name, "os");
	CHECK_RC(shmring_create(name, NULL, SHMRING_PRODUCER, &a), SHMRING_OK);
	for (int i = 0; i < 4; i++) {
		snprintf(other, sizeof other, "%s%s", name, sfx[i]);
		CHECK_RC(shmring_create(other, NULL, SHMRING_PRODUCER, &b[i]),
		         SHMRING_OK);
	}
	for (int i = 0; i < 4; i++)
		shmring_close(b[i]);
	shmring_close(a);
	return 0;
}

static int namespace_follows_the_environment(void)
{
	char name[WU_NAME_MAX];
	wchar_t w[WU_NAME_MAX + 32];
	struct os_seg *s = NULL;
	shmring *r = NULL;
	HANDLE h;
	size_t n = 0;

	wu_name(name, "os");
	CHECK(SetEnvironmentVariableA(NS_ENV, "global"));
	CHECK_RC(os_seg_create(name, SEG_SIZE, 0600, &s), SHMRING_OK);
	for (const char *p = "Global\\shmring."; *p; p++)
		w[n++] = (wchar_t)*p;
	for (const char *p = name; *p; p++)
		w[n++] = (wchar_t)*p;
	w[n] = 0;
	h = OpenFileMappingW(FILE_MAP_READ, FALSE, w);
	CHECK(h != NULL);
	CloseHandle(h);
	CHECK_RC(shmring_unlink(name), SHMRING_OK);
	os_seg_close(s);
	CHECK(SetEnvironmentVariableA(NS_ENV, "Sessions"));
	CHECK_RC(shmring_create(name, NULL, SHMRING_PRODUCER, &r),
	         SHMRING_EINVAL);
	CHECK_RC(shmring_open(name, SHMRING_PRODUCER, &r), SHMRING_EINVAL);
	CHECK_RC(shmring_unlink(name), SHMRING_EINVAL);
	CHECK(SetEnvironmentVariableA(NS_ENV, "LOCAL"));
	CHECK_RC(shmring_create(name, NULL, SHMRING_PRODUCER, &r), SHMRING_OK);
	shmring_close(r);
	CHECK(SetEnvironmentVariableA(NS_ENV, NULL));
	return 0;
}

/* ---- perm -> DACL ------------------------------------------------------- */

static int user_sid(void *sid, DWORD cap)
{
	union {
		TOKEN_USER tu;
		uint8_t b[sizeof(TOKEN_USER) + SECURITY_MAX_SID_SIZE];
	} u;
	HANDLE tok;
	DWORD n;
	BOOL ok;

	if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &tok))
		return -1;
	ok = GetTokenInformation(tok, TokenUser, &u, sizeof u, &n);
	CloseHandle(tok);
	return ok && CopySid(cap, sid, u.tu.User.Sid) ? 0 : -1;
}

/* The mask the DACL of object @obj (of ring @name) grants @sid; -1 if the
 * DACL cannot be read. Sums every ACE naming @sid. */
static long long dacl_mask(const char *name, const char *obj, PSID sid,
                           int *aces)
{
	wchar_t w[WU_NAME_MAX + 32];
	PSECURITY_DESCRIPTOR sd = NULL;
	PACL dacl = NULL;
	HANDLE h;
	size_t n = 0;
	DWORD mask = 0, e;

	for (const char *p = "Local\\shmring."; *p; p++)
		w[n++] = (wchar_t)*p;
	for (const char *p = name; *p; p++)
		w[n++] = (wchar_t)*p;
	for (const char *p = obj; *p; p++)
		w[n++] = (wchar_t)*p;
	w[n] = 0;
	h = *obj ? OpenEventW(READ_CONTROL, FALSE, w)
	         : OpenFileMappingW(READ_CONTROL, FALSE, w);
	if (!h)
		return -1;
	e = GetSecurityInfo(h, SE_KERNEL_OBJECT, DACL_SECURITY_INFORMATION,
	                    NULL, NULL, &dacl, NULL, &sd);
	CloseHandle(h);
	if (e != ERROR_SUCCESS || !dacl)
		return -1;
	*aces = dacl->AceCount;
	for (WORD i = 0; i < dacl->AceCount; i++) {
		ACCESS_ALLOWED_ACE *a;
		if (GetAce(dacl, i, (void **)&a) &&
		    a->Header.AceType == ACCESS_ALLOWED_ACE_TYPE &&
		    EqualSid((PSID)&a->SidStart, sid))
			mask |= a->Mask;
	}
	LocalFree(sd);
	return mask;
}

/* owner -> this user, group -> Authenticated Users, other -> Everyone;
 * r -> SECTION_QUERY | SECTION_MAP_READ, w -> SECTION_MAP_WRITE. */
static int perm_becomes_a_dacl(void)
{
	static const uint32_t perms[] = {0600, 0640, 0604, 0660, 0666,
	                                 0400, 0200, 0700, 0060};
	const DWORD r = SECTION_QUERY | SECTION_MAP_READ, w = SECTION_MAP_WRITE;
	DWORD sids[3][SECURITY_MAX_SID_SIZE / sizeof(DWORD) + 1];
	DWORD n;
	char name[WU_NAME_MAX];
	struct os_seg *s;

	CHECK(user_sid(sids[0], sizeof sids[0]) == 0);
	n = sizeof sids[1];
	CHECK(CreateWellKnownSid(WinAuthenticatedUserSid, NULL, sids[1], &n));
	n = sizeof sids[2];
	CHECK(CreateWellKnownSid(WinWorldSid, NULL, sids[2], &n));
	for (size_t i = 0; i < sizeof perms / sizeof perms[0]; i++) {
		int aces = 0, want_aces = 0;
		wu_name(name, "os");
		CHECK_RC(os_seg_create(name, SEG_SIZE, perms[i], &s),
		         SHMRING_OK);
		for (int c = 0; c < 3; c++) {
			uint32_t bits = perms[i] >> (6 - 3 * c) & 7u;
			long long want =
			        (bits & 4 ? r : 0) | (bits & 2 ? w : 0);
			want_aces += want != 0;
			CHECK_EQ(dacl_mask(name, "", sids[c], &aces), want);
			/* the wake objects follow the same classes */
			long long ev =
			        dacl_mask(name, ":wake1", sids[c], &aces);
			CHECK_EQ(ev != 0, want != 0);
		}
		CHECK_EQ(aces, want_aces);
		os_seg_close(s);
	}
	return 0;
}

/* Another handle, even of the same user, gets only what the DACL grants. */
static int perm_without_rw_for_owner_is_eacces(void)
{
	static const uint32_t perms[] = {0400, 0200, 0044};
	char name[WU_NAME_MAX];
	shmring_config cfg = {0};
	shmring *p = NULL, *c = NULL;

	for (size_t i = 0; i < sizeof perms / sizeof perms[0]; i++) {
		cfg.perm = perms[i];
		wu_name(name, "os");
		CHECK_RC(shmring_create(name, &cfg, SHMRING_PRODUCER, &p),
		         SHMRING_OK);
		CHECK_RC(shmring_open(name, SHMRING_CONSUMER, &c),
		         SHMRING_EACCES);
		shmring_close(p);
	}
	cfg.perm = 0600;
	wu_name(name, "os");
	CHECK_RC(shmring_create(name, &cfg, SHMRING_PRODUCER, &p), SHMRING_OK);
	CHECK_RC(shmring_open(name, SHMRING_CONSUMER, &c), SHMRING_OK);
	shmring_close(c);
	shmring_close(p);
	return 0;
}

/* ---- processes ---------------------------------------------------------- */

static int self_token_is_pid_and_start_time(void)
{
	uint64_t t = os_proc_self();

	CHECK(t != 0);
	CHECK_EQ((uint32_t)t, GetCurrentProcessId());
	CHECK_EQ(os_proc_self(), t);
	CHECK_EQ(os_proc_alive(t), 1);
	CHECK_EQ(os_proc_alive(t ^ (UINT64_C(1) << 40)), 0); /* start time */
	CHECK_EQ(os_proc_alive(0), 0);
	CHECK_EQ(os_proc_alive(UINT64_C(0xfffffff0)), 0);
	srand(1);
	for (int i = 0; i < 2000; i++) { /* any value is safe */
		uint64_t x = (uint64_t)rand() << 48 ^ (uint64_t)rand() << 24 ^
		             (uint64_t)rand();
		int a = os_proc_alive(x);
		CHECK(a == 0 || a == 1);
	}
	return 0;
}

static int exited_process_is_dead_even_with_a_handle(void)
{
	char name[WU_NAME_MAX];
	struct os_seg *s = NULL;
	HANDLE child;
	uint64_t tok;

	wu_name(name, "os");
	CHECK_RC(os_seg_create(name, SEG_SIZE, 0600, &s), SHMRING_OK);
	os_seg_unlock(s);
	child = spawn_ready("token", name);
	CHECK(child != NULL);
	tok = atomic_load(&((struct sr_seg *)os_seg_base(s))->role[1].owner);
	CHECK_EQ((uint32_t)tok, GetProcessId(child));
	CHECK_EQ(os_proc_alive(tok), 1);
	wu_kill(child);
	CHECK_EQ(os_proc_alive(tok), 0); /* exited; our handle keeps it */
	CloseHandle(child);
	CHECK_EQ(os_proc_alive(tok), 0);
	os_seg_close(s);
	return 0;
}

/* ---- wake --------------------------------------------------------------- */

static int wait_times_out_and_signals_are_consumed(void)
{
	char name[WU_NAME_MAX];
	struct os_seg *s = NULL, *o = NULL;
	_Atomic uint32_t *word;
	double t0, dt;

	wu_name(name, "os");
	CHECK_RC(os_seg_create(name, SEG_SIZE, 0600, &s), SHMRING_OK);
	os_seg_unlock(s);
	CHECK_RC(os_seg_open(name, &o), SHMRING_OK);
	word = &((struct sr_seg *)os_seg_base(s))->wake[1].word;
	t0 = wu_now_ms();
	CHECK_RC(os_wait(s, 1, word, 0, 50), SHMRING_ETIMEDOUT);
	dt = wu_now_ms() - t0;
	TAP_NOTE("os_wait(50 ms) timed out after %.1f ms", dt);
	CHECK(dt >= 40);
	/* signalled through another mapping: the same named event */
	os_signal(o, 1, &((struct sr_seg *)os_seg_base(o))->wake[1].word);
	CHECK_EQ(atomic_load(word), 1);
	os_signal(o, 1, &((struct sr_seg *)os_seg_base(o))->wake[1].word);
	/* pending: the word makes the first wait return, the one SetEvent
	 * (the second signal was coalesced) the next; then nothing is left */
	CHECK_RC(os_wait(s, 1, word, 0, 5000), SHMRING_OK);
	CHECK_EQ(atomic_load(word), 0);
	CHECK_RC(os_wait(s, 1, word, 0, 5000), SHMRING_OK);
	CHECK_RC(os_wait(s, 1, word, 0, 0), SHMRING_ETIMEDOUT);
	/* a word left at 1 by a sleeper that died: one early return */
	atomic_store(word, 1);
	t0 = wu_now_ms();
	CHECK_RC(os_wait(s, 1, word, 0, 5000), SHMRING_OK);
	CHECK(wu_now_ms() - t0 < 1000);
	CHECK_RC(os_wait(s, 1, word, 0, 10), SHMRING_ETIMEDOUT);
	/* sides are separate events */
	os_signal(o, 0, &((struct sr_seg *)os_seg_base(o))->wake[0].word);
	CHECK_RC(os_wait(s, 1, word, 0, 0), SHMRING_ETIMEDOUT);
	CHECK_RC(os_wait(s, 0, &((struct sr_seg *)os_seg_base(s))->wake[0].word,
	                 0, 0),
	         SHMRING_OK);
	os_seg_close(o);
	os_seg_close(s);
	return 0;
}

/* A sleeper also waits on its peer's process: a death wakes it. */
static int wait_returns_when_the_peer_process_dies(void)
{
	char name[WU_NAME_MAX];
	struct os_seg *s = NULL;
	HANDLE child, killer;
	volatile double t_kill = 0;
	_Atomic uint32_t *word;
	uint64_t peer;
	double t0, dt;

	wu_name(name, "os");
	CHECK_RC(os_seg_create(name, SEG_SIZE, 0600, &s), SHMRING_OK);
	os_seg_unlock(s);
	child = spawn_ready("token", name); /* owns side 1 */
	CHECK(child != NULL);
	word = &((struct sr_seg *)os_seg_base(s))->wake[0].word;
	peer = atomic_load(&((struct sr_seg *)os_seg_base(s))->role[1].owner);
	CHECK(peer != 0);
	CHECK_RC(os_wait(s, 0, word, peer, 20), SHMRING_ETIMEDOUT); /* alive */
	killer = wu_kill_later(child, 100, &t_kill);
	CHECK(killer != NULL);
	CHECK_RC(os_wait(s, 0, word, peer, 10000), SHMRING_OK);
	dt = wu_now_ms() - t_kill;
	wu_join(killer);
	TAP_NOTE("os_wait woke %.1f ms after TerminateProcess", dt);
	CHECK(dt < 1000);
	/* afterwards it sleeps in short slices until wait.c notices */
	t0 = wu_now_ms();
	CHECK_RC(os_wait(s, 0, word, peer, 10000), SHMRING_ETIMEDOUT);
	CHECK(wu_now_ms() - t0 < 1000);
	wu_reap(child, CHILD_MS);
	os_seg_close(s);
	return 0;
}

/* ---- CPU ---------------------------------------------------------------- */

struct on_cpu {
	int got[64];
};

static DWORD WINAPI on_cpu_main(LPVOID arg)
{
	struct on_cpu *o = arg;

	for (int i = 0; i < 64; i++) {
		o->got[i] = os_cpu_self();
		Sleep(0);
	}
	return 0;
}

/* os_cpu_self() (GetCurrentProcessorNumber): the CPU the caller runs on,
 * 0 <= cpu < the processors there are; a thread bound to one CPU sees
 * that one. wait.c stores 1 + it as the wake.cpu hint. */
static int cpu_self_is_the_cpu_the_thread_runs_on(void)
{
	SYSTEM_INFO si;
	DWORD_PTR pmask = 0, smask = 0;
	int bound = 0;

	GetSystemInfo(&si);
	TAP_NOTE("%lu processors, this thread on %d",
	         (unsigned long)si.dwNumberOfProcessors, os_cpu_self());
	for (int i = 0; i < 1000; i++) {
		int c = os_cpu_self();
		CHECK(c >= 0 && (DWORD)c < si.dwNumberOfProcessors);
	}
	CHECK(GetProcessAffinityMask(GetCurrentProcess(), &pmask, &smask));
	for (DWORD cpu = 0; cpu < si.dwNumberOfProcessors && cpu < 64; cpu++) {
		struct on_cpu o;
		HANDLE t;

		memset(&o, 0xff, sizeof o); /* -1: not run */
		if (!(pmask & ((DWORD_PTR)1 << cpu)))
			continue;
		t = CreateThread(NULL, 0, on_cpu_main, &o, CREATE_SUSPENDED,
		                 NULL);
		CHECK(t != NULL);
		CHECK(SetThreadAffinityMask(t, (DWORD_PTR)1 << cpu) != 0);
		ResumeThread(t);
		WaitForSingleObject(t, INFINITE);
		CloseHandle(t);
		for (int i = 0; i < 64; i++)
			CHECK_EQ(o.got[i], cpu);
		bound++;
	}
	CHECK(bound >= 1);
	return 0;
}

/* ---- clocks ------------------------------------------------------------- */

static int clocks_are_monotonic_and_real(void)
{
	uint64_t a = os_now_ns(), b, r = os_realtime_ns();
	double t0 = wu_now_ms();
	long long unix_s = (long long)time(NULL);

	for (int i = 0; i < 10000; i++) {
		b = os_now_ns();
		CHECK(b >= a);
		a = b;
	}
	Sleep(20);
	b = os_now_ns();
	CHECK((double)(b - a) / 1e6 >= 15);
	CHECK((double)(b - a) / 1e6 <= wu_now_ms() - t0 + 1);
	CHECK(llabs((long long)(r / 1000000000u) - unix_s) <= 2);
	return 0;
}

static const struct tap_test tests[] = {
        TAP(create_is_exclusive_zeroed_and_exact),
        TAP(open_reports_the_page_rounded_size_and_its_granule),
        TAP(create_holds_the_lock_until_unlocked),
        TAP(shared_lock_waits_for_the_holder),
        TAP(lock_of_a_dead_holder_is_free),
        TAP(names_go_with_the_last_handle),
        TAP(ring_names_never_collide_with_object_names),
        TAP(namespace_follows_the_environment),
        TAP(perm_becomes_a_dacl),
        TAP(perm_without_rw_for_owner_is_eacces),
        TAP(self_token_is_pid_and_start_time),
        TAP(exited_process_is_dead_even_with_a_handle),
        TAP(wait_times_out_and_signals_are_consumed),
        TAP(wait_returns_when_the_peer_process_dies),
        TAP(cpu_self_is_the_cpu_the_thread_runs_on),
        TAP(clocks_are_monotonic_and_real),
};

int main(int argc, char **argv)
{
	if (argc > 2 && !strcmp(argv[1], "--child"))
		return child_main(argc, argv);
	return TAP_MAIN(argc, argv, tests);
}
