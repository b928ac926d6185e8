/*
 * cmd_calendar.c - `upflow calendar deadline|check`: compute an SLA deadline on a working
 * calendar (the S1 next-session rule, working minutes, working days, sessions, a committed
 * date) exactly as the server will, and validate a calendar file before it is deployed.
 * Dates the calendar has no data for are computed with its weekly pattern and reported as
 * warnings on stderr.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/commands.h"
#include "lib/calendar.h"
#include "lib/cmdline.h"

typedef enum { TARGET_SESSIONS, TARGET_MINUTES, TARGET_DAYS, TARGET_DATE } target_kind;

typedef struct target {
    target_kind kind;
    int64_t n;        /* sessions, minutes or days */
    const char *date; /* TARGET_DATE: the field value */
} target;

/* A whole non-negative decimal number up to max. */
static bool parse_count(const char *s, int64_t max, int64_t *out)
{
    if (!*s || strspn(s, "0123456789") != strlen(s) || strlen(s) > 12)
        return false;
    *out = strtoll(s, NULL, 10);
    return *out <= max;
}

static bool parse_target(const char *spec, target *t, uf_error *err)
{
    static const struct {
        const char *prefix;
        target_kind kind;
        int64_t max;
    } counted[] = {
        {"sessions:", TARGET_SESSIONS, 2 * UF_CAL_MAX_SPAN_DAYS},
        {"working-minutes:", TARGET_MINUTES, (int64_t)UF_CAL_MAX_SPAN_DAYS * 1440},
        {"working-days:", TARGET_DAYS, UF_CAL_MAX_SPAN_DAYS},
    };
    if (strcmp(spec, "next-session") == 0) {
        t->kind = TARGET_SESSIONS;
        t->n = 1;
        return true;
    }
    if (strncmp(spec, "date:", 5) == 0 && spec[5]) {
        t->kind = TARGET_DATE;
        t->date = spec + 5;
        return true;
    }
    for (size_t i = 0; i < sizeof counted / sizeof counted[0]; i++) {
        size_t n = strlen(counted[i].prefix);
        if (strncmp(spec, counted[i].prefix, n) != 0)
            continue;
        t->kind = counted[i].kind;
        if (!parse_count(spec + n, counted[i].max, &t->n))
            return uf_error_set(err, UF_E_USAGE, "bad target '%s': expected a count 0..%" PRId64
                                " after '%s'", spec, counted[i].max, counted[i].prefix);
        return true;
    }
    return uf_error_set(err, UF_E_USAGE, "unknown target '%s' (expected next-session, "
                        "sessions:N, working-minutes:N, working-days:N or date:YYYY-MM-DD)",
                        spec);
}

static bool compute(const uf_calendar *cal, const target *t, int64_t from, int64_t *out,
                    uf_cal_warnings *w, uf_error *err)
{
    switch (t->kind) {
    case TARGET_SESSIONS:
        return uf_calendar_add_sessions(cal, from, (unsigned)t->n, out, w, err);
    case TARGET_MINUTES:
        return uf_calendar_add_working_minutes(cal, from, t->n, out, w, err);
    case TARGET_DAYS:
        return uf_calendar_add_working_days(cal, from, (unsigned)t->n, out, w, err);
    case TARGET_DATE:
        return uf_calendar_field_deadline(cal, t->date, out, w, err);
    }
    return uf_error_set(err, UF_E_INTERNAL, "unknown target kind");
}

static void deadline_help(const char *name)
{
    printf("Usage: %s --calendar FILE --from TIME --target TARGET\n"
           "Print the SLA deadline for something received at TIME, as ISO 8601 in the\n"
           "calendar's time zone. Dates outside the calendar's effective range are computed\n"
           "with its weekly pattern and reported as warnings on stderr.\n"
           "\n"
           "  -c, --calendar FILE   the working calendar (JSON, see docs/calendars.md)\n"
           "  -f, --from TIME       YYYY-MM-DDTHH:MM[:SS] in the calendar's zone, or with\n"
           "                        Z or +HH:MM; not needed for a date: target\n"
           "  -t, --target TARGET   next-session      the S1 rule: start of the session after\n"
           "                                          the one holding the effective receipt\n"
           "                        sessions:N        start of the Nth such session\n"
           "                        working-minutes:N N minutes of session time later\n"
           "                        working-days:N    same position, N working days later\n"
           "                        date:VALUE        a committed date: YYYY-MM-DD (end of its\n"
           "                                          last session) or a time with an offset\n"
           "  -h, --help            display this help and exit\n",
           name);
}

static void print_warnings(const char *name, const uf_cal_warnings *w)
{
    if (w->outside_range)
        fprintf(stderr, "%s: warning: %s\n", name, w->msg);
}

