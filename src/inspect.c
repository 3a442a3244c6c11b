/* SPDX-License-Identifier: MIT */
/*
 * inspect.c -- a read-only look at rings by name, for monitors and the
 * shmring command: shmring_inspect() and shmring_list(). It never attaches
 * and never writes: the segment is mapped read-only and judged by
 * segment.c like any hostile input, each shared value read once.
 */
#include <string.h>

#include "os.h"
#include "ring_int.h"

/* A role record as a monitor sees it: its state judged now. */
static enum shmring_role_state sr_role_judge(const _Atomic uint64_t *o,
                                             const _Atomic uint32_t *state,
                                             uint32_t *pid)
{
	/* Relaxed, read once each: values to show, not to act on. */
	uint64_t owner = atomic_load_explicit(o, memory_order_relaxed);
	uint32_t st = atomic_load_explicit(state, memory_order_relaxed);

	*pid = (uint32_t)owner; /* bits 0-31 of a token (format.md) */
	if (st == SR_ROLE_NONE)
		return SHMRING_ROLE_NONE;
	if (st == SR_ROLE_CLOSED)
		return SHMRING_ROLE_CLOSED;
	if (st != SR_ROLE_ATTACHED)
		return SHMRING_ROLE_CORRUPT;
	return owner != 0 && os_proc_alive(owner) ? SHMRING_ROLE_ATTACHED
	                                          : SHMRING_ROLE_DEAD;
}

/* The producers of an MPSC ring as one role (shmring.h says how), and
 * how many live. */
static uint32_t sr_mp_info(const struct sr_seg *s, shmring_role_info *out)
{
	uint32_t live = 0, pid, p_live = 0, p_dead = 0;
	int dead = 0, closed = 0, corrupt = 0;

	for (unsigned k = 0; k < SR_MP_MAX; k++) {
		switch (sr_role_judge(&s->mp.prod[k].owner,
		                      &s->mp.prod[k].state, &pid)) {
		case SHMRING_ROLE_ATTACHED:
			if (!live++)
				p_live = pid;
			break;
		case SHMRING_ROLE_DEAD:
			if (!dead++)
				p_dead = pid;
			break;
		case SHMRING_ROLE_CLOSED:
			closed = 1;
			break;
		case SHMRING_ROLE_CORRUPT:
			corrupt = 1;
			break;
		default:
			break;
		}
	}
	out->pid = live ? p_live : dead ? p_dead : 0;
	out->state = live      ? SHMRING_ROLE_ATTACHED
	             : dead    ? SHMRING_ROLE_DEAD
	             : corrupt ? SHMRING_ROLE_CORRUPT
	             : closed  ? SHMRING_ROLE_CLOSED
	                       : SHMRING_ROLE_NONE;
	return live;
}

/* Side @i's counters and, for the SPSC roles, its role record. */
static void sr_role_info(const struct sr_seg *s, unsigned i,
                         shmring_role_info *out)
{
	const struct sr_counters *c = &s->ctr[i];

	out->state =
	        sr_role_judge(&s->role[i].owner, &s->role[i].state, &out->pid);
	out->counters = (shmring_counters){
	        .messages =
	                atomic_load_explicit(&c->msgs, memory_order_relaxed),
	        .bytes = atomic_load_explicit(&c->bytes, memory_order_relaxed),
	        .blocked =
	                atomic_load_explicit(&c->blocked, memory_order_relaxed),
	        .sleeps =
	                atomic_load_explicit(&c->sleeps, memory_order_relaxed),
	        .wakes = atomic_load_explicit(&c->wakes, memory_order_relaxed),
	        .timeouts = atomic_load_explicit(&c->timeouts,
	                                         memory_order_relaxed),
	        .badfmt =
	                atomic_load_explicit(&c->badfmt, memory_order_relaxed),
	        .abandoned = atomic_load_explicit(&c->abandoned,
	                                          memory_order_relaxed),
	        .last_ns =
	                atomic_load_explicit(&c->last_ns, memory_order_relaxed),
	};
}

/* Map ring @name read-only and validate it into @g: *@os to close (also
 * when the ring is invalid) and *@s its header, unless it fails to map. */
static int sr_look(const char *name, struct os_seg **os,
                   const struct sr_seg **s, struct sr_geom *g)
{
	int rc = os_seg_open_ro(name, os);

	if (rc != SHMRING_OK)
		return rc;
	*s = os_seg_base(*os);
	rc = sr_seg_check(*s, os_seg_size(*os), os_seg_granule(), g);
	if (rc != SHMRING_OK) {
		os_seg_close(*os);
		*os = NULL;
	}
	return rc;
}

