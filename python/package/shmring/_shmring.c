/* SPDX-License-Identifier: MIT */
/*
 * _shmring.c -- the C half of the Python package `shmring` (the exceptions
 * and Channel are Python, in __init__.py; docs/python.md is the manual).
 *
 * Fast path: every data call first tries the library call with
 * SHMRING_NOWAIT while holding the GIL; that never blocks, so a stream
 * that does not wait costs one C call and no GIL traffic. Only when the
 * ring is full (producer) or empty (consumer) does it wait, and then in
 * slices of at most SR_PY_SLICE_MS with the GIL released, calling
 * PyErr_CheckSignals() between slices: SHMRING_EINTR and a slice's
 * timeout both mean "run the signal handlers, then go on until the
 * caller's own deadline", so a Ctrl-C is seen within one slice even when
 * the signal arrived while the library was spinning.
 *
 * Safety: a handle is used by one call at a time (`busy`, checked under
 * the GIL: a second thread gets RuntimeError instead of racing in C); a
 * closed handle, or one inherited by a forked child, raises a clear error
 * before any C call; the memoryview of a peek or claim is an export of a
 * Peek/Claim object that refuses new exports once the block is left, and
 * the message is released (or the claim committed) only when no buffer
 * points into it any more, so no view can ever read or write a slot the
 * ring has reused; close() refuses while such a buffer is alive.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <shmring.h>

#ifdef _WIN32
#include <windows.h>
#else
#include <pthread.h>
#include <time.h>
#include <unistd.h>
#endif

#ifndef EOWNERDEAD
#define EOWNERDEAD EPIPE
#endif
#ifndef EBADMSG
#define EBADMSG EINVAL
#endif
#ifndef EMSGSIZE
#define EMSGSIZE E2BIG
#endif
#ifndef ETIMEDOUT
#define ETIMEDOUT EAGAIN
#endif

#define SR_PY_SLICE_MS 50    /* longest wait between two signal checks */
#define SR_PY_PYERR    -1000 /* a Python exception is set */
#define SR_PY_CLOSING  -1001 /* close() from another thread while waiting */
#define SR_NCODES      15    /* SHMRING_OK .. -SHMRING_EINTR */
#define SR_STACK_MSGS  64    /* send_many: messages without a heap array */

/* ---- process, clock ---------------------------------------------------- */

/* Bumped in the child of every fork(): a handle opened under another value
 * belongs to an ancestor. Written only in the child's single thread. */
static volatile unsigned long sr_fork_gen;

#ifndef _WIN32
static void sr_on_fork_child(void)
{
	sr_fork_gen++;
}
#endif

static unsigned long sr_pid(void)
{
#ifdef _WIN32
	return (unsigned long)GetCurrentProcessId();
#else
	return (unsigned long)getpid();
#endif
}

static uint64_t sr_mono_ns(void)
{
#ifdef _WIN32
	static LARGE_INTEGER freq;
	LARGE_INTEGER c;

	if (!freq.QuadPart)
		QueryPerformanceFrequency(&freq);
	QueryPerformanceCounter(&c);
	return (uint64_t)((double)c.QuadPart * 1e9 / (double)freq.QuadPart);
#else
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
#endif
}

static void sr_sleep_ms(int ms)
{
#ifdef _WIN32
	Sleep((DWORD)ms);
#else
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
#endif
}

/* ---- errors ------------------------------------------------------------ */

/* shmring.Error and its subclasses, by -code; set by __init__.py through
 * _set_errors(). Until then OSError is raised. */
static PyObject *sr_err_cls[SR_NCODES];

static const int sr_err_posix[SR_NCODES] = {
        0,         EINVAL, EAGAIN,  ETIMEDOUT, EMSGSIZE,
        EPIPE,     EOWNERDEAD,      EEXIST,    ENOENT,
        EACCES,    EBUSY,  EBADMSG, ENOMEM,    EIO,
        EINTR,
};

/* Raise the exception of @code: cls(errno, library message, name), with
 * .detail set from @fmt when given. Returns NULL. */
static PyObject *sr_raise(int code, PyObject *name, const char *fmt, ...)
{
	int idx = code < 0 && code > -SR_NCODES ? -code : 0;
	PyObject *cls = sr_err_cls[idx] ? sr_err_cls[idx]
	                : sr_err_cls[0] ? sr_err_cls[0]
	                                : PyExc_OSError;
	PyObject *exc, *detail;
	va_list ap;

	exc = PyObject_CallFunction(cls, "isO", sr_err_posix[idx],
	                            shmring_strerror(code),
	                            name ? name : Py_None);
	if (!exc)
		return NULL;
	if (idx == 0) {
		PyObject *c = PyLong_FromLong(code);

		if (!c || PyObject_SetAttrString(exc, "code", c) < 0) {
			Py_XDECREF(c);
			Py_DECREF(exc);
			return NULL;
		}
		Py_DECREF(c);
	}
	if (fmt) {
		va_start(ap, fmt);
		detail = PyUnicode_FromFormatV(fmt, ap);
		va_end(ap);
		if (!detail || PyObject_SetAttrString(exc, "detail", detail) < 0) {
			Py_XDECREF(detail);
			Py_DECREF(exc);
			return NULL;
		}
		Py_DECREF(detail);
	}
	PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
	Py_DECREF(exc);
	return NULL;
}

/* Set an integer attribute on the exception being raised. */
static void sr_exc_attr(const char *attr, size_t v)
{
	PyObject *type, *value, *tb, *n;

	PyErr_Fetch(&type, &value, &tb);
	PyErr_NormalizeException(&type, &value, &tb);
	n = PyLong_FromSize_t(v);
	if (value && n)
		(void)PyObject_SetAttrString(value, attr, n);
	Py_XDECREF(n);
	if (PyErr_Occurred())
		PyErr_Clear();
	PyErr_Restore(type, value, tb);
}

/* ---- arguments --------------------------------------------------------- */

/* Bind fast-call arguments to the parameters @names (NULL-terminated): the
 * first @npos may be positional, the first @nreq are required. */
static int sr_bind(const char *fn, PyObject *const *args, Py_ssize_t nargs,
                   PyObject *kwnames, const char *const *names, int npos,
                   int nreq, PyObject **out)
{
	int n = 0, j;

	while (names[n])
		out[n++] = NULL;
	if (nargs > npos) {
		PyErr_Format(PyExc_TypeError,
		             "%s() takes at most %d positional argument%s (%zd "
		             "given)",
		             fn, npos, npos == 1 ? "" : "s", nargs);
		return -1;
	}
	for (j = 0; j < nargs; j++)
		out[j] = args[j];
	if (kwnames) {
		Py_ssize_t nk = PyTuple_GET_SIZE(kwnames);

		for (Py_ssize_t k = 0; k < nk; k++) {
			PyObject *key = PyTuple_GET_ITEM(kwnames, k);

			for (j = 0; j < n; j++)
				if (PyUnicode_CompareWithASCIIString(key, names[j]) ==
				    0)
					break;
			if (j == n) {
				PyErr_Format(PyExc_TypeError,
				             "%s() got an unexpected keyword "
				             "argument '%U'",
				             fn, key);
				return -1;
			}
			if (out[j]) {
				PyErr_Format(PyExc_TypeError,
				             "%s() got multiple values for "
				             "argument '%s'",
				             fn, names[j]);
				return -1;
			}
			out[j] = args[nargs + k];
		}
	}
	for (j = 0; j < nreq; j++)
		if (!out[j]) {
			PyErr_Format(PyExc_TypeError,
			             "%s() missing required argument '%s'", fn,
			             names[j]);
			return -1;
		}
	return 0;
}

enum { SR_T_FOREVER, SR_T_NOWAIT, SR_T_FINITE };

typedef struct {
	int kind;
	uint64_t ns;
} sr_tmo;

/* None: forever; 0: never block; else seconds (int or float, >= 0). */
static int sr_timeout(const char *fn, PyObject *o, sr_tmo *t)
{
	double d;

	t->kind = SR_T_FOREVER;
	t->ns = 0;
	if (!o || o == Py_None)
		return 0;
	if (!PyFloat_Check(o) && !PyLong_Check(o) &&
	    !PyObject_HasAttrString(o, "__float__") &&
	    !PyObject_HasAttrString(o, "__index__")) {
		PyErr_Format(PyExc_TypeError,
		             "%s(): timeout must be a number of seconds or None, "
		             "not %.200s",
		             fn, Py_TYPE(o)->tp_name);
		return -1;
	}
	d = PyFloat_AsDouble(o);
	if (d == -1.0 && PyErr_Occurred())
		return -1;
	if (isnan(d) || d < 0) {
		PyErr_Format(PyExc_ValueError,
		             "%s(): timeout must be >= 0 seconds or None", fn);
		return -1;
	}
	if (d == 0)
		t->kind = SR_T_NOWAIT;
	else if (d < 1e9) { /* longer than 31 years is forever */
		t->kind = SR_T_FINITE;
		t->ns = (uint64_t)(d * 1e9);
		if (t->ns == 0)
			t->ns = 1;
	}
	return 0;
}

