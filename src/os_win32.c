/* SPDX-License-Identifier: MIT */
/*
 * os_win32.c -- the Windows backend of os.h (mingw-w64; tested under Wine).
 *
 * Objects, all named in one namespace (docs/windows.md):
 *   <ns>\shmring.<name>        the segment: a pagefile-backed file mapping
 *                              (CreateFileMappingW(INVALID_HANDLE_VALUE),
 *                              SEC_COMMIT, so a full commit charge is ENOMEM
 *                              at create time, not a fault on first touch)
 *   <ns>\shmring.<name>:lock   the segment's lock, a named mutex
 *   <ns>\shmring.<name>:wake<id>  wake object <id> (os.h): 0 the producer
 *                              of a single-producer ring, 1 the consumer,
 *                              2 + k producer entry k (0..31) of an
 *                              SHMRING_F_MPSC ring
 * <ns> is Local unless SHMRING_WIN_NAMESPACE=Global. Ring names are
 * [A-Za-z0-9._-]: the ':' keeps ring "a.lock" clear of ring "a"'s lock
 * (Windows refuses a name already used by an object of another type).
 * Each object gets a DACL built from the 0600-style perm (os_sd_make).
 *
 * Wake: named auto-reset events, one per wake object id. WaitOnAddress and
 * WakeByAddress* are no substitute: Microsoft's documentation says "Only
 * threads within the same process can be woken". The object's wake word
 * is a hint that a signal is pending, so a burst of signals costs one
 * SetEvent (under Wine each event call is a round trip to wineserver).
 * wake0 and wake1 are made with the segment; wake2..wake33 are created or
 * opened by a handle on its first wait or signal of that id (os_wake_get)
 * and kept until it closes, so a single-producer ring never has them. Such
 * an event gets the DACL of the creator's wake objects: the creator kept
 * it, an opener reads it from wake0 (which grants READ_CONTROL for that);
 * an opener that cannot read it only opens the event, never creates it.
 * An id whose event cannot be had degrades to polling: os_wait sleeps its
 * timeout (one slice) and os_signal sends nothing; callers re-check.
 * Lock: a named mutex; Windows has no shared mode, so OS_LOCK_SHARED takes it
 * exclusively too (holders keep it for microseconds). The OS releases it
 * (WAIT_ABANDONED) when its holder dies.
 * Liveness: pid plus a digest of the process creation time; a sleeper also
 * waits on the peer's process handle, so a death wakes it at once.
 * Names: a mapping's name lives exactly as long as some handle to it, so
 * there is never a stale name to remove; os_seg_remove and os_seg_unlink
 * succeed without doing anything.
 */
#ifndef _WIN32_WINNT
#define _WIN32_WINNT 0x0602 /* GetSystemTimePreciseAsFileTime: Windows 8 */
#endif
#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os.h"
#include "shmring.h"

#define OS_NAME_MAX      (SHMRING_MAX_NAME + 32)
#define OS_WAKE_IDS      (2u + SHMRING_MAX_PRODUCERS) /* os.h's wake ids */
#define OS_LOCK_WAIT_MS  2000u /* longest a lock holder may keep us waiting */
#define OS_DEAD_POLL_MS  5     /* wait slice once the peer's handle fired */
#define OS_ACL_BYTES     512u  /* 3 ACEs of SIDs <= SECURITY_MAX_SID_SIZE */
#define OS_FILETIME_UNIX UINT64_C(116444736000000000) /* 1601 -> 1970 */

enum os_obj { OS_MAP, OS_LOCK, OS_NOBJ };

static const char *const os_suffix[OS_NOBJ] = {"", ":lock"};

/* A security descriptor, its DACL and the attributes pointing at them. */
struct os_sd {
	SECURITY_ATTRIBUTES sa;
	SECURITY_DESCRIPTOR sd;
	union {
		ACL acl;
		uint8_t bytes[OS_ACL_BYTES];
	} dacl;
};

enum os_sd_state { OS_SD_UNKNOWN, OS_SD_READY, OS_SD_NONE };

struct os_seg {
	HANDLE map;
	HANDLE lock;
	/* wake[0..1] made with the segment; the others on first use */
	HANDLE wake[OS_WAKE_IDS];
	/* "<ns>\shmring.<name>", fixed at create/open: the namespace is
	 * read once, so every object of this handle is in the same one */
	char oname[OS_NAME_MAX];
	/* the DACL of the events made on first use (os_wake_sd): the
	 * creator's wake DACL, kept at create or read from wake0 by an
	 * opener; NONE: unreadable, such events are only opened */
	enum os_sd_state wsd_state;
	struct os_sd wsd;
	void *base;
	size_t size; /* committed bytes of the view, as VirtualQuery says */
	int locked;  /* we own the mutex */
	/* os_wait's view of the peer: its token, process handle, and whether
	 * that handle has been seen signalled (the process ended). */
	uint64_t peer_token;
	HANDLE peer_proc;
	int peer_ended;
};

