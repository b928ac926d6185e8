/*
 * tz.c - TZif reading, UTC offsets and local-to-UTC mapping (see tz.h).
 *
 * A zone is the 64-bit transition table of its TZif file plus the POSIX TZ rule from the
 * footer ("CET-1CEST,M3.5.0,M10.5.0/3"), which governs every instant after the last table
 * entry. The file is treated as untrusted: every count is bounded by the bytes actually
 * present, offsets are limited to +-26 hours, and transitions must ascend. The civil-date
 * functions are Howard Hinnant's public-domain algorithms (chrono-compatible date algorithms).
 */
#include "lib/tz.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* RFC 8536 3.2: offsets are within -25:59:59..+25:59:59 (we allow exactly 26 h). */
#define MAX_UTOFF 93600
#define FOOTER_MAX 512

/* ---------------------------------------------------------------- civil dates */

int64_t uf_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

int64_t uf_days_from_civil(int64_t year, int month, int day)
{
    int64_t y = year - (month <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;                                        /* [0, 399] */
    int64_t doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1; /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;               /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

void uf_civil_from_days(int64_t days, int64_t *year, int *month, int *day)
{
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;                                     /* [0, 146096] */
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);             /* [0, 365] */
    int64_t mp = (5 * doy + 2) / 153;                                   /* [0, 11] */
    int d = (int)(doy - (153 * mp + 2) / 5 + 1);
    int m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *year = yoe + era * 400 + (m <= 2);
    *month = m;
    *day = d;
}

int uf_weekday_from_days(int64_t days)
{
    return (int)(days >= -4 ? (days + 4) % 7 : (days + 5) % 7 + 6);
}

bool uf_is_leap_year(int64_t year)
{
    return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
}

int uf_days_in_month(int64_t year, int month)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month < 1 || month > 12)
        return 0;
    return days[month - 1] + (month == 2 && uf_is_leap_year(year));
}

bool uf_civil_valid(const uf_civil *c)
{
    return c->year >= -9999 && c->year <= 9999 && c->month >= 1 && c->month <= 12 &&
           c->day >= 1 && c->day <= uf_days_in_month(c->year, c->month) && c->hour >= 0 &&
           c->hour <= 23 && c->minute >= 0 && c->minute <= 59 && c->second >= 0 &&
           c->second <= 59;
}

/* ---------------------------------------------------------------- the zone */

typedef struct rule_date {
    char kind;    /* 'J': Jn (1..365, no Feb 29); 'N': n (0..365); 'M': Mm.w.d */
    int n, m, w, d;
    int32_t time; /* local seconds after midnight, -167 h .. +167 h */
} rule_date;

typedef struct tz_rule {
    bool present; /* a non-empty footer */
    bool has_dst;
    int32_t std_off, dst_off; /* seconds east */
    rule_date start, end;     /* start in standard time, end in daylight time */
} tz_rule;

struct uf_tz {
    char name[UF_TZ_NAME_MAX + 1];
    size_t ntrans;
    int64_t *trans;      /* ascending UTC instants */
    uint8_t *trans_type; /* index into type_off */
    size_t ntypes;
    int32_t *type_off;
    tz_rule rule;
};

void uf_tz_free(uf_tz *tz)
{
    if (!tz)
        return;
    free(tz->trans);
    free(tz->trans_type);
    free(tz->type_off);
    free(tz);
}

const char *uf_tz_name(const uf_tz *tz)
{
    return tz->name;
}

static uf_tz *tz_new(const char *name, uf_error *err)
{
    uf_tz *tz = calloc(1, sizeof *tz);
    if (!tz) {
        uf_error_set(err, UF_E_NOMEM, "cannot allocate a time zone");
        return NULL;
    }
    snprintf(tz->name, sizeof tz->name, "%s", name ? name : "");
    return tz;
}

/* ---------------------------------------------------------------- POSIX TZ footer */

typedef struct footer_parser {
    const char *p;
    const char *text;
} footer_parser;

static bool fp_digits(footer_parser *fp, int max_digits, int *out)
{
    int v = 0, n = 0;
    while (n < max_digits && *fp->p >= '0' && *fp->p <= '9') {
        v = v * 10 + (*fp->p - '0');
        fp->p++;
        n++;
    }
    *out = v;
    return n > 0;
}

