/*
 * version_order.c - one key space for semantic and free-form versions (see version_order.h).
 *
 * Every string is read as a sequence of tokens, and two strings compare token by token with
 *
 *     PRE < END < NUM < STR        (NUM by value, STR byte-wise)
 *
 * A semantic version yields its three core numbers (a missing MINOR or PATCH as 0), then, if
 * it has a pre-release, PRE and one NUM or STR per identifier, then END. PRE below END makes
 * 1.0.0-rc.1 < 1.0.0 (§11.3); END below everything makes a shorter identifier list sort first,
 * 1.0.0-alpha < 1.0.0-alpha.1 (§11.4.4); NUM below STR is §11.4.3. Any other string yields its
 * digit runs as NUM and its other runs as STR, with dots only separating, then END: "2.3.0.1"
 * reads 2 3 0 1 END and sorts between 2.3.0 and 2.3.1. A lexicographic order over a totally
 * ordered alphabet is a total order, so any mix of strings sorts consistently.
 */
#include "lib/version_order.h"

#include <ctype.h>
#include <string.h>

#define DIGITS "0123456789"
#define IDENT_CHARS DIGITS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-"

typedef enum { TOK_PRE, TOK_END, TOK_NUM, TOK_STR } tok_kind;

typedef struct {
    tok_kind kind;
    const char *text;
    size_t len;
} vtoken;

typedef struct {
    const char *p, *end; /* what is left to read; a semantic version ends before '+' */
    bool semver;
    int core;    /* semantic: core numbers read so far */
    bool in_pre; /* semantic: PRE read, now reading pre-release identifiers */
} vcursor;

static bool is_digit(char c)
{
    return isdigit((unsigned char)c) != 0;
}

static const char *skip_v(const char *s)
{
    return (s[0] == 'v' || s[0] == 'V') && is_digit(s[1]) ? s + 1 : s;
}

static size_t span_while(const char *p, const char *end, bool digits)
{
    size_t n = 0;
    while (p + n < end && p[n] != '.' && is_digit(p[n]) == digits)
        n++;
    return n;
}

static bool all_digits(const char *p, size_t n)
{
    return strspn(p, DIGITS) >= n;
}

/* A semver number: digits, and no leading zero unless it is "0". */
static bool number_ok(const char *p, size_t n)
{
    return n > 0 && all_digits(p, n) && (n == 1 || p[0] != '0');
}

/* Dot-separated non-empty identifiers from p; returns where they end, or NULL. */
static const char *identifiers_end(const char *p, bool prerelease)
{
    for (;;) {
        size_t n = strspn(p, IDENT_CHARS);
        if (n == 0)
            return NULL;
        if (prerelease && all_digits(p, n) && !number_ok(p, n))
            return NULL;
        p += n;
        if (*p != '.')
            return p;
        p++;
    }
}

bool uf_version_is_semver(const char *s)
{
    if (!s)
        return false;
    const char *p = skip_v(s);
    for (int i = 0; i < 3; i++) {
        size_t n = strspn(p, DIGITS);
        if (!number_ok(p, n))
            return false;
        p += n;
        if (*p != '.' || i == 2)
            break;
        p++;
    }
    if (*p == '-' && !(p = identifiers_end(p + 1, true)))
        return false;
    if (*p == '+' && !(p = identifiers_end(p + 1, false)))
        return false;
    return *p == '\0';
}

static void cursor_init(vcursor *c, const char *s)
{
    if (!s)
        s = "";
    c->semver = uf_version_is_semver(s);
    c->p = skip_v(s);
    c->end = c->p + (c->semver ? strcspn(c->p, "+") : strlen(c->p));
    c->core = 0;
    c->in_pre = false;
}

static vtoken token(tok_kind kind, const char *text, size_t len)
{
    return (vtoken){kind, text, len};
}

/* The next run of digits (NUM) or of other bytes (STR), stopping at a dot or the end. */
static vtoken take_run(vcursor *c)
{
    bool digits = is_digit(*c->p);
    size_t n = span_while(c->p, c->end, digits);
    vtoken t = token(digits ? TOK_NUM : TOK_STR, c->p, n);
    c->p += n;
    return t;
}

static vtoken next_semver(vcursor *c)
{
    if (c->core < 3) {
        c->core++;
        if (c->p == c->end || !is_digit(*c->p))
            return token(TOK_NUM, "0", 1); /* 2.3 reads as 2.3.0 */
        vtoken t = take_run(c);
        if (c->p < c->end && *c->p == '.')
            c->p++;
        return t;
    }
    if (!c->in_pre) {
        if (c->p == c->end)
            return token(TOK_END, "", 0);
        c->in_pre = true; /* is_semver leaves only "-" here */
        c->p++;
        return token(TOK_PRE, "", 0);
    }
    if (c->p == c->end)
        return token(TOK_END, "", 0);
    size_t n = strcspn(c->p, ".+");
    vtoken t = token(all_digits(c->p, n) ? TOK_NUM : TOK_STR, c->p, n);
    c->p += n;
    if (c->p < c->end)
        c->p++;
    return t;
}

static vtoken next_free_form(vcursor *c)
{
    while (c->p < c->end && *c->p == '.')
        c->p++;
    if (c->p == c->end)
        return token(TOK_END, "", 0);
    return take_run(c);
}

static int compare_numbers(const char *a, size_t alen, const char *b, size_t blen)
{
    while (alen > 1 && *a == '0')
        a++, alen--;
    while (blen > 1 && *b == '0')
        b++, blen--;
    if (alen != blen)
        return alen < blen ? -1 : 1;
    return memcmp(a, b, alen);
}

static int compare_bytes(const char *a, size_t alen, const char *b, size_t blen)
{
    int r = memcmp(a, b, alen < blen ? alen : blen);
    if (r != 0 || alen == blen)
        return r;
    return alen < blen ? -1 : 1;
}

static int compare_tokens(vtoken a, vtoken b)
{
    if (a.kind != b.kind)
        return a.kind < b.kind ? -1 : 1;
    if (a.kind == TOK_NUM)
        return compare_numbers(a.text, a.len, b.text, b.len);
    return compare_bytes(a.text, a.len, b.text, b.len);
}

static vtoken next_token(vcursor *c)
{
    return c->semver ? next_semver(c) : next_free_form(c);
}

int uf_version_compare(const char *a, const char *b)
{
    vcursor ca, cb;
    cursor_init(&ca, a);
    cursor_init(&cb, b);
    for (;;) {
        vtoken ta = next_token(&ca), tb = next_token(&cb);
        int r = compare_tokens(ta, tb);
        if (r != 0)
            return r < 0 ? -1 : 1;
        if (ta.kind == TOK_END)
            return 0;
    }
}