static int os_err(DWORD e)
{
	switch (e) {
	case ERROR_ALREADY_EXISTS:
		return SHMRING_EEXIST;
	case ERROR_FILE_NOT_FOUND:
	case ERROR_PATH_NOT_FOUND:
		return SHMRING_ENOENT;
	case ERROR_ACCESS_DENIED:
	case ERROR_PRIVILEGE_NOT_HELD:
		return SHMRING_EACCES;
	case ERROR_NOT_ENOUGH_MEMORY:
	case ERROR_OUTOFMEMORY:
	case ERROR_COMMITMENT_LIMIT:
	case ERROR_NO_SYSTEM_RESOURCES:
	case ERROR_DISK_FULL:
		return SHMRING_ENOMEM;
	case ERROR_FILENAME_EXCED_RANGE:
	case ERROR_BAD_PATHNAME:
		return SHMRING_EINVAL;
	default:
		return SHMRING_ESYS;
	}
}

/* ---- names -------------------------------------------------------------- */

/* "Local" or "Global", from SHMRING_WIN_NAMESPACE (unset or empty: Local). */
static int os_namespace(const char **ns)
{
	char v[16];
	DWORD n = GetEnvironmentVariableA("SHMRING_WIN_NAMESPACE", v, sizeof v);

	*ns = "Local";
	if (n == 0)
		return SHMRING_OK;
	if (n >= sizeof v)
		return SHMRING_EINVAL;
	if (lstrcmpiA(v, "Global") == 0)
		*ns = "Global";
	else if (lstrcmpiA(v, "Local") != 0)
		return SHMRING_EINVAL;
	return SHMRING_OK;
}

/* "<ns>\\shmring.<name>" for ring @name (ASCII, validated by ring.c). */
static int os_oname(char *out, const char *name)
{
	const char *ns;
	int rc = os_namespace(&ns);
	int n;

	if (rc != SHMRING_OK)
		return rc;
	n = snprintf(out, OS_NAME_MAX, "%s\\shmring.%s", ns, name);
	return n < 0 || n >= OS_NAME_MAX ? SHMRING_EINVAL : SHMRING_OK;
}

/* @oname (os_oname) then @suffix, widened into @out (OS_NAME_MAX). */
static int os_wide(wchar_t *out, const char *oname, const char *suffix)
{
	char buf[OS_NAME_MAX];
	int n = snprintf(buf, sizeof buf, "%s%s", oname, suffix);

	if (n < 0 || (size_t)n >= sizeof buf)
		return SHMRING_EINVAL;
	for (int i = 0; i <= n; i++)
		out[i] = (wchar_t)(unsigned char)buf[i];
	return SHMRING_OK;
}

/* The wide name of object @obj of the segment @s. */
static int os_name(wchar_t *out, const struct os_seg *s, enum os_obj obj)
{
	return os_wide(out, s->oname, os_suffix[obj]);
}

/* The wide name of wake object @id of the segment @s: "...:wake<id>". */
static int os_wake_name(wchar_t *out, const struct os_seg *s, unsigned id)
{
	char suffix[16];

	snprintf(suffix, sizeof suffix, ":wake%u", id);
	return os_wide(out, s->oname, suffix);
}

/* ---- security ----------------------------------------------------------- */

/* The SID of the user this process runs as, into @sid (@cap bytes). */
static int os_user_sid(void *sid, DWORD cap)
{
	union {
		TOKEN_USER tu;
		uint8_t bytes[sizeof(TOKEN_USER) + SECURITY_MAX_SID_SIZE];
	} u;
	HANDLE tok;
	DWORD n;
	BOOL ok;

	if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &tok))
		return os_err(GetLastError());
	ok = GetTokenInformation(tok, TokenUser, &u, sizeof u, &n);
	CloseHandle(tok);
	if (!ok || !CopySid(cap, sid, u.tu.User.Sid))
		return os_err(GetLastError());
	return SHMRING_OK;
}

/* The descriptor and attributes around the DACL in @d->dacl. */
static int os_sd_finish(struct os_sd *d)
{
	if (!InitializeSecurityDescriptor(&d->sd,
	                                  SECURITY_DESCRIPTOR_REVISION) ||
	    !SetSecurityDescriptorDacl(&d->sd, TRUE, &d->dacl.acl, FALSE) ||
	    !SetSecurityDescriptorControl(&d->sd, SE_DACL_PROTECTED,
	                                  SE_DACL_PROTECTED))
		return os_err(GetLastError());
	d->sa.nLength = sizeof d->sa;
	d->sa.lpSecurityDescriptor = &d->sd;
	d->sa.bInheritHandle = FALSE;
	return SHMRING_OK;
}

