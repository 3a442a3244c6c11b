/* SPDX-License-Identifier: MIT */
/*
 * main.c -- shmring-bridge: carry a ring to another host over NATS
 * JetStream. "out" drains a ring into a stream, "in" fills a ring from a
 * durable consumer of it. The manual is docs/bridge.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"

static const char usage[] =
        "Usage: shmring-bridge out RING --subject SUBJ [OPTION]...\n"
        "       shmring-bridge in --subject SUBJ --durable NAME RING "
        "[OPTION]...\n"
        "Carry a shmring ring over NATS JetStream: 'out' publishes a "
        "ring's\nmessages to a stream, 'in' writes a stream's messages "
        "into a ring.\n'shmring-bridge out --help' lists the options.\n";

int main(int argc, char **argv)
{
	struct br_opts o;
	int out, rc;

	if (argc < 2 || (strcmp(argv[1], "out") && strcmp(argv[1], "in"))) {
		if (argc >= 2 &&
		    (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
			fputs(usage, stdout);
			return BR_OK;
		}
		fputs(usage, stderr);
		return BR_EUSAGE;
	}
	out = !strcmp(argv[1], "out");
	br_signals_block();
	rc = br_parse(argc - 1, argv + 1, out, &o);
	if (rc == 0)
		rc = out ? br_out(&o) : br_in(&o);
	else if (rc < 0)
		rc = BR_OK;
	free(o.subjects);
	return rc;
}
