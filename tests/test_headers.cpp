/* Description: the public header compiles as C++ and links. */
/* SPDX-License-Identifier: MIT */
#include "shmring.h"
#include "shmring.h" // include guard

#include <cstdio>
#include <cstring>

static_assert(SHMRING_OK == 0 && SHMRING_ESYS == -13, "stable codes");
static_assert(sizeof(shmring_config) == 20, "five uint32_t fields");

int main()
{
	shmring *r = nullptr;
	shmring_config cfg{};
	shmring_stats st{};
	// extern "C": these resolve to the C symbols of libshmring
	if (shmring_create(".bad", &cfg, SHMRING_PRODUCER, &r) !=
	            SHMRING_EINVAL ||
	    r != nullptr || shmring_max_msg(r) != 0 ||
	    shmring_get_stats(r, &st) != SHMRING_EINVAL ||
	    std::strcmp(shmring_strerror(1), "unknown shmring error") != 0) {
		std::fprintf(stderr, "unexpected results\n");
		return 1;
	}
	std::printf("%s\n", shmring_strerror(SHMRING_OK));
	return 0;
}