/* A zone abbreviation: three or more letters, or <...> with letters, digits, '+' and '-'. */
static bool fp_name(footer_parser *fp)
{
    size_t n = 0;
    if (*fp->p == '<') {
        fp->p++;
        while ((*fp->p >= 'A' && *fp->p <= 'Z') || (*fp->p >= 'a' && *fp->p <= 'z') ||
               (*fp->p >= '0' && *fp->p <= '9') || *fp->p == '+' || *fp->p == '-') {
            fp->p++;
            n++;
        }
        if (*fp->p != '>')
            return false;
        fp->p++;
        return n >= 3;
    }
    while ((*fp->p >= 'A' && *fp->p <= 'Z') || (*fp->p >= 'a' && *fp->p <= 'z')) {
        fp->p++;
        n++;
    }
    return n >= 3;
}

/* [+-]hh[:mm[:ss]] with hh <= max_hours, as signed seconds. */
static bool fp_hms(footer_parser *fp, int max_hours, int32_t *out)
{
    int sign = 1, h, m = 0, s = 0;
    if (*fp->p == '+' || *fp->p == '-')
        sign = *fp->p++ == '-' ? -1 : 1;
    if (!fp_digits(fp, 3, &h) || h > max_hours)
        return false;
    if (*fp->p == ':') {
        fp->p++;
        if (!fp_digits(fp, 2, &m) || m > 59)
            return false;
        if (*fp->p == ':') {
            fp->p++;
            if (!fp_digits(fp, 2, &s) || s > 59)
                return false;
        }
    }
    *out = sign * (h * 3600 + m * 60 + s);
    return true;
}

/* Jn | n | Mm.w.d, then optionally /time (RFC 8536 3.3.1 allows -167..167 hours). */
static bool fp_rule_date(footer_parser *fp, rule_date *r)
{
    r->time = 2 * 3600;
    if (*fp->p == 'J') {
        fp->p++;
        r->kind = 'J';
        if (!fp_digits(fp, 3, &r->n) || r->n < 1 || r->n > 365)
            return false;
    } else if (*fp->p == 'M') {
        fp->p++;
        r->kind = 'M';
        if (!fp_digits(fp, 2, &r->m) || r->m < 1 || r->m > 12 || *fp->p++ != '.' ||
            !fp_digits(fp, 1, &r->w) || r->w < 1 || r->w > 5 || *fp->p++ != '.' ||
            !fp_digits(fp, 1, &r->d) || r->d > 6)
            return false;
    } else {
        r->kind = 'N';
        if (!fp_digits(fp, 3, &r->n) || r->n > 365)
            return false;
    }
    if (*fp->p == '/') {
        fp->p++;
        if (!fp_hms(fp, 167, &r->time))
            return false;
    }
    return true;
}

/* POSIX offsets count west ("CET-1" is one hour east); ours count east. */
static bool parse_footer(const char *text, tz_rule *rule, uf_error *err)
{
    footer_parser fp = {text, text};
    int32_t west;
    memset(rule, 0, sizeof *rule);
    if (!*text)
        return true; /* an empty footer: the last transition's type holds forever */
    rule->present = true;
    if (!fp_name(&fp) || !fp_hms(&fp, 24, &west))
        goto bad;
    rule->std_off = -west;
    if (!*fp.p)
        return true;
    if (!fp_name(&fp))
        goto bad;
    rule->has_dst = true;
    rule->dst_off = rule->std_off + 3600;
    if (*fp.p && *fp.p != ',') {
        if (!fp_hms(&fp, 24, &west))
            goto bad;
        rule->dst_off = -west;
    }
    if (*fp.p++ != ',' || !fp_rule_date(&fp, &rule->start) || *fp.p++ != ',' ||
        !fp_rule_date(&fp, &rule->end) || *fp.p)
        goto bad;
    return true;
bad:
    return uf_error_set(err, UF_E_BAD_FIELD, "bad POSIX TZ rule \"%s\" in the footer", text);
}