/*
 * A protected DACL from 0600-style @perm: the owner class grants to this
 * process's user, the group class to Authenticated Users, the other class to
 * Everyone. 'r' grants @rd, 'w' grants @wr; 'x' means nothing here.
 */
static int os_sd_make(struct os_sd *d, uint32_t perm, DWORD rd, DWORD wr)
{
	static const WELL_KNOWN_SID_TYPE known[2] = {WinAuthenticatedUserSid,
	                                             WinWorldSid};
	/* DWORD-aligned, as a SID must be */
	DWORD sids[3][SECURITY_MAX_SID_SIZE / sizeof(DWORD) + 1];
	int rc = os_user_sid(sids[0], sizeof sids[0]);

	if (rc != SHMRING_OK)
		return rc;
	for (int i = 0; i < 2; i++) {
		DWORD n = sizeof sids[i + 1];
		if (!CreateWellKnownSid(known[i], NULL, sids[i + 1], &n))
			return os_err(GetLastError());
	}
	if (!InitializeAcl(&d->dacl.acl, sizeof d->dacl, ACL_REVISION))
		return os_err(GetLastError());
	for (int c = 0; c < 3; c++) {
		uint32_t bits = perm >> (6 - 3 * c) & 7u;
		DWORD mask = (bits & 4u ? rd : 0) | (bits & 2u ? wr : 0);
		if (mask && !AddAccessAllowedAce(&d->dacl.acl, ACL_REVISION,
		                                 mask, sids[c]))
			return os_err(GetLastError());
	}
	return os_sd_finish(d);
}

/* ---- segment ------------------------------------------------------------ */

/* A handle's segment record for ring @name, its namespace fixed now. */
static int os_seg_alloc(const char *name, struct os_seg **out)
{
	struct os_seg *s = calloc(1, sizeof *s);
	int rc;

	if (!s)
		return SHMRING_ENOMEM;
	rc = os_oname(s->oname, name);
	if (rc != SHMRING_OK) {
		free(s);
		return rc;
	}
	*out = s;
	return SHMRING_OK;
}

/* Wait for the segment's mutex up to @ms; an abandoned one is ours too. */
static int os_lock_wait(struct os_seg *s, DWORD ms)
{
	DWORD w = WaitForSingleObject(s->lock, ms);

	if (w == WAIT_OBJECT_0 || w == WAIT_ABANDONED) {
		s->locked = 1;
		return SHMRING_OK;
	}
	return w == WAIT_TIMEOUT ? SHMRING_EBUSY : os_err(GetLastError());
}

#define OS_SYNC_USE (SYNCHRONIZE | EVENT_MODIFY_STATE | MUTEX_MODIFY_STATE)
#define OS_WAKE_USE (SYNCHRONIZE | EVENT_MODIFY_STATE)

/*
 * The creator's lock and wake objects, made after the mapping: until they
 * exist an opener finds no lock and reports ENOENT, i.e. "not initialised",
 * and once the lock exists the creator owns it until ring.c unlocks it.
 * The wake objects' DACL also grants READ_CONTROL, so that an opener can
 * copy it to the wake objects it makes on first use (os_wake_sd); it is
 * kept in s->wsd for the ones this handle makes.
 */
static int os_sync_create(struct os_seg *s, uint32_t perm)
{
	wchar_t wname[OS_NAME_MAX];
	struct os_sd sd;
	int rc = os_sd_make(&sd, perm, OS_SYNC_USE, OS_SYNC_USE);

	if (rc == SHMRING_OK)
		rc = os_sd_make(&s->wsd, perm, OS_SYNC_USE | READ_CONTROL,
		                OS_SYNC_USE | READ_CONTROL);
	if (rc == SHMRING_OK)
		rc = os_name(wname, s, OS_LOCK);
	if (rc != SHMRING_OK)
		return rc;
	s->wsd_state = OS_SD_READY;
	s->lock = CreateMutexExW(&sd.sa, wname, 0,
	                         SYNCHRONIZE | MUTEX_MODIFY_STATE);
	if (!s->lock)
		return os_err(GetLastError());
	/* A brand-new mutex is free; an old one (a hostile process's) may
	 * be held: then the name is in use. */
	rc = os_lock_wait(s, OS_LOCK_WAIT_MS);
	if (rc == SHMRING_EBUSY)
		return SHMRING_EEXIST;
	for (unsigned i = 0; i < 2 && rc == SHMRING_OK; i++) {
		rc = os_wake_name(wname, s, i);
		if (rc != SHMRING_OK)
			break;
		s->wake[i] = CreateEventExW(&s->wsd.sa, wname, 0, OS_WAKE_USE);
		if (!s->wake[i])
			rc = os_err(GetLastError());
	}
	return rc;
}

