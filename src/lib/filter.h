/*
 * filter.h - device filter expressions over a JSON object of attributes.
 *
 *     hw = "rev2" and site = "shanghai" and version < 2.3
 *     (site = shanghai or site = berlin) and not has quarantined
 *     tags in (pilot, canary) and inventory.cpu ~ "cortex-a*"
 *
 * The grammar and the semantics are in docs/device-filters.md. A parsed filter is immutable,
 * so one filter may be matched from many threads at once. Matching never fails: a missing
 * attribute makes a comparison false (and `!=` true). Ordering operators use
 * uf_version_compare, so `version < 2.10` and `count >= 3` both mean what they say.
 * The canonical text (uf_filter_text) parses back to a filter that matches exactly the same
 * devices and has the same canonical text.
 */
#ifndef UPFLOW_FILTER_H
#define UPFLOW_FILTER_H

#include <jansson.h>
#include <stdbool.h>

#include "lib/error.h"

#define UF_FILTER_MAX_TEXT 4096 /* bytes, as written and in canonical form */
#define UF_FILTER_MAX_DEPTH 32  /* nested parentheses and `not`s */
#define UF_FILTER_MAX_TERMS 256 /* comparisons, `in` and `has` terms */

typedef struct uf_filter uf_filter; /* parsed, immutable, shareable between threads */

/* Parse. Syntax errors are UF_E_INVALID with the column (1-based, in bytes) and what was
 * expected: "filter: column 17: expected a value after '<'"; the limits above give
 * UF_E_TOO_LARGE; allocation failure UF_E_NOMEM. */
uf_filter *uf_filter_parse(const char *text, uf_error *err);
void uf_filter_free(uf_filter *f);

/* Does the device with these attributes match? Never fails; attrs that is NULL or not an
 * object has no attributes. */
bool uf_filter_match(const uf_filter *f, const json_t *attrs);

/* The canonical text of the filter (normalised spacing and quoting, lower-case keywords,
 * only the parentheses precedence needs), for display and storage. malloc'ed; NULL only
 * when memory runs out. */
char *uf_filter_text(const uf_filter *f);

#endif