/* A Python int in [lo, hi], as TypeError / ValueError want it. */
static int sr_int(const char *fn, const char *what, PyObject *o,
                  long long lo, long long hi, long long *out)
{
	long long v;
	int overflow = 0;

	if (!PyLong_Check(o) && !PyIndex_Check(o)) {
		PyErr_Format(PyExc_TypeError, "%s(): %s must be an int, not %.200s",
		             fn, what, Py_TYPE(o)->tp_name);
		return -1;
	}
	v = PyLong_AsLongLongAndOverflow(o, &overflow);
	if (v == -1 && PyErr_Occurred())
		return -1;
	if (overflow || v < lo || v > hi) {
		PyErr_Format(PyExc_ValueError, "%s(): %s must be in %lld..%lld",
		             fn, what, lo, hi);
		return -1;
	}
	*out = v;
	return 0;
}

/* Ring names: 1..200 of [A-Za-z0-9._-], not starting with '.'. */
static const char *sr_name(const char *fn, PyObject *o)
{
	const char *s;
	Py_ssize_t n;

	if (!PyUnicode_Check(o)) {
		PyErr_Format(PyExc_TypeError, "%s(): name must be a str, not %.200s",
		             fn, Py_TYPE(o)->tp_name);
		return NULL;
	}
	s = PyUnicode_AsUTF8AndSize(o, &n);
	if (!s)
		return NULL;
	if (n < 1 || n > SHMRING_MAX_NAME || s[0] == '.')
		goto bad;
	for (Py_ssize_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
			goto bad;
	}
	return s;
bad:
	PyErr_Format(PyExc_ValueError,
	             "%s(): bad ring name %R: 1..%d characters of "
	             "[A-Za-z0-9._-], not starting with '.'",
	             fn, o, SHMRING_MAX_NAME);
	return NULL;
}

static int sr_role(const char *fn, PyObject *o, enum shmring_role *role)
{
	if (!PyUnicode_Check(o)) {
		PyErr_Format(PyExc_TypeError,
		             "%s(): role must be 'producer' or 'consumer', not "
		             "%.200s",
		             fn, Py_TYPE(o)->tp_name);
		return -1;
	}
	if (PyUnicode_CompareWithASCIIString(o, "producer") == 0)
		*role = SHMRING_PRODUCER;
	else if (PyUnicode_CompareWithASCIIString(o, "consumer") == 0)
		*role = SHMRING_CONSUMER;
	else {
		PyErr_Format(PyExc_ValueError,
		             "%s(): role must be 'producer' or 'consumer', not %R",
		             fn, o);
		return -1;
	}
	return 0;
}

/* ---- the Ring type ----------------------------------------------------- */

struct ZObject;

typedef struct {
	PyObject_HEAD
	shmring *r;          /* NULL once closed */
	PyObject *name;      /* str */
	enum shmring_role role;
	size_t max_msg;
	unsigned long fork_gen;
	unsigned long pid;   /* the process that opened it */
	int busy;            /* a call is running (maybe without the GIL) */
	unsigned long busy_thread;
	int closing;         /* close() from another thread is waiting */
	int close_deferred;  /* close() from within a call (signal handler) */
	struct ZObject *zview; /* open or pending peek/claim (borrowed) */
	PyObject *weakrefs;
} RingObject;

static PyTypeObject Ring_Type;

static const char *sr_role_str(enum shmring_role role)
{
	return role == SHMRING_PRODUCER ? "producer" : "consumer";
}

static void sr_do_close(RingObject *self)
{
	if (self->r) {
		shmring_close(self->r);
		self->r = NULL;
	}
}

static void sr_zview_finish(struct ZObject *z);

/* Checks before any C call on the handle; marks it busy. */
static int sr_enter(RingObject *self, enum shmring_role role, const char *fn)
{
	if (!self->r) {
		sr_raise(SHMRING_EINVAL, self->name, "%s() on a closed Ring", fn);
		return -1;
	}
	if (self->fork_gen != sr_fork_gen) {
		sr_raise(SHMRING_EINVAL, self->name,
		         "%s(): this Ring was opened by process %lu; a forked "
		         "child (process %lu) cannot use it: open the ring again "
		         "in the child",
		         fn, self->pid, sr_pid());
		return -1;
	}
	if (role && self->role != role) {
		sr_raise(SHMRING_EINVAL, self->name,
		         "%s() needs a %s Ring; this one is a %s", fn,
		         sr_role_str(role), sr_role_str(self->role));
		return -1;
	}
	if (self->busy) {
		PyErr_Format(PyExc_RuntimeError,
		             "%s(): the Ring is in use by another call (a Ring "
		             "is used by one thread at a time)",
		             fn);
		return -1;
	}
	if (self->zview)
		sr_zview_finish(self->zview); /* pending, no buffer left */
	if (self->zview) {
		sr_raise(SHMRING_EINVAL, self->name,
		         "%s(): a %s() of this Ring is still open (leave its with "
		         "block, and drop memoryviews sliced from it)",
		         fn, self->role == SHMRING_PRODUCER ? "claim" : "peek");
		return -1;
	}
	self->busy = 1;
	self->busy_thread = PyThread_get_thread_ident();
	return 0;
}

static void sr_leave(RingObject *self)
{
	self->busy = 0;
	if (self->close_deferred && !self->zview) {
		self->close_deferred = 0;
		sr_do_close(self);
	}
}

/* Wait in GIL-free slices for @op, which was just tried with NOWAIT and
 * got SHMRING_EAGAIN. Returns a shmring code, SR_PY_PYERR (a signal
 * handler raised) or SR_PY_CLOSING. */
typedef int (*sr_op)(void *ctx, int timeout_ms);

static int sr_wait(RingObject *self, const sr_tmo *t, sr_op op, void *ctx)
{
	uint64_t end = t->kind == SR_T_FINITE ? sr_mono_ns() + t->ns : 0;
	int rc, ms;

	for (;;) {
		ms = SR_PY_SLICE_MS;
		if (t->kind == SR_T_FINITE) {
			uint64_t now = sr_mono_ns(), left;

			if (now >= end)
				return SHMRING_ETIMEDOUT;
			left = (end - now + 999999u) / 1000000u;
			if (left < (uint64_t)ms)
				ms = (int)left;
		}
		Py_BEGIN_ALLOW_THREADS
		rc = op(ctx, ms);
		Py_END_ALLOW_THREADS
		if (rc != SHMRING_ETIMEDOUT && rc != SHMRING_EINTR &&
		    rc != SHMRING_EAGAIN)
			return rc;
		if (PyErr_CheckSignals() < 0)
			return SR_PY_PYERR;
		if (self->closing)
			return SR_PY_CLOSING;
	}
}

/* Raise for a failed data call. */
static PyObject *sr_fail(RingObject *self, int rc, const char *fn)
{
	switch (rc) {
	case SR_PY_PYERR:
		return NULL;
	case SR_PY_CLOSING:
		return sr_raise(SHMRING_EINVAL, self->name,
		                "%s(): the Ring was closed by another thread", fn);
	case SHMRING_EINVAL:
		return sr_raise(rc, self->name, "%s(): wrong state for the call",
		                fn);
	default:
		return sr_raise(rc, self->name, "%s()", fn);
	}
}

struct op_send {
	shmring *r;
	const void *p;
	size_t n;
};
static int op_send(void *c_, int ms)
{
	struct op_send *c = c_;
	return shmring_send(c->r, c->p, c->n, ms);
}

struct op_sendv {
	shmring *r;
	const shmring_msg *m;
	size_t n, off;
};
static int op_sendv(void *c_, int ms)
{
	struct op_sendv *c = c_;
	size_t sent = 0;
	int rc = shmring_sendv(c->r, c->m + c->off, c->n - c->off, &sent, ms);

	c->off += sent;
	return rc;
}

struct op_peek {
	shmring *r;
	const void *p;
	size_t n;
};
static int op_peek(void *c_, int ms)
{
	struct op_peek *c = c_;
	return shmring_peek(c->r, &c->p, &c->n, ms);
}

struct op_peekv {
	shmring *r;
	shmring_msg *m;
	size_t n, got;
};
static int op_peekv(void *c_, int ms)
{
	struct op_peekv *c = c_;
	return shmring_peekv(c->r, c->m, c->n, &c->got, ms);
}