static int os_map_create(struct os_seg *s, size_t size, uint32_t perm)
{
	wchar_t wname[OS_NAME_MAX];
	struct os_sd sd;
	uint64_t sz = size;
	int rc = os_sd_make(&sd, perm, SECTION_QUERY | SECTION_MAP_READ,
	                    SECTION_MAP_WRITE);

	if (rc == SHMRING_OK)
		rc = os_name(wname, s, OS_MAP);
	if (rc != SHMRING_OK)
		return rc;
	SetLastError(ERROR_SUCCESS);
	s->map = CreateFileMappingW(INVALID_HANDLE_VALUE, &sd.sa,
	                            PAGE_READWRITE | SEC_COMMIT,
	                            (DWORD)(sz >> 32), (DWORD)sz, wname);
	if (!s->map) /* ERROR_INVALID_HANDLE: the name is another object's */
		return GetLastError() == ERROR_INVALID_HANDLE
		               ? SHMRING_EEXIST
		               : os_err(GetLastError());
	/* Exclusive: an existing section is not ours (os_seg_close drops
	 * the handle we got to it). */
	if (GetLastError() == ERROR_ALREADY_EXISTS)
		return SHMRING_EEXIST;
	s->base = MapViewOfFile(s->map, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0,
	                        size);
	if (!s->base)
		return os_err(GetLastError());
	s->size = size;
	return SHMRING_OK;
}

int os_seg_create(const char *name, size_t size, uint32_t perm,
                  struct os_seg **out)
{
	struct os_seg *s;
	int rc = size ? os_seg_alloc(name, &s) : SHMRING_EINVAL;

	if (rc != SHMRING_OK)
		return rc;
	rc = os_map_create(s, size, perm);
	if (rc == SHMRING_OK)
		rc = os_sync_create(s, perm);
	if (rc != SHMRING_OK) {
		os_seg_close(s);
		return rc;
	}
	*out = s;
	return SHMRING_OK;
}

/*
 * Map the whole section and take its size from the OS: the committed,
 * read-write run of pages at the start of the view (VirtualQuery). A
 * hostile creator's SEC_RESERVE section thus reports only what can be
 * touched.
 */
static int os_map_open(struct os_seg *s, int writable)
{
	MEMORY_BASIC_INFORMATION mbi;
	wchar_t wname[OS_NAME_MAX];
	DWORD access =
	        writable ? FILE_MAP_READ | FILE_MAP_WRITE : FILE_MAP_READ;
	int rc = os_name(wname, s, OS_MAP);

	if (rc != SHMRING_OK)
		return rc;
	s->map = OpenFileMappingW(access, FALSE, wname);
	if (!s->map) /* ERROR_INVALID_HANDLE: the name is another object's */
		return GetLastError() == ERROR_INVALID_HANDLE
		               ? SHMRING_EBADFMT
		               : os_err(GetLastError());
	s->base = MapViewOfFile(s->map, access, 0, 0, 0);
	if (!s->base)
		return os_err(GetLastError());
	if (VirtualQuery(s->base, &mbi, sizeof mbi) != sizeof mbi)
		return os_err(GetLastError());
	if (mbi.State != MEM_COMMIT ||
	    mbi.Protect != (writable ? PAGE_READWRITE : PAGE_READONLY))
		return SHMRING_EBADFMT;
	s->size = mbi.RegionSize;
	return SHMRING_OK;
}

/* The lock and wake objects 0 and 1. Missing: the creator has not made
 * them yet (or is gone), so the ring is not there to open. */
static int os_sync_open(struct os_seg *s)
{
	wchar_t wname[OS_NAME_MAX];
	int rc = os_name(wname, s, OS_LOCK);

	if (rc != SHMRING_OK)
		return rc;
	s->lock = OpenMutexW(SYNCHRONIZE | MUTEX_MODIFY_STATE, FALSE, wname);
	if (!s->lock)
		return os_err(GetLastError());
	for (unsigned i = 0; i < 2; i++) {
		rc = os_wake_name(wname, s, i);
		if (rc != SHMRING_OK)
			return rc;
		s->wake[i] = OpenEventW(OS_WAKE_USE, FALSE, wname);
		if (!s->wake[i])
			return os_err(GetLastError());
	}
	return SHMRING_OK;
}

