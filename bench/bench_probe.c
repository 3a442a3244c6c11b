/* SPDX-License-Identifier: MIT */
/*
 * bench_probe.c -- the machine's state over time: the 20 ms cache-line
 * round-trip probe that bench_matrix() runs before every run, repeated
 * every --interval ms, with the load average. For looking at how a shared
 * VM moves between states (the probe's distribution); never a figure.
 *
 *   bench_probe [-c A,B] [-n COUNT] [-i MS]
 * prints "bench=probe t_s=.. probe_ns=.. load1=.." per probe.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench.h"

int main(int argc, char **argv)
{
	int a = 0, b = 1, n = 100, ms = 500, c;
	uint64_t t0 = bench_now_ns();

	while ((c = getopt(argc, argv, "c:n:i:h")) != -1) {
		switch (c) {
		case 'c':
			if (sscanf(optarg, "%d,%d", &a, &b) != 2)
				return 2;
			break;
		case 'n':
			n = atoi(optarg);
			break;
		case 'i':
			ms = atoi(optarg);
			break;
		default:
			fprintf(stderr,
			        "usage: %s [-c A,B] [-n COUNT] [-i MS]\n",
			        argv[0]);
			return c == 'h' ? 0 : 2;
		}
	}
	for (int i = 0; i < n; i++) {
		struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
		double load = 0;
		FILE *f = fopen("/proc/loadavg", "r");

		if (f) {
			if (fscanf(f, "%lf", &load) != 1)
				load = 0;
			fclose(f);
		}
		printf("bench=probe t_s=%.2f probe_ns=%.1f load1=%.2f\n",
		       (double)(bench_now_ns() - t0) / 1e9,
		       bench_probe_ns(a, b, 0.02), load);
		fflush(stdout);
		nanosleep(&ts, NULL);
	}
	return 0;
}