/* The local time (seconds since the epoch of local days) at which a rule fires in `year`. */
static int64_t rule_local_seconds(const rule_date *r, int64_t year)
{
    int64_t jan1 = uf_days_from_civil(year, 1, 1), day;
    if (r->kind == 'J') {
        day = jan1 + r->n - 1 + (uf_is_leap_year(year) && r->n >= 60);
    } else if (r->kind == 'N') {
        day = jan1 + r->n;
    } else {
        int64_t first = uf_days_from_civil(year, r->m, 1);
        int dom = 1 + (r->d - uf_weekday_from_days(first) + 7) % 7 + (r->w - 1) * 7;
        while (dom > uf_days_in_month(year, r->m))
            dom -= 7; /* week 5 means "the last" */
        day = first + dom - 1;
    }
    return day * 86400 + r->time;
}

/* The offset of the footer rule at utc: whichever of the year's transitions (of this year and
 * its neighbours, so rules that cross New Year work) came last. A tie goes to daylight time,
 * which is how "all year DST" rules (0/0,J365/25) are written. */
static int32_t rule_offset_at(const tz_rule *r, int64_t utc)
{
    if (!r->has_dst)
        return r->std_off;
    int64_t year, best = INT64_MIN;
    int month, day;
    int32_t off = r->std_off;
    uf_civil_from_days(uf_floor_div(utc + r->std_off, 86400), &year, &month, &day);
    for (int64_t y = year - 1; y <= year + 1; y++) {
        int64_t end = rule_local_seconds(&r->end, y) - r->dst_off;
        int64_t start = rule_local_seconds(&r->start, y) - r->std_off;
        if (end <= utc && end > best) {
            best = end;
            off = r->std_off;
        }
        if (start <= utc && start >= best) {
            best = start;
            off = r->dst_off;
        }
    }
    return off;
}

/* ---------------------------------------------------------------- offsets */

int32_t uf_tz_offset_at(const uf_tz *tz, int64_t utc)
{
    if (utc < UF_TIME_MIN)
        utc = UF_TIME_MIN;
    if (utc > UF_TIME_MAX)
        utc = UF_TIME_MAX;
    if (tz->ntrans == 0)
        return tz->rule.present ? rule_offset_at(&tz->rule, utc) : tz->type_off[0];
    if (utc < tz->trans[0])
        return tz->type_off[0]; /* RFC 8536: before the first transition, type 0 */
    if (utc > tz->trans[tz->ntrans - 1] && tz->rule.present)
        return rule_offset_at(&tz->rule, utc);
    size_t lo = 0, hi = tz->ntrans; /* find the last transition <= utc */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (tz->trans[mid] <= utc)
            lo = mid;
        else
            hi = mid;
    }
    return tz->type_off[tz->trans_type[lo]];
}

bool uf_tz_utc_to_local(const uf_tz *tz, int64_t utc, uf_civil *out, int32_t *offset)
{
    if (utc < UF_TIME_MIN || utc > UF_TIME_MAX)
        return false;
    int32_t off = uf_tz_offset_at(tz, utc);
    int64_t local = utc + off, days = uf_floor_div(local, 86400), secs = local - days * 86400;
    uf_civil_from_days(days, &out->year, &out->month, &out->day);
    if (out->year < -9999 || out->year > 9999) /* the offset pushed it out of range */
        return false;
    out->hour = (int)(secs / 3600);
    out->minute = (int)(secs / 60 % 60);
    out->second = (int)(secs % 60);
    if (offset)
        *offset = off;
    return true;
}

static void add_candidate(int32_t cand[], size_t *n, int32_t off)
{
    for (size_t i = 0; i < *n; i++)
        if (cand[i] == off)
            return;
    cand[(*n)++] = off;
}

/*
 * Which offsets could apply to a local time? Every real offset is within +-26 h, so the
 * instant lies within local +-26 h; sampling the offsets there, and at the instants those
 * offsets imply, finds the offsets on both sides of any one transition near it. A candidate
 * offset o is right when the instant local - o really has offset o. Two right ones: an
 * overlap, take the earlier instant. None: a gap (the offset grew), so read the local time
 * with the smaller, older offset, which lands as far past the jump as the time was past the
 * start of the gap.
 */