int os_seg_open(const char *name, struct os_seg **out)
{
	struct os_seg *s;
	int rc = os_seg_alloc(name, &s);

	if (rc != SHMRING_OK)
		return rc;
	rc = os_map_open(s, 1);
	if (rc == SHMRING_OK)
		rc = os_sync_open(s);
	if (rc != SHMRING_OK) {
		os_seg_close(s);
		return rc;
	}
	*out = s;
	return SHMRING_OK;
}

int os_seg_open_ro(const char *name, struct os_seg **out)
{
	struct os_seg *s;
	int rc = os_seg_alloc(name, &s);

	if (rc != SHMRING_OK)
		return rc;
	rc = os_map_open(s, 0);
	if (rc != SHMRING_OK) {
		os_seg_close(s);
		return rc;
	}
	*out = s;
	return SHMRING_OK;
}

/*
 * Listing: the named sections of the object directory that Local\ (or
 * Global\) names, through ntdll's directory calls (there is no Win32
 * one). Local\ is \Sessions\<id>\BaseNamedObjects, or
 * \BaseNamedObjects in session 0.
 */
typedef LONG(NTAPI *win_open_dir_fn)(HANDLE *, ACCESS_MASK, void *);
typedef LONG(NTAPI *win_query_dir_fn)(HANDLE, void *, ULONG, BOOLEAN, BOOLEAN,
                                      ULONG *, ULONG *);

struct win_ustr { /* UNICODE_STRING */
	USHORT len, cap;
	wchar_t *buf;
};

struct win_oattr { /* OBJECT_ATTRIBUTES */
	ULONG size;
	HANDLE root;
	struct win_ustr *name;
	ULONG attributes;
	void *sd, *qos;
};

struct win_dir_entry { /* OBJECT_DIRECTORY_INFORMATION */
	struct win_ustr name, type;
};

static int win_ustr_is(const struct win_ustr *u, const char *s)
{
	size_t n = strlen(s);

	if (u->len != n * sizeof(wchar_t))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (u->buf[i] != (wchar_t)(unsigned char)s[i])
			return 0;
	return 1;
}

/* The ASCII ring name of a section named "shmring.<name>", or 0. */
static int win_ring_name(const struct win_ustr *u, char *out, size_t cap)
{
	static const char prefix[] = "shmring.";
	size_t n = u->len / sizeof(wchar_t), p = sizeof prefix - 1;

	if (n <= p || n - p >= cap)
		return 0;
	for (size_t i = 0; i < n; i++) {
		wchar_t c = u->buf[i];
		if (c == 0 || c > 127 || (i < p && c != (wchar_t)prefix[i]))
			return 0;
		if (i >= p)
			out[i - p] = (char)c;
	}
	out[n - p] = 0;
	return 1;
}

int os_seg_list(int (*fn)(const char *name, void *arg), void *arg)
{
	HMODULE nt = GetModuleHandleW(L"ntdll.dll");
	win_open_dir_fn open_dir =
	        nt ? (win_open_dir_fn)(void (*)(void))GetProcAddress(
	                     nt, "NtOpenDirectoryObject")
	           : NULL;
	win_query_dir_fn query_dir =
	        nt ? (win_query_dir_fn)(void (*)(void))GetProcAddress(
	                     nt, "NtQueryDirectoryObject")
	           : NULL;
	union {
		struct win_dir_entry e;
		uint8_t bytes[4096];
	} buf;
	char path[64], ring[SHMRING_MAX_NAME + 1];
	wchar_t wpath[64];
	struct win_ustr upath;
	struct win_oattr oa = {sizeof oa, NULL, &upath, 0x40 /* CASE_INSENS */,
	                       NULL,      NULL};
	const char *ns;
	DWORD session = 0;
	ULONG ctx = 0, got;
	BOOLEAN first = TRUE;
	HANDLE dir;
	int rc = os_namespace(&ns), n;

	if (rc != SHMRING_OK)
		return rc;
	if (!open_dir || !query_dir)
		return SHMRING_ESYS;
	if (strcmp(ns, "Local") == 0)
		ProcessIdToSessionId(GetCurrentProcessId(), &session);
	n = session ? snprintf(path, sizeof path,
	                       "\\Sessions\\%lu\\BaseNamedObjects",
	                       (unsigned long)session)
	            : snprintf(path, sizeof path, "\\BaseNamedObjects");
	for (int i = 0; i <= n; i++)
		wpath[i] = (wchar_t)(unsigned char)path[i];
	upath = (struct win_ustr){(USHORT)(n * sizeof(wchar_t)),
	                          (USHORT)((n + 1) * sizeof(wchar_t)), wpath};
	if (open_dir(&dir, 0x0001 /* DIRECTORY_QUERY */, &oa) < 0)
		return SHMRING_ESYS;
	/* One entry per call; a negative status (or NO_MORE_ENTRIES, a
	 * warning with the top bit set) ends the walk. */
	while (query_dir(dir, &buf, sizeof buf, TRUE, first, &ctx, &got) >= 0) {
		first = FALSE;
		if (win_ustr_is(&buf.e.type, "Section") &&
		    win_ring_name(&buf.e.name, ring, sizeof ring) &&
		    fn(ring, arg) != 0)
			break;
	}
	CloseHandle(dir);
	return SHMRING_OK;
}