static int deadline_run(const char *name, const char *file, const char *from_text,
                        const target *t)
{
    uf_error err;
    uf_calendar *cal = uf_calendar_load_file(file, &err);
    if (!cal)
        return uf_cmdline_fail(name, &err);
    int64_t from = 0, deadline;
    uf_cal_warnings w;
    uf_cal_warnings_clear(&w);
    if (from_text && !uf_calendar_parse_time(cal, from_text, &from, &err)) {
        uf_calendar_free(cal);
        return uf_cmdline_usage_error(name, "--from: %s", err.msg);
    }
    bool ok = compute(cal, t, from, &deadline, &w, &err);
    print_warnings(name, &w);
    if (!ok) {
        uf_calendar_free(cal);
        return uf_cmdline_fail(name, &err);
    }
    char text[48];
    uf_calendar_format_time(cal, deadline, text, sizeof text);
    uf_calendar_free(cal);
    printf("%s\n", text);
    return UF_EXIT_OK;
}

static int deadline_main(int argc, char **argv)
{
    static const struct option options[] = {
        {"calendar", required_argument, NULL, 'c'},
        {"from", required_argument, NULL, 'f'},
        {"target", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *file = NULL, *from = NULL, *spec = NULL;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "c:f:t:h", options, NULL)) != -1) {
        switch (c) {
        case 'c':
            file = optarg;
            break;
        case 'f':
            from = optarg;
            break;
        case 't':
            spec = optarg;
            break;
        case 'h':
            deadline_help(argv[0]);
            return UF_EXIT_OK;
        default:
            return uf_cmdline_try_help(argv[0]);
        }
    }
    if (optind != argc)
        return uf_cmdline_usage_error(argv[0], "unexpected argument '%s'", argv[optind]);
    if (!file)
        return uf_cmdline_usage_error(argv[0], "missing --calendar FILE");
    if (!spec)
        return uf_cmdline_usage_error(argv[0], "missing --target TARGET");
    uf_error err;
    target t = {TARGET_SESSIONS, 0, NULL};
    if (!parse_target(spec, &t, &err))
        return uf_cmdline_usage_error(argv[0], "%s", err.msg);
    if (!from && t.kind != TARGET_DATE)
        return uf_cmdline_usage_error(argv[0], "missing --from TIME");
    return deadline_run(argv[0], file, from, &t);
}

static void print_summary(const uf_calendar *cal)
{
    int64_t from, to;
    char a[16], b[16];
    uf_cal_stats st;
    uf_calendar_effective(cal, &from, &to);
    uf_format_date(from, a, sizeof a);
    uf_format_date(to, b, sizeof b);
    uf_calendar_stats(cal, &st);
    printf("id: %s\n"
           "version: %" PRId64 "\n",
           uf_calendar_id(cal), uf_calendar_version(cal));
    if (*uf_calendar_name(cal))
        printf("name: %s\n", uf_calendar_name(cal));
    printf("timezone: %s\n"
           "effective: %s..%s\n"
           "weekly working time: %" PRId64 "h%02" PRId64 "m\n"
           "overrides: %zu holidays, %zu make-up workdays, %zu custom days\n"
           "working days in range: %zu (%" PRId64 "h%02" PRId64 "m)\n",
           uf_tz_name(uf_calendar_tz(cal)), a, b, st.weekly_minutes / 60,
           st.weekly_minutes % 60, st.holidays, st.makeup_workdays, st.custom_days,
           st.working_days, st.working_minutes / 60, st.working_minutes % 60);
    if (*uf_calendar_source(cal))
        printf("source: %s\n", uf_calendar_source(cal));
}

static int check_main(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("Usage: %s FILE\n"
               "Validate the working calendar in FILE and print its id, version, time zone,\n"
               "effective range and counts. Exits 1, naming the JSON path, if it is invalid.\n",
               argv[0]);
        return UF_EXIT_OK;
    }
    if (argc != 2)
        return uf_cmdline_usage_error(argv[0], "expected exactly one FILE");
    uf_error err;
    uf_calendar *cal = uf_calendar_load_file(argv[1], &err);
    if (!cal)
        return uf_cmdline_fail(argv[0], &err);
    print_summary(cal);
    uf_calendar_free(cal);
    return UF_EXIT_OK;
}

int cmd_calendar(int argc, char **argv)
{
    static const uf_subcommand sub[] = {
        {"deadline", "compute an SLA deadline on a working calendar", deadline_main},
        {"check", "validate a calendar file and summarise it", check_main},
        {NULL, NULL, NULL},
    };
    return uf_subcommand_group(sub, argc, argv);
}