bool uf_tz_local_seconds_to_utc(const uf_tz *tz, int64_t local, int64_t *utc)
{
    if (local < UF_TIME_MIN || local > UF_TIME_MAX + 86400)
        return false;
    int32_t cand[6];
    size_t n = 0;
    add_candidate(cand, &n, uf_tz_offset_at(tz, local - MAX_UTOFF - 1));
    add_candidate(cand, &n, uf_tz_offset_at(tz, local));
    add_candidate(cand, &n, uf_tz_offset_at(tz, local + MAX_UTOFF + 1));
    for (size_t i = 0, sampled = n; i < sampled; i++)
        add_candidate(cand, &n, uf_tz_offset_at(tz, local - cand[i]));
    bool found = false;
    int64_t best = 0;
    int32_t smallest = cand[0];
    for (size_t i = 0; i < n; i++) {
        int64_t t = local - cand[i];
        if (uf_tz_offset_at(tz, t) == cand[i] && (!found || t < best)) {
            best = t;
            found = true;
        }
        if (cand[i] < smallest)
            smallest = cand[i];
    }
    *utc = found ? best : local - smallest;
    return true;
}

bool uf_tz_local_to_utc(const uf_tz *tz, const uf_civil *local, int64_t *utc)
{
    if (!uf_civil_valid(local))
        return false;
    int64_t secs = uf_days_from_civil(local->year, local->month, local->day) * 86400 +
                   local->hour * 3600 + local->minute * 60 + local->second;
    return uf_tz_local_seconds_to_utc(tz, secs, utc);
}

/* ---------------------------------------------------------------- TZif */

typedef struct tzif_header {
    char version;
    uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
} tzif_header;

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

#define TZIF_HEADER_LEN 44

static bool read_header(const unsigned char *data, size_t len, size_t off, tzif_header *h,
                        uf_error *err)
{
    if (len < TZIF_HEADER_LEN || off > len - TZIF_HEADER_LEN)
        return uf_error_set(err, UF_E_BAD_FIELD, "truncated header at byte %zu", off);
    const unsigned char *p = data + off;
    if (memcmp(p, "TZif", 4) != 0)
        return uf_error_set(err, UF_E_BAD_FIELD, "not a TZif file (bad magic at byte %zu)",
                            off);
    h->version = (char)p[4];
    h->isutcnt = be32(p + 20);
    h->isstdcnt = be32(p + 24);
    h->leapcnt = be32(p + 28);
    h->timecnt = be32(p + 32);
    h->typecnt = be32(p + 36);
    h->charcnt = be32(p + 40);
    if (h->version == 0)
        return uf_error_set(err, UF_E_UNSUPPORTED, "TZif version 1 files are not supported");
    if (h->version < '2' || h->version > '4')
        return uf_error_set(err, UF_E_UNSUPPORTED, "unknown TZif version 0x%02x",
                            (unsigned char)h->version);
    /* Each count is bounded by the file size, so the block size below cannot overflow. */
    if (h->isutcnt > len || h->isstdcnt > len || h->leapcnt > len || h->timecnt > len ||
        h->charcnt > len || h->typecnt > 256 || h->typecnt == 0 || h->charcnt == 0 ||
        (h->isutcnt != 0 && h->isutcnt != h->typecnt) ||
        (h->isstdcnt != 0 && h->isstdcnt != h->typecnt))
        return uf_error_set(err, UF_E_BAD_FIELD, "inconsistent counts in the header at byte %zu",
                            off);
    return true;
}

static size_t block_size(const tzif_header *h, size_t timesize)
{
    return (size_t)h->timecnt * timesize + h->timecnt + (size_t)h->typecnt * 6 + h->charcnt +
           (size_t)h->leapcnt * (timesize + 4) + h->isstdcnt + h->isutcnt;
}