void *os_seg_base(const struct os_seg *s)
{
	return s->base;
}

/* The committed size of the view, as VirtualQuery says: the section's size
 * rounded up to the page (see os_seg_granule). */
size_t os_seg_size(const struct os_seg *s)
{
	return s->size;
}

/*
 * Windows knows a section's size only to the page: VirtualQuery (and under
 * Wine even NtQuerySection) reports it rounded up. ring.c therefore accepts
 * a header whose seg_size lies within the last page of the mapping; it
 * never touches bytes beyond seg_size, which are within the mapping.
 */
size_t os_seg_granule(void)
{
	SYSTEM_INFO si;

	GetSystemInfo(&si);
	return si.dwPageSize;
}

int os_seg_lock(struct os_seg *s, enum os_lock how)
{
	/* Shared waits, but not forever: a hostile holder must not hang
	 * shmring_open(), which never blocks. */
	return os_lock_wait(s, how == OS_LOCK_SHARED ? OS_LOCK_WAIT_MS : 0);
}

void os_seg_unlock(struct os_seg *s)
{
	if (s->locked && ReleaseMutex(s->lock))
		s->locked = 0;
}

/* While we hold a handle the name cannot name anything else: Windows
 * removes a name only with its object's last handle, and two objects
 * cannot share a name. */
int os_seg_linked(const struct os_seg *s)
{
	(void)s;
	return 1;
}

/* ring.c asks this of a segment it found unpublished, to avoid removing
 * one whose creator is still starting. Removing is a no-op here (below),
 * so no judgement can hurt a creator: never young. */
int os_seg_young(const struct os_seg *s)
{
	(void)s;
	return 0;
}

/* Nothing to do: the name goes with the last handle to the section. */
int os_seg_remove(struct os_seg *s)
{
	(void)s;
	return SHMRING_OK;
}

/* SHMRING_ENOENT (or EACCES) as on Linux; otherwise succeed and leave the
 * name, which goes with the last handle (docs/windows.md). */
int os_seg_unlink(const char *name)
{
	char oname[OS_NAME_MAX];
	wchar_t wname[OS_NAME_MAX];
	int rc = os_oname(oname, name);
	HANDLE h;

	if (rc == SHMRING_OK)
		rc = os_wide(wname, oname, os_suffix[OS_MAP]);
	if (rc != SHMRING_OK)
		return rc;
	h = OpenFileMappingW(SECTION_QUERY, FALSE, wname);
	if (!h) /* ERROR_INVALID_HANDLE: the name is another object's */
		return GetLastError() == ERROR_INVALID_HANDLE
		               ? SHMRING_ENOENT
		               : os_err(GetLastError());
	CloseHandle(h);
	return SHMRING_OK;
}

static void os_close_handle(HANDLE *h)
{
	if (*h)
		CloseHandle(*h);
	*h = NULL;
}

void os_seg_close(struct os_seg *s)
{
	if (!s)
		return;
	os_seg_unlock(s);
	/* Wake and lock objects first, the mapping last: whoever can still
	 * open the mapping then also finds them, unless they are gone too. */
	for (unsigned i = 0; i < OS_WAKE_IDS; i++)
		os_close_handle(&s->wake[i]);
	os_close_handle(&s->lock);
	os_close_handle(&s->peer_proc);
	if (s->base)
		UnmapViewOfFile(s->base);
	os_close_handle(&s->map);
	free(s);
}

/* ---- processes ---------------------------------------------------------- */

/* 32-bit digest of a process's creation time (0 if it cannot be read). */
static uint32_t os_proc_digest(HANDLE h)
{
	FILETIME created, exited, kernel, user;
	uint64_t t;

	if (!GetProcessTimes(h, &created, &exited, &kernel, &user))
		return 0;
	t = (uint64_t)created.dwHighDateTime << 32 | created.dwLowDateTime;
	t *= UINT64_C(0x9e3779b97f4a7c15); /* odd: a bijection; keep the top */
	return (uint32_t)(t >> 32);
}