struct op_claim {
	shmring *r;
	size_t n;
	void *p;
};
static int op_claim(void *c_, int ms)
{
	struct op_claim *c = c_;
	return shmring_claim(c->r, c->n, &c->p, ms);
}

static const char *const sr_kw_timeout[] = {"timeout", NULL};
static const char *const sr_kw_data[] = {"data", "timeout", NULL};

static PyObject *Ring_send(RingObject *self, PyObject *const *args,
                           Py_ssize_t nargs, PyObject *kwnames)
{
	PyObject *a[2];
	sr_tmo t = {SR_T_FOREVER, 0};
	Py_buffer view;
	struct op_send c;
	int have_view = 0, rc;

	if (nargs == 1 && !kwnames)
		a[0] = args[0];
	else if (sr_bind("send", args, nargs, kwnames, sr_kw_data, 2, 1, a) <
	                 0 ||
	         sr_timeout("send", a[1], &t) < 0)
		return NULL;
	if (sr_enter(self, SHMRING_PRODUCER, "send") < 0)
		return NULL;
	c.r = self->r;
	/* bytes, and a bytearray while we hold the GIL (nobody can resize
	 * it meanwhile), are read in place; anything else is exported */
	if (PyBytes_CheckExact(a[0])) {
		c.p = PyBytes_AS_STRING(a[0]);
		c.n = (size_t)PyBytes_GET_SIZE(a[0]);
	} else if (PyByteArray_CheckExact(a[0])) {
		c.p = PyByteArray_AS_STRING(a[0]);
		c.n = (size_t)PyByteArray_GET_SIZE(a[0]);
	} else {
		if (PyObject_GetBuffer(a[0], &view, PyBUF_SIMPLE) < 0) {
			sr_leave(self);
			return NULL;
		}
		have_view = 1;
		c.p = view.buf;
		c.n = (size_t)view.len;
	}
	rc = shmring_send(c.r, c.p, c.n, 0);
	if (rc == SHMRING_EAGAIN && t.kind != SR_T_NOWAIT) {
		if (!have_view && PyByteArray_CheckExact(a[0])) {
			/* waiting without the GIL: pin it (no resize meanwhile) */
			if (PyObject_GetBuffer(a[0], &view, PyBUF_SIMPLE) < 0) {
				sr_leave(self);
				return NULL;
			}
			have_view = 1;
			c.p = view.buf;
			c.n = (size_t)view.len;
		}
		rc = sr_wait(self, &t, op_send, &c);
	}
	if (have_view)
		PyBuffer_Release(&view);
	sr_leave(self);
	if (rc == SHMRING_OK)
		Py_RETURN_NONE;
	if (rc == SHMRING_EMSGSIZE)
		return sr_raise(rc, self->name,
		                "send(): a message of %zu bytes, max_msg is %zu",
		                c.n, self->max_msg);
	return sr_fail(self, rc, "send");
}

/* recv() and __next__: peek, copy into a new bytes, release. @eos: 1 to
 * return NULL with no exception at end of stream (the iterator). */
static PyObject *sr_recv(RingObject *self, const sr_tmo *t, int eos)
{
	struct op_peek c;
	PyObject *res = NULL;
	int rc;

	if (sr_enter(self, SHMRING_CONSUMER, "recv") < 0)
		return NULL;
	c.r = self->r;
	rc = shmring_peek(c.r, &c.p, &c.n, 0);
	if (rc == SHMRING_EAGAIN && t->kind != SR_T_NOWAIT)
		rc = sr_wait(self, t, op_peek, &c);
	if (rc == SHMRING_OK) {
		res = PyBytes_FromStringAndSize(c.p, (Py_ssize_t)c.n);
		if (res) /* else it stays in the ring */
			shmring_release(c.r);
	}
	sr_leave(self);
	if (rc == SHMRING_OK)
		return res;
	if (eos && rc == SHMRING_ECLOSED)
		return NULL;
	return sr_fail(self, rc, "recv");
}

static PyObject *Ring_recv(RingObject *self, PyObject *const *args,
                           Py_ssize_t nargs, PyObject *kwnames)
{
	PyObject *a[1];
	sr_tmo t = {SR_T_FOREVER, 0};

	if ((nargs || kwnames) &&
	    (sr_bind("recv", args, nargs, kwnames, sr_kw_timeout, 1, 0, a) < 0 ||
	     sr_timeout("recv", a[0], &t) < 0))
		return NULL;
	return sr_recv(self, &t, 0);
}

static PyObject *Ring_iternext(RingObject *self)
{
	sr_tmo t = {SR_T_FOREVER, 0};

	return sr_recv(self, &t, 1);
}

static PyObject *Ring_iter(RingObject *self)
{
	if (self->role != SHMRING_CONSUMER) {
		PyErr_SetString(PyExc_TypeError,
		                "a producer Ring is not iterable (iterate the "
		                "consumer)");
		return NULL;
	}
	Py_INCREF(self);
	return (PyObject *)self;
}

static const char *const sr_kw_into[] = {"buffer", "timeout", NULL};

static PyObject *Ring_recv_into(RingObject *self, PyObject *const *args,
                                Py_ssize_t nargs, PyObject *kwnames)
{
	PyObject *a[2];
	sr_tmo t;
	Py_buffer view;
	struct op_peek c;
	int rc;

	if (sr_bind("recv_into", args, nargs, kwnames, sr_kw_into, 2, 1, a) <
	            0 ||
	    sr_timeout("recv_into", a[1], &t) < 0)
		return NULL;
	if (PyObject_GetBuffer(a[0], &view, PyBUF_WRITABLE) < 0) {
		PyErr_Format(PyExc_TypeError,
		             "recv_into(): buffer must be a writable bytes-like "
		             "object, not %.200s",
		             Py_TYPE(a[0])->tp_name);
		return NULL;
	}
	if (sr_enter(self, SHMRING_CONSUMER, "recv_into") < 0) {
		PyBuffer_Release(&view);
		return NULL;
	}
	c.r = self->r;
	rc = shmring_peek(c.r, &c.p, &c.n, 0);
	if (rc == SHMRING_EAGAIN && t.kind != SR_T_NOWAIT)
		rc = sr_wait(self, &t, op_peek, &c);
	if (rc == SHMRING_OK && c.n > (size_t)view.len) {
		rc = SHMRING_EMSGSIZE; /* stays in the ring */
	} else if (rc == SHMRING_OK) {
		memcpy(view.buf, c.p, c.n);
		shmring_release(c.r);
	}
	sr_leave(self);
	if (rc == SHMRING_OK) {
		PyBuffer_Release(&view);
		return PyLong_FromSize_t(c.n);
	}
	if (rc == SHMRING_EMSGSIZE) {
		sr_raise(rc, self->name,
		         "recv_into(): the next message has %zu bytes, the buffer "
		         "%zd",
		         c.n, view.len);
		sr_exc_attr("needed", c.n);
		PyBuffer_Release(&view);
		return NULL;
	}
	PyBuffer_Release(&view);
	return sr_fail(self, rc, "recv_into");
}

static const char *const sr_kw_many[] = {"messages", "timeout", NULL};