int shmring_inspect(const char *name, shmring_info *out)
{
	struct os_seg *os;
	const struct sr_seg *s;
	struct sr_geom g;
	int rc;

	if (!sr_name_ok(name) || !out)
		return SHMRING_EINVAL;
	rc = sr_look(name, &os, &s, &g);
	if (rc == SHMRING_OK) {
		memset(out, 0, sizeof *out);
		/* The geometry as validated, from the private copy. */
		out->version = SR_FORMAT_VERSION;
		out->slot_size = g.slot_size;
		out->slot_stride = g.stride;
		out->slot_count = g.slot_count;
		out->flags = g.flags;
		out->max_msg = g.max_msg;
		out->seg_size = g.seg_size;
		/* A plain read, once: the creator wrote it before its release
		 * of magic, which sr_seg_check() acquired; a peer rewriting it
		 * since changes only what is shown. The indices: relaxed, read
		 * once each, checked before a fill level is derived. */
		out->created_ns = s->hdr.created_ns;
		out->head = atomic_load_explicit(&s->head.value,
		                                 memory_order_relaxed);
		out->tail = atomic_load_explicit(&s->tail.value,
		                                 memory_order_relaxed);
		/* A fill level only for indices a handle would accept. */
		out->used_slots = out->head - out->tail <= g.slot_count
		                          ? out->head - out->tail
		                          : UINT64_MAX;
		sr_role_info(s, SR_SIDE_PROD, &out->producer);
		sr_role_info(s, SR_SIDE_CONS, &out->consumer);
		if (g.flags & SHMRING_F_MPSC)
			out->producers = sr_mp_info(s, &out->producer);
		else
			out->producers =
			        out->producer.state == SHMRING_ROLE_ATTACHED;
		/* MPSC: head lags the claims; the fill level is still head -
		 * tail when head is ahead, else none in flight. */
		if ((g.flags & SHMRING_F_MPSC) &&
		    out->used_slots == UINT64_MAX &&
		    out->tail - out->head <= g.slot_count)
			out->used_slots = 0;
		os_seg_close(os);
	}
	return rc;
}

int shmring_inspect_producers(const char *name, shmring_producer_info *out,
                              size_t cap, size_t *count)
{
	shmring_producer_info row;
	struct os_seg *os;
	const struct sr_seg *s;
	struct sr_geom g;
	uint64_t bits;
	size_t n = 0;
	int rc;

	if (!sr_name_ok(name) || !count || (!out && cap))
		return SHMRING_EINVAL;
	*count = 0;
	rc = sr_look(name, &os, &s, &g);
	if (rc != SHMRING_OK)
		return rc;
	if (g.flags & SHMRING_F_MPSC) {
		/* Relaxed, once: a value to show. */
		bits = atomic_load_explicit(&s->mp.sleepers,
		                            memory_order_relaxed);
		for (uint32_t k = 0; k < SR_MP_MAX; k++) {
			row.entry = k;
			row.state =
			        sr_role_judge(&s->mp.prod[k].owner,
			                      &s->mp.prod[k].state, &row.pid);
			row.sleeping = (uint32_t)(bits >> k & 1u);
			if (row.state == SHMRING_ROLE_NONE)
				continue;
			if (n < cap)
				out[n] = row;
			n++;
		}
	} else {
		row.entry = 0;
		row.state =
		        sr_role_judge(&s->role[SR_SIDE_PROD].owner,
		                      &s->role[SR_SIDE_PROD].state, &row.pid);
		row.sleeping =
		        atomic_load_explicit(&s->wake[SR_SIDE_PROD].sleeping,
		                             memory_order_relaxed) != 0;
		if (row.state != SHMRING_ROLE_NONE) {
			if (cap)
				out[0] = row;
			n = 1;
		}
	}
	*count = n;
	os_seg_close(os);
	return rc;
}

struct sr_list_ctx {
	int (*fn)(const char *name, void *arg);
	void *arg;
};

/* Pass on only the names a ring can have. */
static int sr_list_one(const char *name, void *arg)
{
	const struct sr_list_ctx *c = arg;

	return sr_name_ok(name) ? c->fn(name, c->arg) : 0;
}

int shmring_list(int (*fn)(const char *name, void *arg), void *arg)
{
	struct sr_list_ctx c = {fn, arg};

	if (!fn)
		return SHMRING_EINVAL;
	return os_seg_list(sr_list_one, &c);
}