static bool read_types(uf_tz *tz, const tzif_header *h, const unsigned char *p, uf_error *err)
{
    tz->ntypes = h->typecnt;
    tz->type_off = malloc(tz->ntypes * sizeof *tz->type_off);
    if (!tz->type_off)
        return uf_error_set(err, UF_E_NOMEM, "cannot allocate %zu time types", tz->ntypes);
    for (size_t i = 0; i < tz->ntypes; i++, p += 6) {
        int32_t off = (int32_t)be32(p);
        if (off < -MAX_UTOFF || off > MAX_UTOFF || p[4] > 1 || p[5] >= h->charcnt)
            return uf_error_set(err, UF_E_BAD_FIELD, "time type %zu is malformed", i);
        tz->type_off[i] = off;
    }
    return true;
}

static bool read_transitions(uf_tz *tz, const tzif_header *h, const unsigned char *p,
                             uf_error *err)
{
    tz->ntrans = h->timecnt;
    if (tz->ntrans == 0)
        return true;
    tz->trans = malloc(tz->ntrans * sizeof *tz->trans);
    tz->trans_type = malloc(tz->ntrans);
    if (!tz->trans || !tz->trans_type)
        return uf_error_set(err, UF_E_NOMEM, "cannot allocate %zu transitions", tz->ntrans);
    for (size_t i = 0; i < tz->ntrans; i++) {
        tz->trans[i] = be64(p + 8 * i);
        if (i > 0 && tz->trans[i] <= tz->trans[i - 1])
            return uf_error_set(err, UF_E_BAD_FIELD, "transition %zu is not after the previous",
                                i);
        tz->trans_type[i] = p[8 * tz->ntrans + i];
        if (tz->trans_type[i] >= h->typecnt)
            return uf_error_set(err, UF_E_BAD_FIELD, "transition %zu names time type %u of %u",
                                i, tz->trans_type[i], h->typecnt);
    }
    return true;
}

/* The footer: "\n" TZ-string "\n" right after the 64-bit block. */
static bool read_footer(uf_tz *tz, const unsigned char *data, size_t len, size_t off,
                        uf_error *err)
{
    if (off >= len || data[off] != '\n')
        return uf_error_set(err, UF_E_BAD_FIELD, "missing footer at byte %zu", off);
    const unsigned char *start = data + off + 1;
    const unsigned char *nl = memchr(start, '\n', len - off - 1);
    if (!nl)
        return uf_error_set(err, UF_E_BAD_FIELD, "unterminated footer");
    size_t n = (size_t)(nl - start);
    if (n >= FOOTER_MAX)
        return uf_error_set(err, UF_E_BAD_FIELD, "footer of %zu bytes is too long", n);
    char text[FOOTER_MAX];
    memcpy(text, start, n);
    text[n] = '\0';
    if (strlen(text) != n)
        return uf_error_set(err, UF_E_BAD_FIELD, "NUL in the footer");
    return parse_footer(text, &tz->rule, err);
}

static bool parse_tzif(uf_tz *tz, const unsigned char *data, size_t len, uf_error *err)
{
    tzif_header h1, h2;
    if (!read_header(data, len, 0, &h1, err))
        return false;
    size_t v1 = block_size(&h1, 4);
    if (v1 > len - TZIF_HEADER_LEN)
        return uf_error_set(err, UF_E_BAD_FIELD, "truncated version 1 data block");
    size_t off = TZIF_HEADER_LEN + v1;
    if (!read_header(data, len, off, &h2, err))
        return false;
    off += TZIF_HEADER_LEN;
    size_t v2 = block_size(&h2, 8);
    if (v2 > len - off)
        return uf_error_set(err, UF_E_BAD_FIELD, "truncated 64-bit data block");
    if (h2.leapcnt != 0)
        return uf_error_set(err, UF_E_UNSUPPORTED,
                            "leap-second time zones (\"right/\") are not supported");
    const unsigned char *p = data + off;
    if (!read_transitions(tz, &h2, p, err) ||
        !read_types(tz, &h2, p + (size_t)h2.timecnt * 9, err))
        return false;
    return read_footer(tz, data, len, off + v2, err);
}

uf_tz *uf_tz_parse(const char *name, const unsigned char *data, size_t len, uf_error *err)
{
    uf_tz *tz = tz_new(name, err);
    if (!tz)
        return NULL;
    if (len > UF_TZ_FILE_MAX) {
        uf_error_set(err, UF_E_TOO_LARGE, "%zu bytes exceed the limit of %u", len,
                     UF_TZ_FILE_MAX);
        uf_tz_free(tz);
        return NULL;
    }
    if (!parse_tzif(tz, data, len, err)) {
        uf_tz_free(tz);
        return NULL;
    }
    return tz;
}

