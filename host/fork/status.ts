// The exit statuses a fork child's platform reports for it, named once for
// every platform (docs/FORK.md, "Exit statuses"): a continuation's own
// result (0…255) and 128 + n for a signal are the others.

/** A child whose program failed: its continuation threw, or (in a page) its worker crashed or was ended. */
export const EXIT_FAILED = 70;
/** A child that rejected its snapshot (never observed through waitpid: it has no pid). */
export const EXIT_REJECTED = 65;