static PyObject *Ring_send_many(RingObject *self, PyObject *const *args,
                                Py_ssize_t nargs, PyObject *kwnames)
{
	PyObject *a[2], *seq, **items, *pinned = NULL, *res = NULL;
	sr_tmo t;
	shmring_msg stack_msgs[SR_STACK_MSGS], *msgs = stack_msgs;
	Py_buffer *views = NULL;
	Py_ssize_t n, nviews = 0, i;
	struct op_sendv c = {0};
	size_t biggest = 0;
	int rc;

	if (sr_bind("send_many", args, nargs, kwnames, sr_kw_many, 2, 1, a) <
	            0 ||
	    sr_timeout("send_many", a[1], &t) < 0)
		return NULL;
	if (PyBytes_Check(a[0]) || PyByteArray_Check(a[0]) ||
	    PyUnicode_Check(a[0]) || PyMemoryView_Check(a[0])) {
		PyErr_SetString(PyExc_TypeError,
		                "send_many() takes an iterable of messages, not "
		                "one message");
		return NULL;
	}
	seq = PySequence_Fast(a[0], "send_many() argument must be an iterable "
	                            "of bytes-like objects");
	if (!seq)
		return NULL;
	n = PySequence_Fast_GET_SIZE(seq);
	items = PySequence_Fast_ITEMS(seq);
	if (n > SR_STACK_MSGS) {
		msgs = PyMem_Malloc((size_t)n * sizeof *msgs);
		if (!msgs) {
			PyErr_NoMemory();
			goto out;
		}
	}
	/* bytes are read in place (the sequence holds them); anything else
	 * through the buffer protocol, which also pins it. */
	for (i = 0; i < n; i++)
		if (!PyBytes_CheckExact(items[i]))
			nviews++;
	if (nviews) {
		views = PyMem_Calloc((size_t)nviews, sizeof *views);
		if (!views) {
			PyErr_NoMemory();
			goto out;
		}
	}
	nviews = 0;
	for (i = 0; i < n; i++) {
		PyObject *o = items[i];

		if (PyBytes_CheckExact(o)) {
			msgs[i].data = PyBytes_AS_STRING(o);
			msgs[i].len = (size_t)PyBytes_GET_SIZE(o);
		} else {
			if (PyObject_GetBuffer(o, &views[nviews], PyBUF_SIMPLE) <
			    0)
				goto out;
			msgs[i].data = views[nviews].buf;
			msgs[i].len = (size_t)views[nviews].len;
			nviews++;
		}
		if (msgs[i].len > biggest)
			biggest = msgs[i].len;
	}
	if (sr_enter(self, SHMRING_PRODUCER, "send_many") < 0)
		goto out;
	c.r = self->r;
	c.m = msgs;
	c.n = (size_t)n;
	rc = op_sendv(&c, 0);
	if (rc == SHMRING_EAGAIN && t.kind != SR_T_NOWAIT) {
		/* a list may change while we wait without the GIL */
		if (PyList_CheckExact(seq))
			pinned = PyList_AsTuple(seq);
		if (PyList_CheckExact(seq) && !pinned)
			rc = SR_PY_PYERR;
		else
			rc = sr_wait(self, &t, op_sendv, &c);
	}
	sr_leave(self);
	if (rc == SHMRING_OK ||
	    ((rc == SHMRING_EAGAIN || rc == SHMRING_ETIMEDOUT) && c.off > 0)) {
		res = PyLong_FromSize_t(c.off);
	} else {
		if (rc == SHMRING_EMSGSIZE)
			sr_raise(rc, self->name,
			         "send_many(): a message of %zu bytes, max_msg is "
			         "%zu",
			         biggest, self->max_msg);
		else
			sr_fail(self, rc, "send_many");
		if (rc != SR_PY_PYERR)
			sr_exc_attr("sent", c.off);
	}
out:
	for (i = 0; i < nviews; i++)
		PyBuffer_Release(&views[i]);
	PyMem_Free(views);
	if (msgs != stack_msgs)
		PyMem_Free(msgs);
	Py_XDECREF(pinned);
	Py_DECREF(seq);
	return res;
}

static const char *const sr_kw_rmany[] = {"max_count", "timeout", NULL};

static PyObject *Ring_recv_many(RingObject *self, PyObject *const *args,
                                Py_ssize_t nargs, PyObject *kwnames)
{
	PyObject *a[2], *list = NULL;
	sr_tmo t;
	long long max;
	shmring_msg msgs[SHMRING_BATCH_MAX];
	struct op_peekv c;
	size_t total = 0;
	int rc;

	if (sr_bind("recv_many", args, nargs, kwnames, sr_kw_rmany, 2, 1, a) <
	            0 ||
	    sr_int("recv_many", "max_count", a[0], 1, PY_SSIZE_T_MAX, &max) <
	            0 ||
	    sr_timeout("recv_many", a[1], &t) < 0)
		return NULL;
	if (sr_enter(self, SHMRING_CONSUMER, "recv_many") < 0)
		return NULL;
	c.r = self->r;
	c.m = msgs;
	c.n = (size_t)max < SHMRING_BATCH_MAX ? (size_t)max : SHMRING_BATCH_MAX;
	c.got = 0;
	rc = op_peekv(&c, 0);
	if (rc == SHMRING_EAGAIN && t.kind != SR_T_NOWAIT)
		rc = sr_wait(self, &t, op_peekv, &c);
	/* The first batch waits; later ones (max_count > BATCH_MAX) take only
	 * what is already there. A bytes that cannot be made leaves its
	 * batch peeked, so the next call returns it again: nothing is lost. */
	while (rc == SHMRING_OK && c.got > 0) {
		Py_ssize_t base = list ? PyList_GET_SIZE(list) : 0;
		size_t i;

		if (!list && !(list = PyList_New((Py_ssize_t)c.got)))
			break;
		for (i = 0; i < c.got; i++) {
			PyObject *b = PyBytes_FromStringAndSize(
			        msgs[i].data, (Py_ssize_t)msgs[i].len);

			if (!b)
				break;
			if (base == 0 && total == 0) {
				PyList_SET_ITEM(list, (Py_ssize_t)i, b);
			} else {
				int e = PyList_Append(list, b);

				Py_DECREF(b);
				if (e < 0)
					break;
			}
		}
		if (i < c.got) {
			if (total == 0) {
				Py_CLEAR(list); /* MemoryError stands */
				rc = SR_PY_PYERR;
			} else { /* return what we have, keep this batch */
				PyErr_Clear();
				(void)PyList_SetSlice(list, base,
				                      PyList_GET_SIZE(list), NULL);
			}
			break;
		}
		shmring_releasev(c.r, c.got);
		total += c.got;
		if (c.got < c.n || total >= (size_t)max)
			break;
		c.n = (size_t)max - total < SHMRING_BATCH_MAX ? (size_t)max - total
		                                               : SHMRING_BATCH_MAX;
		if (op_peekv(&c, 0) != SHMRING_OK) /* reported next call */
			break;
	}
	sr_leave(self);
	if (rc != SHMRING_OK)
		return sr_fail(self, rc, "recv_many");
	return list;
}

/* ---- Peek and Claim: the zero-copy context managers --------------------- */

enum { Z_PEEK, Z_CLAIM };
enum { Z_NEW, Z_OPEN, Z_PENDING, Z_DONE };
enum { Z_RELEASE, Z_COMMIT, Z_DISCARD, Z_KEEP };

typedef struct ZObject {
	PyObject_HEAD
	RingObject *ring;
	PyObject *mv;       /* the memoryview handed out by __enter__ */
	void *ptr;
	size_t len;         /* message length (peek) or claimed size */
	size_t commit_len;
	Py_ssize_t exports; /* buffers pointing into the ring */
	sr_tmo t;
	int kind, state, action;
} ZObject;

static PyTypeObject Peek_Type, Claim_Type;
static char sr_empty[1];
static PyObject *sr_str_release; /* "release", interned */

static const char *sr_zname(const ZObject *z)
{
	return z->kind == Z_PEEK ? "peek" : "claim";
}

/* Carry out the pending (or default) action on the handle: the message is
 * no longer reachable from Python. */
static void sr_zview_act(ZObject *z)
{
	RingObject *ring = z->ring;
	int ours = ring->r && ring->fork_gen == sr_fork_gen;

	if (ours) {
		switch (z->action) {
		case Z_RELEASE:
			shmring_release(ring->r);
			break;
		case Z_COMMIT:
			shmring_commit(ring->r, z->commit_len);
			break;
		case Z_DISCARD:
			shmring_commitv(ring->r, NULL, 0);
			break;
		default: /* Z_KEEP: an abandoned peek stays for the next call */
			break;
		}
	}
	z->state = Z_DONE;
	z->ptr = NULL;
	if (ring->zview == z)
		ring->zview = NULL;
	if (ring->close_deferred && !ring->busy) {
		ring->close_deferred = 0;
		sr_do_close(ring);
	}
}

static void sr_zview_finish(ZObject *z)
{
	if (z->state == Z_PENDING && z->exports == 0)
		sr_zview_act(z);
}

