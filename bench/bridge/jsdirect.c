/* SPDX-License-Identifier: MIT */
/*
 * jsdirect.c -- srb-jsdirect, the baseline of scripts/bench-bridge.sh: a
 * producer publishing straight to JetStream with nats.c, as an
 * application would without the bridge (js_PublishAsync, at most
 * --max-pending in flight, every ack awaited).
 *
 *   srb-jsdirect --server URL --subject SUBJ --count N --size BYTES
 *                [--max-pending N] [--msg-id]
 *
 * --msg-id gives each message a Nats-Msg-Id as the bridge does. Prints
 *   jsdirect: msgs=N size=S msg_id=0|1 seconds=T msgs_per_s=M mb_per_s=B
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <nats/nats.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int fail(const char *what, natsStatus s)
{
	fprintf(stderr, "srb-jsdirect: %s: %s\n", what, natsStatus_GetText(s));
	return 1;
}

int main(int argc, char **argv)
{
	const char *server = "nats://127.0.0.1:4222", *subject = NULL;
	long count = 0, size = 64, maxpend = 1024;
	int msg_id = 0;
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	jsOptions jo;
	jsPubOptions po;
	natsStatus s;
	char *buf, id[64];
	double t0, t1;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
		if (!strcmp(a, "--msg-id")) {
			msg_id = 1;
			continue;
		}
		i++;
		if (!strcmp(a, "--server"))
			server = v;
		else if (!strcmp(a, "--subject"))
			subject = v;
		else if (!strcmp(a, "--count"))
			count = atol(v);
		else if (!strcmp(a, "--size"))
			size = atol(v);
		else if (!strcmp(a, "--max-pending"))
			maxpend = atol(v);
		else
			return fprintf(stderr, "srb-jsdirect: %s?\n", a), 2;
	}
	if (!subject || count <= 0 || size < 0 || maxpend <= 0)
		return fprintf(stderr, "usage: see bench/bridge/jsdirect.c\n"),
		       2;
	buf = calloc(1, (size_t)size + 1);
	if (!buf)
		return 1;
	s = natsConnection_ConnectTo(&nc, server);
	if (s != NATS_OK)
		return fail(server, s);
	jsOptions_Init(&jo);
	jo.PublishAsync.MaxPending = maxpend;
	jo.PublishAsync.StallWait = 10000;
	s = natsConnection_JetStream(&js, nc, &jo);
	if (s != NATS_OK)
		return fail("JetStream", s);
	jsPubOptions_Init(&po);
	t0 = now();
	for (long n = 0; n < count && s == NATS_OK; n++) {
		memcpy(buf, &n, size < 8 ? (size_t)size : 8);
		if (msg_id) {
			snprintf(id, sizeof id, "direct:%.0f:%ld", t0 * 1e9, n);
			po.MsgId = id;
		}
		s = js_PublishAsync(js, subject, buf, (int)size,
		                    msg_id ? &po : NULL);
	}
	if (s != NATS_OK)
		return fail("publish", s);
	jsPubOptions_Init(&po);
	po.MaxWait = 60000;
	s = js_PublishAsyncComplete(js, &po);
	if (s != NATS_OK)
		return fail("waiting for the acks", s);
	t1 = now();
	printf("jsdirect: msgs=%ld size=%ld msg_id=%d seconds=%.3f "
	       "msgs_per_s=%.0f mb_per_s=%.2f\n",
	       count, size, msg_id, t1 - t0, (double)count / (t1 - t0),
	       (double)count * (double)size / (t1 - t0) / 1e6);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	nats_Close();
	free(buf);
	return 0;
}
