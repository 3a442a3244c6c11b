/* SPDX-License-Identifier: MIT */
/*
 * test_wake.c -- the wake object ids of src/os.h on Windows: 0 and 1 (the
 * producer and the consumer of a single-producer ring) and 2 + k (producer
 * entry k of an SHMRING_F_MPSC ring), each its own named auto-reset event.
 * Ids 2.. are created or opened on a handle's first use, with the DACL of
 * the creator's wake objects, and closed with the handle; an id whose
 * event cannot be had (beyond the table, or its name held by an object of
 * another type) degrades to a timed sleep and a signal that sends nothing.
 */
#include <aclapi.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "os.h"
#include "shmring.h"
#include "tap.h"
#include "winutil.h"

/* A version-2 segment of 2 slots of 16 bytes, as test_os.c makes. */
#define SEG_STRIDE                                                             \
	((SR_REC_HDR + 8u + SR_STRIDE_ALIGN - 1) & ~(SR_STRIDE_ALIGN - 1))
#define SEG_SIZE (SR_HDR_SIZE + 2 * SEG_STRIDE)
#define NIDS     (2u + SHMRING_MAX_PRODUCERS)

/* "Local\shmring.<ring><suffix>", wide. */
static void obj_name(wchar_t *out, size_t cap, const char *ring,
                     const char *suffix)
{
	char buf[WU_NAME_MAX + 64];
	size_t i;

	snprintf(buf, sizeof buf, "Local\\shmring.%s%s", ring, suffix);
	for (i = 0; buf[i] && i + 1 < cap; i++)
		out[i] = (wchar_t)(unsigned char)buf[i];
	out[i] = 0;
}

/* 1 if the event "<ring>:wake<id>" exists. */
static int wake_exists(const char *ring, unsigned id)
{
	wchar_t w[WU_NAME_MAX + 64];
	char suffix[16];
	HANDLE h;

	snprintf(suffix, sizeof suffix, ":wake%u", id);
	obj_name(w, sizeof w / sizeof w[0], ring, suffix);
	h = OpenEventW(SYNCHRONIZE, FALSE, w);
	if (h)
		CloseHandle(h);
	return h != NULL;
}

/* The DACL of "<ring>:wake<id>" into @out (@cap bytes); its size, or 0. */
static size_t wake_dacl(const char *ring, unsigned id, void *out, size_t cap)
{
	wchar_t w[WU_NAME_MAX + 64];
	char suffix[16];
	PSECURITY_DESCRIPTOR sd = NULL;
	PACL dacl = NULL;
	size_t n = 0;
	HANDLE h;

	snprintf(suffix, sizeof suffix, ":wake%u", id);
	obj_name(w, sizeof w / sizeof w[0], ring, suffix);
	h = OpenEventW(READ_CONTROL, FALSE, w);
	if (!h)
		return 0;
	if (GetSecurityInfo(h, SE_KERNEL_OBJECT, DACL_SECURITY_INFORMATION,
	                    NULL, NULL, &dacl, NULL, &sd) == ERROR_SUCCESS &&
	    dacl && dacl->AclSize <= cap) {
		memcpy(out, dacl, dacl->AclSize);
		n = dacl->AclSize;
	}
	LocalFree(sd);
	CloseHandle(h);
	return n;
}

/* The ACEs of two DACLs are the same (type, mask, SID, in order). */
static int same_aces(const void *a, const void *b)
{
	const ACL *x = a, *y = b;

	if (x->AceCount != y->AceCount || x->AceCount == 0)
		return 0;
	for (WORD i = 0; i < x->AceCount; i++) {
		ACCESS_ALLOWED_ACE *p, *q;
		if (!GetAce((PACL)x, i, (void **)&p) ||
		    !GetAce((PACL)y, i, (void **)&q) ||
		    p->Header.AceType != q->Header.AceType ||
		    p->Mask != q->Mask ||
		    !EqualSid((PSID)&p->SidStart, (PSID)&q->SidStart))
			return 0;
	}
	return 1;
}

static int make_pair(char *name, uint32_t perm, struct os_seg **s,
                     struct os_seg **o)
{
	wu_name(name, "wk");
	if (os_seg_create(name, SEG_SIZE, perm, s) != SHMRING_OK)
		return -1;
	os_seg_unlock(*s);
	if (os_seg_open(name, o) != SHMRING_OK) {
		os_seg_close(*s);
		return -1;
	}
	return 0;
}

/* ---- tests -------------------------------------------------------------- */

/*
 * For every id: a signal through one handle is seen by a wait on that id
 * through the other, and by no wait on any other id (the word is reset
 * by hand, so each wait has to consume the event itself). Even ids are
 * signalled through the opener, odd ones through the creator, so both
 * create the events of some ids and open those of the others; the signal
 * always comes first, before the sleeper has the event.
 */