uint64_t os_proc_self(void)
{
	return (uint64_t)os_proc_digest(GetCurrentProcess()) << 32 |
	       GetCurrentProcessId();
}

/*
 * A handle to the running process named by @token, or NULL if it ended or
 * its pid now names another process. *denied is set when it exists but we
 * may not open it (another user's): its start time cannot be checked.
 */
static HANDLE os_proc_open(uint64_t token, int *denied)
{
	DWORD pid = (DWORD)token;
	HANDLE h;

	*denied = 0;
	if (pid == 0)
		return NULL;
	h = OpenProcess(SYNCHRONIZE | PROCESS_QUERY_LIMITED_INFORMATION, FALSE,
	                pid);
	if (!h) {
		*denied = GetLastError() == ERROR_ACCESS_DENIED;
		return NULL;
	}
	/* An ended process lingers while anyone holds a handle to it: that
	 * is Windows' zombie, and it is dead. */
	if (WaitForSingleObject(h, 0) != WAIT_TIMEOUT ||
	    os_proc_digest(h) != (uint32_t)(token >> 32)) {
		CloseHandle(h);
		return NULL;
	}
	return h;
}

int os_proc_alive(uint64_t token)
{
	int denied;
	HANDLE h = os_proc_open(token, &denied);

	if (!h)
		return denied; /* as Linux's kill() EPERM: exists, cannot tell
		                */
	CloseHandle(h);
	return 1;
}

/* ---- wake --------------------------------------------------------------- */

/*
 * The peer's process handle for os_wait, refreshed when the peer's token
 * changes (a takeover). NULL when there is nothing to wait on: no peer,
 * already ended, or another user's process.
 */
static HANDLE os_peer_proc(struct os_seg *s, uint64_t tok)
{
	int denied;

	if (tok != s->peer_token) {
		os_close_handle(&s->peer_proc);
		s->peer_token = tok;
		s->peer_proc = os_proc_open(tok, &denied);
		s->peer_ended = 0;
	}
	return s->peer_ended ? NULL : s->peer_proc;
}

/*
 * The DACL for the wake objects this handle makes on first use: the
 * creator kept its own (os_sync_create); an opener copies wake0's, which
 * grants READ_CONTROL for that, once. NONE if it cannot be read (a ring
 * made before READ_CONTROL was granted, by another user) or does not fit:
 * such objects are then only opened, never created, by this handle.
 */
static int os_wake_sd(struct os_seg *s)
{
	union {
		SECURITY_DESCRIPTOR_RELATIVE sd;
		uint8_t bytes[sizeof(SECURITY_DESCRIPTOR_RELATIVE) +
		              2 * OS_ACL_BYTES];
	} buf;
	wchar_t wname[OS_NAME_MAX];
	BOOL present = FALSE, defaulted = FALSE, ok = FALSE;
	PACL acl = NULL;
	DWORD need;
	HANDLE h;

	if (s->wsd_state != OS_SD_UNKNOWN)
		return s->wsd_state == OS_SD_READY ? SHMRING_OK
		                                   : SHMRING_EACCES;
	s->wsd_state = OS_SD_NONE;
	if (os_wake_name(wname, s, 0) != SHMRING_OK)
		return SHMRING_EACCES;
	h = OpenEventW(READ_CONTROL, FALSE, wname);
	if (h) {
		ok = GetKernelObjectSecurity(h, DACL_SECURITY_INFORMATION, &buf,
		                             sizeof buf, &need) &&
		     GetSecurityDescriptorDacl(&buf, &present, &acl,
		                               &defaulted);
		CloseHandle(h);
	}
	if (!ok || !present || !acl || acl->AclSize > sizeof s->wsd.dacl)
		return SHMRING_EACCES;
	memcpy(&s->wsd.dacl, acl, acl->AclSize);
	if (os_sd_finish(&s->wsd) != SHMRING_OK)
		return SHMRING_EACCES;
	s->wsd_state = OS_SD_READY;
	return SHMRING_OK;
}

/*
 * The event of wake object @id, or NULL if it cannot be had now. 0 and 1
 * were opened with the segment; 2.. are created or opened on this handle's
 * first use (whichever of the sleeper and the waker comes first creates
 * it) and kept until os_seg_close, so the event lives while either holds
 * it and a signal sent before the sleeper opens it is not lost. A failure
 * is not remembered: the next call tries again.
 */
static HANDLE os_wake_get(struct os_seg *s, unsigned id)
{
	wchar_t wname[OS_NAME_MAX];

	if (id >= OS_WAKE_IDS)
		return NULL;
	if (s->wake[id] || id < 2)
		return s->wake[id];
	if (os_wake_name(wname, s, id) != SHMRING_OK)
		return NULL;
	if (os_wake_sd(s) == SHMRING_OK)
		/* Create or open (an existing one keeps its DACL). */
		s->wake[id] = CreateEventExW(&s->wsd.sa, wname, 0, OS_WAKE_USE);
	else
		s->wake[id] = OpenEventW(OS_WAKE_USE, FALSE, wname);
	return s->wake[id];
}