static PyObject *Z_enter(ZObject *z, PyObject *unused)
{
	RingObject *ring = z->ring;
	int rc;

	(void)unused;
	if (z->state != Z_NEW) {
		PyErr_Format(PyExc_RuntimeError,
		             "a %s() context can be entered once: call %s() again",
		             sr_zname(z), sr_zname(z));
		return NULL;
	}
	if (sr_enter(ring,
	             z->kind == Z_PEEK ? SHMRING_CONSUMER : SHMRING_PRODUCER,
	             sr_zname(z)) < 0)
		return NULL;
	if (z->kind == Z_PEEK) {
		struct op_peek c = {ring->r, NULL, 0};

		rc = op_peek(&c, 0);
		if (rc == SHMRING_EAGAIN && z->t.kind != SR_T_NOWAIT)
			rc = sr_wait(ring, &z->t, op_peek, &c);
		z->ptr = (void *)(uintptr_t)c.p;
		z->len = c.n;
	} else {
		struct op_claim c = {ring->r, z->len, NULL};

		rc = op_claim(&c, 0);
		if (rc == SHMRING_EAGAIN && z->t.kind != SR_T_NOWAIT)
			rc = sr_wait(ring, &z->t, op_claim, &c);
		z->ptr = c.p;
	}
	if (rc != SHMRING_OK) {
		sr_leave(ring);
		z->state = Z_DONE;
		if (rc == SHMRING_EMSGSIZE)
			return sr_raise(rc, ring->name,
			                "claim(): %zu bytes, max_msg is %zu", z->len,
			                ring->max_msg);
		return sr_fail(ring, rc, sr_zname(z));
	}
	if (!z->ptr)
		z->ptr = sr_empty;
	z->state = Z_OPEN;
	ring->zview = z;
	z->mv = PyMemoryView_FromObject((PyObject *)z);
	if (!z->mv) {
		z->action = z->kind == Z_PEEK ? Z_KEEP : Z_DISCARD;
		sr_zview_act(z);
		sr_leave(ring);
		return NULL;
	}
	sr_leave(ring);
	Py_INCREF(z->mv);
	return z->mv;
}

/* Give up our memoryview; act now if no buffer points into the ring any
 * more, else when the last one goes (BufferError now). */
static int sr_zview_settle(ZObject *z, int action, size_t commit_len)
{
	z->action = action;
	z->commit_len = commit_len;
	z->state = Z_PENDING;
	if (z->mv && Py_REFCNT(z->mv) > 1) { /* the caller holds it too */
		PyObject *r = PyObject_CallMethodObjArgs(z->mv, sr_str_release,
		                                         NULL);

		if (!r) {
			if (!PyErr_ExceptionMatches(PyExc_BufferError))
				return -1;
			PyErr_Clear(); /* exported further: act when it goes */
		}
		Py_XDECREF(r);
	}
	Py_CLEAR(z->mv); /* ours was the last: its dealloc releases it */
	if (z->state == Z_PENDING && z->exports == 0 && !z->ring->busy)
		sr_zview_act(z);
	if (z->state == Z_PENDING) {
		PyErr_Format(PyExc_BufferError,
		             "%zd buffer(s) made from the memoryview of this %s() "
		             "(slices, memoryview(), numpy arrays...) are still "
		             "alive: the %s happens when they are gone, and until "
		             "then the Ring refuses other calls",
		             z->exports, sr_zname(z),
		             z->kind == Z_PEEK        ? "release"
		             : action == Z_COMMIT ? "commit"
		                                  : "discard");
		return -1;
	}
	return 0;
}

static PyObject *Z_exit(ZObject *z, PyObject *const *args, Py_ssize_t nargs)
{
	int failed = nargs > 0 && args[0] != Py_None;
	int action;

	if (z->state != Z_OPEN) /* committed or discarded inside the block */
		Py_RETURN_FALSE;
	action = z->kind == Z_PEEK ? Z_RELEASE : failed ? Z_DISCARD : Z_COMMIT;
	if (sr_zview_settle(z, action, z->len) < 0)
		return NULL;
	Py_RETURN_FALSE;
}

static const char *const sr_kw_commit[] = {"nbytes", NULL};

static PyObject *Claim_commit(ZObject *z, PyObject *const *args,
                              Py_ssize_t nargs, PyObject *kwnames)
{
	PyObject *a[1];
	long long n;

	if (sr_bind("commit", args, nargs, kwnames, sr_kw_commit, 1, 0, a) < 0)
		return NULL;
	if (z->state != Z_OPEN)
		return sr_raise(SHMRING_EINVAL, z->ring->name,
		                "commit(): no claim open (use it inside the with "
		                "block, once)");
	n = (long long)z->len;
	if (a[0] && a[0] != Py_None &&
	    sr_int("commit", "nbytes", a[0], 0, (long long)z->len, &n) < 0)
		return NULL;
	if (sr_zview_settle(z, Z_COMMIT, (size_t)n) < 0)
		return NULL;
	Py_RETURN_NONE;
}

static PyObject *Claim_discard(ZObject *z, PyObject *unused)
{
	(void)unused;
	if (z->state != Z_OPEN)
		return sr_raise(SHMRING_EINVAL, z->ring->name,
		                "discard(): no claim open");
	if (sr_zview_settle(z, Z_DISCARD, 0) < 0)
		return NULL;
	Py_RETURN_NONE;
}

static int Z_getbuffer(ZObject *z, Py_buffer *view, int flags)
{
	if (z->state != Z_OPEN) {
		PyErr_Format(PyExc_BufferError,
		             "the %s() is over: its bytes are no longer available",
		             sr_zname(z));
		view->obj = NULL;
		return -1;
	}
	if (PyBuffer_FillInfo(view, (PyObject *)z, z->ptr, (Py_ssize_t)z->len,
	                      z->kind == Z_PEEK, flags) < 0)
		return -1;
	z->exports++;
	return 0;
}

static void Z_releasebuffer(ZObject *z, Py_buffer *view)
{
	(void)view;
	z->exports--;
	if (z->exports == 0 && z->state == Z_PENDING && !z->ring->busy)
		sr_zview_act(z);
}

static int Z_traverse(ZObject *z, visitproc visit, void *arg)
{
	Py_VISIT(z->mv);
	return 0;
}

static int Z_clear(ZObject *z)
{
	Py_CLEAR(z->mv);
	return 0;
}

static void Z_dealloc(ZObject *z)
{
	PyObject_GC_UnTrack(z);
	Py_CLEAR(z->mv);
	if (z->state == Z_OPEN || z->state == Z_PENDING) {
		if (z->state == Z_OPEN) /* left without __exit__ */
			z->action = z->kind == Z_PEEK ? Z_KEEP : Z_DISCARD;
		if (z->ring->busy) { /* cannot touch the handle now */
			if (z->ring->zview == z)
				z->ring->zview = NULL;
		} else
			sr_zview_act(z);
	}
	Py_XDECREF(z->ring);
	PyObject_GC_Del(z);
}

static PyObject *Z_repr(ZObject *z)
{
	static const char *const st[] = {"not entered", "open", "pending",
	                                 "done"};

	return PyUnicode_FromFormat("<shmring.%s of %R, %zu bytes, %s>",
	                            z->kind == Z_PEEK ? "Peek" : "Claim",
	                            z->ring->name, z->len, st[z->state]);
}

static ZObject *sr_znew(RingObject *ring, int kind, const sr_tmo *t,
                        size_t len)
{
	ZObject *z = PyObject_GC_New(ZObject, kind == Z_PEEK ? &Peek_Type
	                                                     : &Claim_Type);

	if (!z)
		return NULL;
	Py_INCREF(ring);
	z->ring = ring;
	z->mv = NULL;
	z->ptr = NULL;
	z->len = len;
	z->commit_len = 0;
	z->exports = 0;
	z->t = *t;
	z->kind = kind;
	z->state = Z_NEW;
	z->action = Z_KEEP;
	PyObject_GC_Track(z);
	return z;
}

static PyObject *Ring_peek(RingObject *self, PyObject *const *args,
                           Py_ssize_t nargs, PyObject *kwnames)
{
	PyObject *a[1];
	sr_tmo t = {SR_T_FOREVER, 0};

	if ((nargs || kwnames) &&
	    (sr_bind("peek", args, nargs, kwnames, sr_kw_timeout, 1, 0, a) < 0 ||
	     sr_timeout("peek", a[0], &t) < 0))
		return NULL;
	return (PyObject *)sr_znew(self, Z_PEEK, &t, 0);
}

static const char *const sr_kw_claim[] = {"size", "timeout", NULL};

static PyObject *Ring_claim(RingObject *self, PyObject *const *args,
                            Py_ssize_t nargs, PyObject *kwnames)
{
	PyObject *a[2];
	sr_tmo t;
	long long n;

	if (sr_bind("claim", args, nargs, kwnames, sr_kw_claim, 2, 1, a) < 0 ||
	    sr_int("claim", "size", a[0], 0, PY_SSIZE_T_MAX, &n) < 0 ||
	    sr_timeout("claim", a[1], &t) < 0)
		return NULL;
	return (PyObject *)sr_znew(self, Z_CLAIM, &t, (size_t)n);
}

static PyBufferProcs Z_as_buffer = {
        (getbufferproc)Z_getbuffer,
        (releasebufferproc)Z_releasebuffer,
};

static PyMethodDef Peek_methods[] = {
        {"__enter__", (PyCFunction)Z_enter, METH_NOARGS,
         "Wait for the oldest message; return a read-only memoryview of it "
         "in place."},
        {"__exit__", (PyCFunction)(void (*)(void))Z_exit, METH_FASTCALL,
         "Release the view and the message."},
        {NULL, NULL, 0, NULL},
};