static int every_id_is_its_own_event(void)
{
	char name[WU_NAME_MAX];
	struct os_seg *s, *o;
	_Atomic uint32_t words[NIDS];

	CHECK(make_pair(name, 0600, &s, &o) == 0);
	for (unsigned i = 0; i < NIDS; i++)
		atomic_init(&words[i], 0);
	for (unsigned x = 0; x < NIDS; x++) {
		struct os_seg *from = x & 1 ? s : o, *to = x & 1 ? o : s;
		CHECK_EQ(os_signal(from, x, &words[x]), 1);
		CHECK_EQ(atomic_load(&words[x]), 1);
		/* a pending signal costs no second SetEvent */
		CHECK_EQ(os_signal(from, x, &words[x]), 0);
		atomic_store(&words[x], 0);
		for (unsigned y = 0; y < NIDS; y++)
			if (y != x)
				CHECK_RC(os_wait(to, y, &words[y], 0, 0),
				         SHMRING_ETIMEDOUT);
		CHECK_RC(os_wait(to, x, &words[x], 0, 0), SHMRING_OK);
		CHECK_RC(os_wait(to, x, &words[x], 0, 0), SHMRING_ETIMEDOUT);
	}
	for (unsigned x = 0; x < NIDS; x++)
		CHECK(wake_exists(name, x));
	os_seg_close(o);
	os_seg_close(s);
	/* every handle closed: no event is left behind */
	for (unsigned x = 0; x < NIDS; x++)
		CHECK(!wake_exists(name, x));
	return 0;
}

/* Ids 2.. exist only once a handle used them, and only while it lives. */
static int producer_ids_are_made_on_first_use(void)
{
	char name[WU_NAME_MAX];
	struct os_seg *s, *o;
	_Atomic uint32_t w = 0;

	CHECK(make_pair(name, 0600, &s, &o) == 0);
	CHECK(wake_exists(name, 0) && wake_exists(name, 1));
	for (unsigned x = 2; x < NIDS; x++)
		CHECK(!wake_exists(name, x));
	CHECK_RC(os_wait(o, 9, &w, 0, 0), SHMRING_ETIMEDOUT);
	CHECK(wake_exists(name, 9));
	CHECK(!wake_exists(name, 8) && !wake_exists(name, 10));
	/* the sleeper's handle keeps it: a later signal reaches it */
	CHECK_EQ(os_signal(s, 9, &w), 1);
	atomic_store(&w, 0);
	CHECK_RC(os_wait(o, 9, &w, 0, 1000), SHMRING_OK);
	os_seg_close(o);
	CHECK(wake_exists(name, 9)); /* s has it open too */
	os_seg_close(s);
	CHECK(!wake_exists(name, 9));
	return 0;
}

/* An event made on first use has the DACL of wake0 and wake1, whether the
 * creator made it (its own DACL) or an opener (read from wake0), for
 * several perms; the wake objects grant READ_CONTROL for that. */
static int events_made_on_first_use_get_the_creators_dacl(void)
{
	static const uint32_t perms[] = {0600, 0640, 0666, 0604};
	union {
		ACL acl;
		uint8_t b[1024];
	} d0, d1, dc, dop;
	char name[WU_NAME_MAX];
	struct os_seg *s, *o;
	_Atomic uint32_t w = 0;

	for (size_t i = 0; i < sizeof perms / sizeof perms[0]; i++) {
		ACCESS_ALLOWED_ACE *a;
		CHECK(make_pair(name, perms[i], &s, &o) == 0);
		CHECK_EQ(os_signal(s, 5, &w), 1); /* the creator makes 5 */
		atomic_store(&w, 0);
		CHECK_EQ(os_signal(o, 6, &w), 1); /* the opener makes 6 */
		atomic_store(&w, 0);
		CHECK(wake_dacl(name, 0, &d0, sizeof d0) > 0);
		CHECK(wake_dacl(name, 1, &d1, sizeof d1) > 0);
		CHECK(wake_dacl(name, 5, &dc, sizeof dc) > 0);
		CHECK(wake_dacl(name, 6, &dop, sizeof dop) > 0);
		CHECK(same_aces(&d0, &d1));
		CHECK(same_aces(&d0, &dc));
		CHECK(same_aces(&d0, &dop));
		/* one ACE per class with r or w; the owner's first */
		CHECK_EQ(d0.acl.AceCount,
		         1 + ((perms[i] & 060) != 0) + ((perms[i] & 06) != 0));
		CHECK(GetAce(&d0.acl, 0, (void **)&a));
		CHECK((a->Mask &
		       (SYNCHRONIZE | EVENT_MODIFY_STATE | READ_CONTROL)) ==
		      (SYNCHRONIZE | EVENT_MODIFY_STATE | READ_CONTROL));
		os_seg_close(o);
		os_seg_close(s);
	}
	return 0;
}