int os_wait(struct os_seg *s, unsigned id, _Atomic uint32_t *word,
            uint64_t peer, int timeout_ms)
{
	HANDLE h[2] = {NULL, os_peer_proc(s, peer)};
	DWORD ms = (DWORD)timeout_ms;
	DWORD w;

	/* Sleep only while the word is 0, as FUTEX_WAIT does on Linux. A 1
	 * is a signal sent since the caller's S1 (its SetEvent may still be
	 * on the way) or one a dead sleeper consumed without resetting the
	 * word; either way return now and let the caller re-check. Waiting
	 * instead could sleep through a waker that saw the 1 and skipped its
	 * SetEvent. Relaxed: the caller's fenced re-check orders. */
	if (atomic_load_explicit(word, memory_order_relaxed) != 0) {
		atomic_store_explicit(word, 0, memory_order_relaxed);
		return SHMRING_OK;
	}
	/* Once the peer's handle fired, ring.c's next liveness probe (rate
	 * limited) reports the death: until then wake up often instead of
	 * spinning on a handle that stays signalled. */
	if (s->peer_ended && ms > OS_DEAD_POLL_MS)
		ms = OS_DEAD_POLL_MS;
	h[0] = os_wake_get(s, id);
	if (h[0])
		w = WaitForMultipleObjects(h[1] ? 2 : 1, h, FALSE, ms);
	else if (h[1]) /* no event: sleep the timeout out, or the peer's */
		w = WaitForSingleObject(h[1], ms) == WAIT_OBJECT_0
		            ? WAIT_OBJECT_0 + 1
		            : WAIT_TIMEOUT;
	else {
		Sleep(ms);
		w = WAIT_TIMEOUT;
	}
	if (w == WAIT_OBJECT_0 + 1)
		s->peer_ended = 1;
	/* Consume the hint (the event itself is auto-reset). Relaxed: the
	 * caller re-checks the indices after its fence, which is what
	 * orders; a signal sent after this store calls SetEvent again. */
	atomic_store_explicit(word, 0, memory_order_relaxed);
	return w == WAIT_TIMEOUT ? SHMRING_ETIMEDOUT : SHMRING_OK;
}

int os_signal(struct os_seg *s, unsigned id, _Atomic uint32_t *word)
{
	HANDLE ev;

	/* A signal already pending needs no second SetEvent: the sleeper has
	 * not consumed it yet, so its next wait returns at once. Release:
	 * keeps the index store the caller made before the signal. */
	if (atomic_exchange_explicit(word, 1, memory_order_release) != 0)
		return 0;
	/* No event: the word stays set, so a sleeper that has not slept yet
	 * returns at once, and one asleep wakes at the end of its slice. */
	ev = os_wake_get(s, id);
	if (!ev)
		return 0;
	SetEvent(ev);
	return 1;
}

/*
 * No heavy barrier: FlushProcessWriteBuffers reaches only the threads of
 * the calling process, and the waker is another process. Both sides of the
 * wake check therefore use full fences (ring.c, FENCE_W/FENCE_S).
 */
int os_barrier_init(void)
{
	return 0;
}

int os_barrier_heavy(void)
{
	return SHMRING_ESYS; /* never called: os_barrier_init() said 0 */
}

/* ---- clocks ------------------------------------------------------------- */

_Atomic uint32_t os_fork_gen; /* no fork on Windows: always 0 */

int os_cpu_self(void)
{
	return (int)GetCurrentProcessorNumber();
}

uint64_t os_now_ns(void)
{
	LARGE_INTEGER c, f;
	uint64_t q, r;

	QueryPerformanceCounter(&c);
	QueryPerformanceFrequency(&f); /* fixed at boot; a user-mode read */
	q = (uint64_t)c.QuadPart / (uint64_t)f.QuadPart;
	r = (uint64_t)c.QuadPart % (uint64_t)f.QuadPart;
	return q * 1000000000u + r * 1000000000u / (uint64_t)f.QuadPart;
}

uint64_t os_realtime_ns(void)
{
	FILETIME ft;
	uint64_t t;

	GetSystemTimePreciseAsFileTime(&ft);
	t = (uint64_t)ft.dwHighDateTime << 32 | ft.dwLowDateTime;
	return t > OS_FILETIME_UNIX ? (t - OS_FILETIME_UNIX) * 100u : 0;
}
