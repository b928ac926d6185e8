/*
 * version_order.h - ordering version strings the way a fleet operator expects.
 *
 * Semantic versions order by semver 2.0.0 §11 (2.3.0 < 2.10.0, 1.0.0-rc.1 < 1.0.0, build
 * metadata ignored), with a leading "v" accepted and MINOR/PATCH optional (2.3 == 2.3.0).
 * Anything else falls back to a `sort -V`-like order: runs of digits compare as numbers,
 * other runs byte-wise, dots separate. Both kinds map onto one key space, so mixed inputs
 * still form a total (pre)order: transitive, and never failing or allocating.
 */
#ifndef UPFLOW_VERSION_ORDER_H
#define UPFLOW_VERSION_ORDER_H

#include <stdbool.h>

/* <0, 0 or >0 as a orders before, equal to, or after b. Distinct strings may compare equal
 * ("2.3" and "v2.3.0+build.7"); equality is an equivalence. NULL orders as "". */
int uf_version_compare(const char *a, const char *b);

/* [v]MAJOR[.MINOR[.PATCH]][-PRERELEASE][+BUILD] with semver's rules for each part (numbers
 * without leading zeros, identifiers of [0-9A-Za-z-], none empty). */
bool uf_version_is_semver(const char *s);

#endif