/* No event to be had: os_wait sleeps its timeout and returns ETIMEDOUT,
 * os_signal returns 0 (but still leaves the word set, so a sleeper that
 * has not slept yet returns at once). Beyond the table of ids, and for an
 * id whose name another object type holds. */
static int an_unavailable_event_degrades_to_a_timed_sleep(void)
{
	char name[WU_NAME_MAX];
	wchar_t squat[WU_NAME_MAX + 64];
	struct os_seg *s, *o;
	_Atomic uint32_t w = 0;
	HANDLE mutex;
	double t0, dt;
	const unsigned ids[] = {NIDS, NIDS + 100, 12};

	CHECK(make_pair(name, 0600, &s, &o) == 0);
	obj_name(squat, sizeof squat / sizeof squat[0], name, ":wake12");
	mutex = CreateMutexW(NULL, FALSE, squat);
	CHECK(mutex != NULL);
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		CHECK_EQ(os_signal(o, ids[i], &w), 0);
		CHECK_EQ(atomic_load(&w), 1);
		CHECK_RC(os_wait(s, ids[i], &w, 0, 1000), SHMRING_OK);
		CHECK_EQ(atomic_load(&w), 0);
		t0 = wu_now_ms();
		CHECK_RC(os_wait(s, ids[i], &w, 0, 60), SHMRING_ETIMEDOUT);
		dt = wu_now_ms() - t0;
		CHECK(dt >= 50);
		TAP_NOTE("id %u: no event, slept %.1f ms of 60", ids[i], dt);
	}
	/* the others still work */
	CHECK_EQ(os_signal(o, 13, &w), 1);
	atomic_store(&w, 0);
	CHECK_RC(os_wait(s, 13, &w, 0, 1000), SHMRING_OK);
	/* the squatter gone, id 12 gets its event on the next use */
	CloseHandle(mutex);
	CHECK_EQ(os_signal(o, 12, &w), 1);
	atomic_store(&w, 0);
	CHECK_RC(os_wait(s, 12, &w, 0, 1000), SHMRING_OK);
	os_seg_close(o);
	os_seg_close(s);
	return 0;
}

/* A degraded sleep still ends when the peer's process ends. */
static int an_unavailable_event_still_watches_the_peer(void)
{
	char name[WU_NAME_MAX], ev_name[WU_NAME_MAX], args[2 * WU_NAME_MAX];
	struct os_seg *s, *o;
	_Atomic uint32_t w = 0;
	_Atomic uint64_t *owner;
	HANDLE ev, child, killer;
	volatile double t_kill = 0;
	uint64_t peer;
	double dt;

	CHECK(make_pair(name, 0600, &s, &o) == 0);
	owner = &((struct sr_seg *)os_seg_base(s))->role[1].owner;
	wu_name(ev_name, "ev");
	ev = wu_event_create(ev_name);
	CHECK(ev != NULL);
	snprintf(args, sizeof args, "token %s %s", name, ev_name);
	child = wu_spawn(args);
	CHECK(child != NULL);
	CHECK(wu_event_wait(ev, 30000));
	CloseHandle(ev);
	peer = atomic_load(owner);
	CHECK(os_proc_alive(peer));
	killer = wu_kill_later(child, 100, &t_kill);
	CHECK(killer != NULL);
	CHECK_RC(os_wait(s, NIDS, &w, peer, 10000), SHMRING_OK);
	dt = wu_now_ms() - t_kill;
	wu_join(killer);
	TAP_NOTE("degraded wait woke %.1f ms after TerminateProcess", dt);
	CHECK(t_kill > 0 && dt < 1000);
	wu_reap(child, 10000);
	os_seg_close(o);
	os_seg_close(s);
	return 0;
}

static const struct tap_test tests[] = {
        TAP(every_id_is_its_own_event),
        TAP(producer_ids_are_made_on_first_use),
        TAP(events_made_on_first_use_get_the_creators_dacl),
        TAP(an_unavailable_event_degrades_to_a_timed_sleep),
        TAP(an_unavailable_event_still_watches_the_peer),
};

/* --child token SEG EV: publish our process token as the consumer's
 * owner in segment SEG, set EV, and wait to be killed. */
static int child_main(int argc, char **argv)
{
	struct os_seg *s;
	HANDLE ev;

	tap_init();
	if (argc < 5 || strcmp(argv[2], "token") ||
	    os_seg_open(argv[3], &s) != SHMRING_OK)
		return 2;
	atomic_store(&((struct sr_seg *)os_seg_base(s))->role[1].owner,
	             os_proc_self());
	ev = wu_event_open(argv[4]);
	if (!ev)
		return 3;
	SetEvent(ev);
	Sleep(INFINITE);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 2 && !strcmp(argv[1], "--child"))
		return child_main(argc, argv);
	return TAP_MAIN(argc, argv, tests);
}
