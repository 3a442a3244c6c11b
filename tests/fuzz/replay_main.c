/* SPDX-License-Identifier: MIT */
/*
 * replay_main.c -- runs LLVMFuzzerTestOneInput over the files and
 * directories given on argv (directories: every regular file in them), so
 * the committed corpus replays as an ordinary test under any compiler.
 * Exit 0 when every input ran (a failed property aborts), 77 when there
 * was nothing to run, 1 on an unreadable argument.
 */
#define _DEFAULT_SOURCE
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_common.h"

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (!f)
		return -1;
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0 || !(buf = malloc((size_t)n + 1)) ||
	    fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	return 0;
}

static int replay_dir(const char *dir, unsigned *runs)
{
	struct dirent **ents;
	char path[4096];
	int n = scandir(dir, &ents, NULL, alphasort), rc = 0;

	if (n < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		struct stat st;
		snprintf(path, sizeof path, "%s/%s", dir, ents[i]->d_name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			if (replay_file(path) != 0)
				rc = -1;
			else
				++*runs;
		}
		free(ents[i]);
	}
	free(ents);
	return rc;
}

int main(int argc, char **argv)
{
	unsigned runs = 0;
	int bad = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		int rc = -1;
		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			rc = replay_dir(argv[i], &runs);
		else if (replay_file(argv[i]) == 0) {
			rc = 0;
			runs++;
		}
		if (rc != 0) {
			fprintf(stderr, "replay: cannot read %s\n", argv[i]);
			bad = 1;
		}
	}
	printf("replay: %u inputs, no property failed\n", runs);
	return bad ? 1 : runs ? 0 : 77;
}