/* ---------------------------------------------------------------- loading */

static bool check_zone_name(const char *name, uf_error *err)
{
    size_t n = strlen(name);
    if (n == 0 || n > UF_TZ_NAME_MAX)
        return uf_error_set(err, UF_E_INVALID, "time zone name of %zu bytes", n);
    if (name[0] == '/' || strstr(name, "..") || strstr(name, "//") || name[n - 1] == '/')
        return uf_error_set(err, UF_E_INVALID, "bad time zone name \"%.*s\"", UF_TZ_NAME_MAX,
                            name);
    for (const char *p = name; *p; p++) {
        char c = *p;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '+' || c == '-' || c == '/'))
            return uf_error_set(err, UF_E_INVALID,
                                "bad time zone name \"%s\": character '%c' is not allowed", name,
                                c);
    }
    return true;
}

static uf_tz *tz_utc(uf_error *err)
{
    uf_tz *tz = tz_new("UTC", err);
    if (!tz)
        return NULL;
    tz->type_off = calloc(1, sizeof *tz->type_off);
    if (!tz->type_off) {
        uf_tz_free(tz);
        uf_error_set(err, UF_E_NOMEM, "cannot allocate a time zone");
        return NULL;
    }
    tz->ntypes = 1;
    return tz;
}

/* Read a whole regular file of at most UF_TZ_FILE_MAX bytes. */
static unsigned char *read_small_file(const char *path, const char *name, size_t *len,
                                      uf_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            uf_error_set(err, UF_E_NOT_FOUND, "unknown time zone \"%s\" (no %s)", name, path);
        else
            uf_error_errno(err, errno, "open %s", path);
        return NULL;
    }
    struct stat st;
    unsigned char *data = NULL;
    if (fstat(fd, &st) != 0) {
        uf_error_errno(err, errno, "stat %s", path);
    } else if (!S_ISREG(st.st_mode)) {
        uf_error_set(err, UF_E_NOT_FOUND, "unknown time zone \"%s\" (%s is not a file)", name,
                     path);
    } else if ((uint64_t)st.st_size > UF_TZ_FILE_MAX) {
        uf_error_set(err, UF_E_TOO_LARGE, "%s: %jd bytes exceed the limit of %u", path,
                     (intmax_t)st.st_size, UF_TZ_FILE_MAX);
    } else if (!(data = malloc((size_t)st.st_size + 1))) {
        uf_error_set(err, UF_E_NOMEM, "%s: cannot allocate %jd bytes", path,
                     (intmax_t)st.st_size);
    } else {
        size_t got = 0, want = (size_t)st.st_size + 1; /* one more: notice a growing file */
        ssize_t r;
        while (got < want && (r = read(fd, data + got, want - got)) != 0) {
            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0) {
                uf_error_errno(err, errno, "read %s", path);
                free(data);
                data = NULL;
                break;
            }
            got += (size_t)r;
        }
        if (data && got > (size_t)st.st_size) {
            uf_error_set(err, UF_E_IO, "%s changed while being read", path);
            free(data);
            data = NULL;
        }
        *len = got;
    }
    close(fd);
    return data;
}

uf_tz *uf_tz_load_from(const char *dir, const char *name, uf_error *err)
{
    if (!name || !check_zone_name(name, err))
        return NULL;
    if (strcmp(name, "UTC") == 0)
        return tz_utc(err);
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path) {
        uf_error_set(err, UF_E_INVALID, "time zone directory path is too long");
        return NULL;
    }
    size_t len = 0;
    unsigned char *data = read_small_file(path, name, &len, err);
    if (!data)
        return NULL;
    uf_tz *tz = uf_tz_parse(name, data, len, err);
    free(data);
    if (!tz)
        uf_error_prefix(err, "time zone \"%s\" (%s)", name, path);
    return tz;
}

uf_tz *uf_tz_load(const char *name, uf_error *err)
{
    return uf_tz_load_from(UF_TZ_DEFAULT_DIR, name, err);
}