static PyMethodDef Claim_methods[] = {
        {"__enter__", (PyCFunction)Z_enter, METH_NOARGS,
         "Wait for room; return a writable memoryview of `size` bytes in "
         "the ring."},
        {"__exit__", (PyCFunction)(void (*)(void))Z_exit, METH_FASTCALL,
         "Commit the whole claim, or discard it if the block raised."},
        {"commit", (PyCFunction)(void (*)(void))Claim_commit,
         METH_FASTCALL | METH_KEYWORDS,
         "commit(nbytes=None): publish the first nbytes (default: all) now "
         "and end the claim."},
        {"discard", (PyCFunction)Claim_discard, METH_NOARGS,
         "Give the claimed room back; nothing is published."},
        {NULL, NULL, 0, NULL},
};

static PyTypeObject Peek_Type = {
        PyVarObject_HEAD_INIT(NULL, 0).tp_name = "shmring.Peek",
        .tp_basicsize = sizeof(ZObject),
        .tp_dealloc = (destructor)Z_dealloc,
        .tp_repr = (reprfunc)Z_repr,
        .tp_as_buffer = &Z_as_buffer,
        .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
        .tp_doc = "with ring.peek(timeout) as view: the oldest message in "
                  "place, as a read-only memoryview; released on exit.",
        .tp_traverse = (traverseproc)Z_traverse,
        .tp_clear = (inquiry)Z_clear,
        .tp_methods = Peek_methods,
};

static PyTypeObject Claim_Type = {
        PyVarObject_HEAD_INIT(NULL, 0).tp_name = "shmring.Claim",
        .tp_basicsize = sizeof(ZObject),
        .tp_dealloc = (destructor)Z_dealloc,
        .tp_repr = (reprfunc)Z_repr,
        .tp_as_buffer = &Z_as_buffer,
        .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
        .tp_doc = "with ring.claim(size, timeout) as view: write a message "
                  "in place; committed on exit (discarded if the block "
                  "raised).",
        .tp_traverse = (traverseproc)Z_traverse,
        .tp_clear = (inquiry)Z_clear,
        .tp_methods = Claim_methods,
};

/* ---- Ring: the rest ---------------------------------------------------- */

static PyTypeObject *Stats_Type;

static PyStructSequence_Field sr_stats_fields[] = {
        {"messages", "messages sent (producer) or received (consumer) by "
                     "this handle"},
        {"waits", "times it slept on its wake object (one system call "
                  "each)"},
        {"wakes", "times it woke the sleeping peer (one system call each)"},
        {"abandoned", "consumer of an F_MPSC ring: claims of dead producers "
                      "skipped (0 elsewhere)"},
        {NULL, NULL},
};

static PyStructSequence_Desc sr_stats_desc = {
        "shmring.Stats", "The private counters of one Ring handle.",
        sr_stats_fields, 4};

static PyObject *Ring_stats(RingObject *self, PyObject *unused)
{
	shmring_stats st;
	PyObject *res;

	(void)unused;
	if (!self->r)
		return sr_raise(SHMRING_EINVAL, self->name,
		                "stats() on a closed Ring");
	if (self->fork_gen != sr_fork_gen)
		return sr_raise(SHMRING_EINVAL, self->name,
		                "stats(): this Ring was opened by process %lu; a "
		                "forked child (process %lu) cannot use it: open the "
		                "ring again in the child",
		                self->pid, sr_pid());
	if (shmring_get_stats(self->r, &st) != SHMRING_OK)
		return sr_raise(SHMRING_EINVAL, self->name, "stats()");
	res = PyStructSequence_New(Stats_Type);
	if (!res)
		return NULL;
	PyStructSequence_SET_ITEM(res, 0, PyLong_FromUnsignedLongLong(st.messages));
	PyStructSequence_SET_ITEM(res, 1, PyLong_FromUnsignedLongLong(st.waits));
	PyStructSequence_SET_ITEM(res, 2, PyLong_FromUnsignedLongLong(st.wakes));
	PyStructSequence_SET_ITEM(res, 3,
	                          PyLong_FromUnsignedLongLong(st.abandoned));
	if (PyErr_Occurred()) {
		Py_DECREF(res);
		return NULL;
	}
	return res;
}

static PyObject *Ring_set_spin(RingObject *self, PyObject *arg)
{
	long long ns;

	if (sr_int("set_spin", "spin_ns", arg, 0, UINT32_MAX, &ns) < 0 ||
	    sr_enter(self, 0, "set_spin") < 0)
		return NULL;
	shmring_set_spin(self->r, (uint32_t)ns);
	sr_leave(self);
	Py_RETURN_NONE;
}

static PyObject *Ring_close(RingObject *self, PyObject *unused)
{
	int child;

	(void)unused;
	if (!self->r)
		Py_RETURN_NONE;
	child = self->fork_gen != sr_fork_gen;
	if (self->zview) {
		sr_zview_finish(self->zview);
		if (self->zview) {
			PyErr_Format(PyExc_BufferError,
			             "cannot close a Ring while a memoryview of its "
			             "%s() is alive: leave the with block (and drop "
			             "views sliced from it) first",
			             self->role == SHMRING_PRODUCER ? "claim"
			                                            : "peek");
			return NULL;
		}
	}
	if (self->busy && !child) {
		if (self->busy_thread == PyThread_get_thread_ident()) {
			/* from a signal handler or finalizer inside a call on
			 * this Ring: that call closes it when it returns */
			self->close_deferred = 1;
			Py_RETURN_NONE;
		}
		self->closing = 1;
		while (self->busy) {
			Py_BEGIN_ALLOW_THREADS
			sr_sleep_ms(1);
			Py_END_ALLOW_THREADS
		}
		self->closing = 0;
		if (self->zview) { /* cannot happen: the waiter raised */
			PyErr_SetString(PyExc_BufferError,
			                "cannot close: a view is open");
			return NULL;
		}
	}
	sr_do_close(self);
	Py_RETURN_NONE;
}

static PyObject *Ring_enter(RingObject *self, PyObject *unused)
{
	(void)unused;
	if (!self->r)
		return sr_raise(SHMRING_EINVAL, self->name,
		                "with: the Ring is closed");
	Py_INCREF(self);
	return (PyObject *)self;
}

static PyObject *Ring_exit(RingObject *self, PyObject *const *args,
                           Py_ssize_t nargs)
{
	PyObject *r;

	(void)args;
	(void)nargs;
	r = Ring_close(self, NULL);
	if (!r)
		return NULL;
	Py_DECREF(r);
	Py_RETURN_FALSE;
}

static PyObject *Ring_reduce(RingObject *self, PyObject *unused)
{
	(void)unused;
	PyErr_Format(PyExc_TypeError,
	             "a Ring cannot be pickled or sent to another process: pass "
	             "its name (%R) and open it there",
	             self->name);
	return NULL;
}

static PyObject *Ring_get_name(RingObject *self, void *c)
{
	(void)c;
	Py_INCREF(self->name);
	return self->name;
}

static PyObject *Ring_get_role(RingObject *self, void *c)
{
	(void)c;
	return PyUnicode_FromString(sr_role_str(self->role));
}

static PyObject *Ring_get_max_msg(RingObject *self, void *c)
{
	(void)c;
	return PyLong_FromSize_t(self->max_msg);
}

static PyObject *Ring_get_closed(RingObject *self, void *c)
{
	(void)c;
	return PyBool_FromLong(self->r == NULL);
}

static PyObject *Ring_get_pid(RingObject *self, void *c)
{
	(void)c;
	return PyLong_FromUnsignedLong(self->pid);
}

static PyObject *Ring_repr(RingObject *self)
{
	return PyUnicode_FromFormat("<shmring.Ring %R %s max_msg=%zu%s>",
	                            self->name, sr_role_str(self->role),
	                            self->max_msg, self->r ? "" : " closed");
}

