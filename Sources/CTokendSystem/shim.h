// The few Linux calls Swift cannot make itself: prctl(2) is C-variadic, so it is wrapped here.
#pragma once
#include <sys/prctl.h>
#include <sys/resource.h>

/// Keeps the daemon's memory (refresh tokens, the master key) out of core dumps and out of reach of
/// ptrace and /proc/PID/mem for other processes of the same user. Returns 0, or -1 with errno set.
static inline int tokend_forbid_core_dumps(void) {
    struct rlimit none = {0, 0};
    if (setrlimit(RLIMIT_CORE, &none) != 0) return -1;
    return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}