static void Ring_dealloc(RingObject *self)
{
	if (self->weakrefs)
		PyObject_ClearWeakRefs((PyObject *)self);
	if (self->r) /* in a forked child this only unmaps */
		shmring_close(self->r);
	Py_XDECREF(self->name);
	Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *sr_ring_new(shmring *r, PyObject *name,
                             enum shmring_role role)
{
	RingObject *self = PyObject_New(RingObject, &Ring_Type);

	if (!self) {
		shmring_close(r);
		return NULL;
	}
	self->r = r;
	Py_INCREF(name);
	self->name = name;
	self->role = role;
	self->max_msg = shmring_max_msg(r);
	self->fork_gen = sr_fork_gen;
	self->pid = sr_pid();
	self->busy = 0;
	self->busy_thread = 0;
	self->closing = 0;
	self->close_deferred = 0;
	self->zview = NULL;
	self->weakrefs = NULL;
	return (PyObject *)self;
}

static PyMethodDef Ring_methods[] = {
        {"send", (PyCFunction)(void (*)(void))Ring_send,
         METH_FASTCALL | METH_KEYWORDS,
         "send(data, timeout=None): copy one bytes-like message into the "
         "ring."},
        {"recv", (PyCFunction)(void (*)(void))Ring_recv,
         METH_FASTCALL | METH_KEYWORDS,
         "recv(timeout=None) -> bytes: take the oldest message."},
        {"recv_into", (PyCFunction)(void (*)(void))Ring_recv_into,
         METH_FASTCALL | METH_KEYWORDS,
         "recv_into(buffer, timeout=None) -> int: copy the oldest message "
         "into a writable buffer; return its length."},
        {"send_many", (PyCFunction)(void (*)(void))Ring_send_many,
         METH_FASTCALL | METH_KEYWORDS,
         "send_many(messages, timeout=None) -> int: send an iterable of "
         "messages in order, published in runs."},
        {"recv_many", (PyCFunction)(void (*)(void))Ring_recv_many,
         METH_FASTCALL | METH_KEYWORDS,
         "recv_many(max_count, timeout=None) -> list[bytes]: wait for one "
         "message, then take up to max_count already there."},
        {"peek", (PyCFunction)(void (*)(void))Ring_peek,
         METH_FASTCALL | METH_KEYWORDS,
         "peek(timeout=None) -> Peek: `with ring.peek() as view:` reads the "
         "oldest message in place."},
        {"claim", (PyCFunction)(void (*)(void))Ring_claim,
         METH_FASTCALL | METH_KEYWORDS,
         "claim(size, timeout=None) -> Claim: `with ring.claim(n) as view:` "
         "writes a message in place."},
        {"stats", (PyCFunction)Ring_stats, METH_NOARGS,
         "stats() -> Stats(messages, waits, wakes): this handle's counters."},
        {"set_spin", (PyCFunction)Ring_set_spin, METH_O,
         "set_spin(spin_ns): how long a wait spins before it sleeps."},
        {"close", (PyCFunction)Ring_close, METH_NOARGS,
         "close(): detach (a producer's close is end of stream). "
         "Idempotent."},
        {"__enter__", (PyCFunction)Ring_enter, METH_NOARGS, NULL},
        {"__exit__", (PyCFunction)(void (*)(void))Ring_exit, METH_FASTCALL,
         NULL},
        {"__reduce__", (PyCFunction)Ring_reduce, METH_NOARGS, NULL},
        {NULL, NULL, 0, NULL},
};

static PyGetSetDef Ring_getset[] = {
        {"name", (getter)Ring_get_name, NULL, "the ring's name", NULL},
        {"role", (getter)Ring_get_role, NULL, "'producer' or 'consumer'",
         NULL},
        {"max_msg", (getter)Ring_get_max_msg, NULL,
         "the largest message the ring takes, in bytes", NULL},
        {"closed", (getter)Ring_get_closed, NULL, "True after close()", NULL},
        {"pid", (getter)Ring_get_pid, NULL,
         "the process that opened this handle", NULL},
        {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject Ring_Type = {
        PyVarObject_HEAD_INIT(NULL, 0).tp_name = "shmring.Ring",
        .tp_basicsize = sizeof(RingObject),
        .tp_dealloc = (destructor)Ring_dealloc,
        .tp_repr = (reprfunc)Ring_repr,
        .tp_flags = Py_TPFLAGS_DEFAULT,
        .tp_doc = "One side of a shmring: made by shmring.create() or "
                  "shmring.open().",
        .tp_weaklistoffset = offsetof(RingObject, weakrefs),
        .tp_iter = (getiterfunc)Ring_iter,
        .tp_iternext = (iternextfunc)Ring_iternext,
        .tp_methods = Ring_methods,
        .tp_getset = Ring_getset,
};

/* ---- module functions -------------------------------------------------- */

static const char *const sr_kw_create[] = {
        "name", "role", "slot_size", "slot_count", "max_msg", "perm",
        "flags", NULL};

static PyObject *sr_create(PyObject *mod, PyObject *const *args,
                           Py_ssize_t nargs, PyObject *kwnames)
{
	PyObject *a[7];
	const char *name;
	enum shmring_role role;
	long long v[5] = {0, 0, 0, 0600, 0};
	static const char *const what[5] = {"slot_size", "slot_count",
	                                    "max_msg", "perm", "flags"};
	static const long long hi[5] = {UINT32_MAX, UINT32_MAX, UINT32_MAX,
	                                0777, UINT32_MAX};
	shmring_config cfg;
	shmring *r = NULL;
	int rc;

	(void)mod;
	if (sr_bind("create", args, nargs, kwnames, sr_kw_create, 2, 2, a) < 0 ||
	    !(name = sr_name("create", a[0])) || sr_role("create", a[1], &role) < 0)
		return NULL;
	for (int i = 0; i < 5; i++)
		if (a[i + 2] &&
		    sr_int("create", what[i], a[i + 2], 0, hi[i], &v[i]) < 0)
			return NULL;
	cfg.slot_size = (uint32_t)v[0];
	cfg.slot_count = (uint32_t)v[1];
	cfg.max_msg = (uint32_t)v[2];
	cfg.perm = (uint32_t)v[3];
	cfg.flags = (uint32_t)v[4];
	if (cfg.perm == 0) {
		PyErr_SetString(PyExc_ValueError,
		                "create(): perm 0 would lock everyone out");
		return NULL;
	}
	Py_BEGIN_ALLOW_THREADS
	rc = shmring_create(name, &cfg, role, &r);
	Py_END_ALLOW_THREADS
	if (rc == SHMRING_EINVAL)
		return sr_raise(rc, a[0],
		                "create(): bad geometry or flags: slot_size=%u "
		                "(<= 64 MiB), slot_count=%u (a power of two, "
		                "2..2**24), max_msg=%u (<= the ring), flags=%u "
		                "(none defined)",
		                cfg.slot_size, cfg.slot_count, cfg.max_msg,
		                cfg.flags);
	if (rc != SHMRING_OK)
		return sr_raise(rc, a[0], "create()");
	return sr_ring_new(r, a[0], role);
}

static const char *const sr_kw_open[] = {"name", "role", NULL};

static PyObject *sr_open(PyObject *mod, PyObject *const *args,
                         Py_ssize_t nargs, PyObject *kwnames)
{
	PyObject *a[2];
	const char *name;
	enum shmring_role role;
	shmring *r = NULL;
	int rc;

	(void)mod;
	if (sr_bind("open", args, nargs, kwnames, sr_kw_open, 2, 2, a) < 0 ||
	    !(name = sr_name("open", a[0])) || sr_role("open", a[1], &role) < 0)
		return NULL;
	Py_BEGIN_ALLOW_THREADS
	rc = shmring_open(name, role, &r);
	Py_END_ALLOW_THREADS
	if (rc != SHMRING_OK)
		return sr_raise(rc, a[0], "open()");
	return sr_ring_new(r, a[0], role);
}

static PyObject *sr_unlink(PyObject *mod, PyObject *arg)
{
	const char *name = sr_name("unlink", arg);
	int rc;

	(void)mod;
	if (!name)
		return NULL;
	rc = shmring_unlink(name);
	if (rc != SHMRING_OK)
		return sr_raise(rc, arg, "unlink()");
	Py_RETURN_NONE;
}

static PyObject *sr_strerror(PyObject *mod, PyObject *arg)
{
	long long code;

	(void)mod;
	if (sr_int("strerror", "code", arg, INT32_MIN, INT32_MAX, &code) < 0)
		return NULL;
	return PyUnicode_FromString(shmring_strerror((int)code));
}

/* _set_errors({code: class}): the exception classes of __init__.py. */
static PyObject *sr_set_errors(PyObject *mod, PyObject *d)
{
	PyObject *k, *v;
	Py_ssize_t pos = 0;

	(void)mod;
	if (!PyDict_Check(d)) {
		PyErr_SetString(PyExc_TypeError, "_set_errors() takes a dict");
		return NULL;
	}
	while (PyDict_Next(d, &pos, &k, &v)) {
		long code = PyLong_AsLong(k);

		if (code == -1 && PyErr_Occurred())
			return NULL;
		if (code > 0 || code <= -SR_NCODES || !PyType_Check(v) ||
		    !PyType_IsSubtype((PyTypeObject *)v,
		                      (PyTypeObject *)PyExc_OSError)) {
			PyErr_SetString(PyExc_ValueError,
			                "_set_errors(): {code: OSError subclass}");
			return NULL;
		}
		Py_INCREF(v);
		Py_XSETREF(sr_err_cls[-code], v);
	}
	Py_RETURN_NONE;
}

/* _raise(code): raise what a call failing with @code raises (tests). */
static PyObject *sr_raise_code(PyObject *mod, PyObject *arg)
{
	long long code;

	(void)mod;
	if (sr_int("_raise", "code", arg, INT32_MIN, INT32_MAX, &code) < 0)
		return NULL;
	return sr_raise((int)code, NULL, NULL);
}

/* _noop(*args): an empty C call, the floor of any call from Python. */
static PyObject *sr_noop(PyObject *mod, PyObject *const *args,
                         Py_ssize_t nargs)
{
	(void)mod;
	(void)args;
	(void)nargs;
	Py_RETURN_NONE;
}

/* _c_loop(producer, consumer, count, size) -> ns: count send+recv pairs
 * of size-byte messages on two Rings of one process, in C alone. */
static PyObject *sr_c_loop(PyObject *mod, PyObject *const *args,
                           Py_ssize_t nargs)
{
	RingObject *p, *c;
	long long count, size;
	char *buf;
	size_t len;
	uint64_t t0, t1;
	int rc = SHMRING_OK;

	(void)mod;
	if (nargs != 4 || !PyObject_TypeCheck(args[0], &Ring_Type) ||
	    !PyObject_TypeCheck(args[1], &Ring_Type)) {
		PyErr_SetString(PyExc_TypeError,
		                "_c_loop(producer, consumer, count, size)");
		return NULL;
	}
	p = (RingObject *)args[0];
	c = (RingObject *)args[1];
	if (sr_int("_c_loop", "count", args[2], 0, INT64_MAX, &count) < 0 ||
	    sr_int("_c_loop", "size", args[3], 0, 1 << 26, &size) < 0)
		return NULL;
	if (!p->r || !c->r || p->role != SHMRING_PRODUCER ||
	    c->role != SHMRING_CONSUMER || p->busy || c->busy || p->zview ||
	    c->zview) {
		PyErr_SetString(PyExc_ValueError,
		                "_c_loop(): an open producer and an open consumer");
		return NULL;
	}
	buf = PyMem_Malloc((size_t)size + 1);
	if (!buf)
		return PyErr_NoMemory();
	memset(buf, 0x5a, (size_t)size);
	t0 = sr_mono_ns();
	for (long long i = 0; i < count && rc == SHMRING_OK; i++) {
		rc = shmring_send(p->r, buf, (size_t)size, 0);
		if (rc == SHMRING_OK)
			rc = shmring_recv(c->r, buf, (size_t)size, &len, 0);
	}
	t1 = sr_mono_ns();
	PyMem_Free(buf);
	if (rc != SHMRING_OK)
		return sr_raise(rc, p->name, "_c_loop()");
	return PyLong_FromUnsignedLongLong(t1 - t0);
}

static PyMethodDef sr_functions[] = {
        {"create", (PyCFunction)(void (*)(void))sr_create,
         METH_FASTCALL | METH_KEYWORDS,
         "create(name, role, *, slot_size=0, slot_count=0, max_msg=0, "
         "perm=0o600, flags=0) -> Ring"},
        {"open", (PyCFunction)(void (*)(void))sr_open,
         METH_FASTCALL | METH_KEYWORDS, "open(name, role) -> Ring"},
        {"unlink", (PyCFunction)sr_unlink, METH_O,
         "unlink(name): remove the name; attached handles keep working."},
        {"strerror", (PyCFunction)sr_strerror, METH_O,
         "strerror(code) -> str: the library's text for a code."},
        {"_set_errors", (PyCFunction)sr_set_errors, METH_O, NULL},
        {"_raise", (PyCFunction)sr_raise_code, METH_O, NULL},
        {"_noop", (PyCFunction)(void (*)(void))sr_noop, METH_FASTCALL, NULL},
        {"_c_loop", (PyCFunction)(void (*)(void))sr_c_loop, METH_FASTCALL,
         NULL},
        {NULL, NULL, 0, NULL},
};

static struct PyModuleDef sr_module = {
        PyModuleDef_HEAD_INIT,
        "shmring._shmring",
        "The C half of shmring (use the package `shmring`).",
        -1,
        sr_functions,
        NULL,
        NULL,
        NULL,
        NULL,
};

PyMODINIT_FUNC PyInit__shmring(void);

PyMODINIT_FUNC PyInit__shmring(void)
{
	static const struct {
		const char *name;
		long value;
	} ints[] = {
	        {"OK", SHMRING_OK},
	        {"EINVAL", SHMRING_EINVAL},
	        {"EAGAIN", SHMRING_EAGAIN},
	        {"ETIMEDOUT", SHMRING_ETIMEDOUT},
	        {"EMSGSIZE", SHMRING_EMSGSIZE},
	        {"ECLOSED", SHMRING_ECLOSED},
	        {"EPEERDEAD", SHMRING_EPEERDEAD},
	        {"EEXIST", SHMRING_EEXIST},
	        {"ENOENT", SHMRING_ENOENT},
	        {"EACCES", SHMRING_EACCES},
	        {"EBUSY", SHMRING_EBUSY},
	        {"EBADFMT", SHMRING_EBADFMT},
	        {"ENOMEM", SHMRING_ENOMEM},
	        {"ESYS", SHMRING_ESYS},
	        {"EINTR", SHMRING_EINTR},
	        {"MAX_NAME", SHMRING_MAX_NAME},
	        {"BATCH_MAX", SHMRING_BATCH_MAX},
	        {"F_MPSC", SHMRING_F_MPSC},
	        {"MAX_PRODUCERS", SHMRING_MAX_PRODUCERS},
	        {"RECORD_HEADER", SHMRING_RECORD_HEADER},
	        {"DEFAULT_SLOT_SIZE", SHMRING_DEFAULT_SLOT_SIZE},
	        {"DEFAULT_SLOT_COUNT", SHMRING_DEFAULT_SLOT_COUNT},
	        {"DEFAULT_SPIN_NS", SHMRING_DEFAULT_SPIN_NS},
	        {"MAX_SLOT_SIZE", (long)SHMRING_MAX_SLOT_SIZE},
	        {"MAX_SLOT_COUNT", (long)SHMRING_MAX_SLOT_COUNT},
	        {"MAX_MSG_LIMIT", (long)SHMRING_MAX_MSG_LIMIT},
	        {"_WAIT_SLICE_MS", SR_PY_SLICE_MS},
	};
	PyObject *m;

	sr_str_release = PyUnicode_InternFromString("release");
	if (!sr_str_release)
		return NULL;
	if (PyType_Ready(&Ring_Type) < 0 || PyType_Ready(&Peek_Type) < 0 ||
	    PyType_Ready(&Claim_Type) < 0)
		return NULL;
	Stats_Type = PyStructSequence_NewType(&sr_stats_desc);
	if (!Stats_Type)
		return NULL;
	m = PyModule_Create(&sr_module);
	if (!m)
		return NULL;
	Py_INCREF(&Ring_Type);
	Py_INCREF(&Peek_Type);
	Py_INCREF(&Claim_Type);
	Py_INCREF(Stats_Type);
	if (PyModule_AddObject(m, "Ring", (PyObject *)&Ring_Type) < 0 ||
	    PyModule_AddObject(m, "Peek", (PyObject *)&Peek_Type) < 0 ||
	    PyModule_AddObject(m, "Claim", (PyObject *)&Claim_Type) < 0 ||
	    PyModule_AddObject(m, "Stats", (PyObject *)Stats_Type) < 0 ||
	    PyModule_AddStringConstant(m, "PRODUCER", "producer") < 0 ||
	    PyModule_AddStringConstant(m, "CONSUMER", "consumer") < 0)
		goto fail;
	for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
		if (PyModule_AddIntConstant(m, ints[i].name, ints[i].value) < 0)
			goto fail;
	{
		PyObject *v = PyUnicode_FromFormat("%d.%d.%d",
		                                   SHMRING_VERSION_MAJOR,
		                                   SHMRING_VERSION_MINOR,
		                                   SHMRING_VERSION_PATCH);

		if (!v || PyModule_AddObject(m, "LIB_VERSION", v) < 0) {
			Py_XDECREF(v);
			goto fail;
		}
	}
#ifndef _WIN32
	{
		static int registered;

		if (!registered && pthread_atfork(NULL, NULL, sr_on_fork_child) == 0)
			registered = 1;
	}
#endif
	return m;
fail:
	Py_DECREF(m);
	return NULL;
}
