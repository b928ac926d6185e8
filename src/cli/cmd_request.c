/*
 * cmd_request.c - `upflow request create|list|show|move|approve|reject|comment|attach`: work
 * with change records on an upflow server from a terminal or a pipeline.
 *
 * Each subcommand is one API call (move and list --all may make a few); --json prints the
 * server's answer as it came, otherwise a short human summary. Field values on the command
 * line are JSON when they parse as JSON (2, true, [1,2], {"a":1}, "quoted"), else plain text.
 * A refused transition lists every unmet guard, one per line.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/record_view.h"
#include "lib/cmdline.h"
#include "lib/hash.h"
#include "lib/json.h"

/* Long-only options. */
enum {
    OPT_JSON = 0x2000,
    OPT_TEMPLATE,
    OPT_TYPE,
    OPT_TRANSITION,
    OPT_JSON_FIELDS,
    OPT_LINK,
    OPT_ALL,
    OPT_REVISION,
    OPT_ON_BEHALF_OF,
    OPT_EVIDENCE,
    OPT_CUSTOMER_VISIBLE,
    OPT_KIND,
    OPT_NAME,
    OPT_FILTER = 0x3000, /* + the index in list_main's filter table */
};

#define COMMON_OPTIONS                                                                        \
    UF_CLIENT_LONG_OPTIONS, {"json", no_argument, NULL, OPT_JSON},                            \
        {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}
#define COMMON_HELP                                                                           \
    "      --json                print the server's JSON answer as it is\n"                  \
    UF_CLIENT_OPTIONS_HELP "  -h, --help                display this help and exit\n"

/* One run of a subcommand: its name, what it is about, where it talks to, the answer. */
typedef struct run {
    const char *prog;
    uf_client_target target;
    bool json;
    int64_t id;      /* the record */
    const char *arg; /* what follows the ID: TRANSITION, TEXT or FILE */
    const char *filename;
    char sha256[UF_HASH_MAX_HEX];
    bool approve;
    bool more; /* list: more pages follow */
    uf_client *client;
    uf_response resp;
    uf_error err;
} run;

static void run_init(run *r, const char *prog)
{
    memset(r, 0, sizeof *r);
    r->prog = prog;
    r->resp = (uf_response)UF_RESPONSE_INIT;
    uf_error_clear(&r->err);
}

/* Take getopt's result c when it is --json, --server or --token. */
static bool run_option(run *r, int c, const char *arg)
{
    if (c != OPT_JSON)
        return uf_client_target_option(&r->target, c, arg);
    r->json = true;
    return true;
}

static bool parse_id(const char *s, int64_t *out)
{
    if (!*s || strlen(s) > 15 || strspn(s, "0123456789") != strlen(s))
        return false;
    *out = strtoll(s, NULL, 10);
    return *out > 0;
}

/* After the options: a record ID, then one more argument when what names it. */
static bool run_positional(run *r, int argc, char **argv, const char *what)
{
    if (optind != argc - (what ? 2 : 1))
        return what ? uf_error_set(&r->err, UF_E_USAGE, "expected a record ID and %s", what)
                    : uf_error_set(&r->err, UF_E_USAGE, "expected exactly one record ID");
    if (!parse_id(argv[optind], &r->id))
        return uf_error_set(&r->err, UF_E_USAGE, "'%s' is not a record ID", argv[optind]);
    r->arg = what ? argv[optind + 1] : NULL;
    return true;
}

static bool run_connect(run *r)
{
    r->client = uf_client_open(&r->target, UF_CLIENT_SIGNED_IN, &r->err);
    return r->client != NULL;
}

static bool run_call(run *r, const char *method, const char *path, const json_t *body)
{
    return uf_client_call(r->client, method, path, body, &r->resp, &r->err);
}

/* "/api/v1/records/ID" and a tail */
static void record_path(const run *r, const char *tail, char *out, size_t len)
{
    snprintf(out, len, "/api/v1/records/%" PRId64 "%s", r->id, tail);
}

typedef void (*print_fn)(const run *r);

/* If ok, print the answer: as it came with --json, else through human. Then release the
 * run and return the exit status, after reporting r->err if anything failed. */
static int run_end(run *r, bool ok, print_fn human)
{
    if (ok && r->json) {
        ok = uf_response_print_raw(&r->resp, &r->err);
    } else if (ok) {
        human(r);
        if (fflush(stdout) != 0)
            ok = uf_error_set(&r->err, UF_E_IO, "write to standard output failed");
    }
    int rc = ok ? UF_EXIT_OK : uf_client_fail(r->prog, &r->err, &r->resp);
    uf_response_clear(&r->resp);
    uf_client_close(r->client);
    r->client = NULL;
    return rc;
}

/* ---- arguments ----------------------------------------------------------------------- */

/* The value of --field NAME=VALUE: JSON if it parses as a JSON value other than null, else
 * the text itself. */
static json_t *field_value(const char *text)
{
    json_error_t jerr;
    json_t *v = json_loads(text, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &jerr);
    if (v && json_is_null(v)) {
        json_decref(v);
        v = NULL;
    }
    return v ? v : json_string(text);
}

static bool add_field(json_t *fields, const char *arg, uf_error *err)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return uf_error_set(err, UF_E_USAGE, "--field '%s': expected NAME=VALUE", arg);
    char name[256];
    if ((size_t)(eq - arg) >= sizeof name)
        return uf_error_set(err, UF_E_USAGE, "--field: name too long");
    memcpy(name, arg, (size_t)(eq - arg));
    name[eq - arg] = '\0';
    json_t *v = field_value(eq + 1);
    if (!v || json_object_set_new(fields, name, v) != 0)
        return uf_error_set(err, UF_E_USAGE, "--field %s: not valid UTF-8", name);
    return true;
}

/* A JSON object of fields from a file ("-": standard input). */
static json_t *load_fields(const char *file, uf_error *err)
{
    uf_json_limits lim = uf_json_default_limits();
    json_t *doc = NULL;
    if (strcmp(file, "-") == 0) {
        uf_buf in = UF_BUF_INIT;
        in.limit = lim.max_bytes;
        char chunk[4096];
        size_t n;
        bool ok = true;
        while (ok && (n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
            ok = uf_buf_append(&in, chunk, n, err);
        if (ok && ferror(stdin))
            ok = uf_error_set(err, UF_E_IO, "read standard input");
        doc = ok ? uf_json_parse(in.data, in.len, &lim, err) : NULL;
        uf_buf_free(&in);
    } else {
        doc = uf_json_load_file(file, &lim, err);
    }
    if (doc && !json_is_object(doc)) {
        json_decref(doc);
        uf_error_set(err, UF_E_BAD_FIELD, "expected a JSON object of fields");
        doc = NULL;
    }
    if (!doc)
        uf_error_prefix(err, "--json-fields %s", file);
    return doc;
}

/* Fields from --json-fields, with the --field values over them. */
static bool merge_fields(json_t **fields, const char *file, uf_error *err)
{
    if (!file)
        return true;
    json_t *base = load_fields(file, err);
    if (!base)
        return false;
    json_object_update(base, *fields);
    json_decref(*fields);
    *fields = base;
    return true;
}

/* ---- create ------------------------------------------------------------------------- */

static void print_created(const run *r)
{
    printf("created record %" PRId64 ": ", uf_view_int(r->resp.body, "id"));
    uf_client_print_text(stdout, uf_view_str(r->resp.body, "type", "?"));
    fputs(" in state ", stdout);
    uf_view_state(r->resp.body);
    putchar('\n');
}

static int create_main(int argc, char **argv)
{
    static const struct option options[] = {
        {"template", required_argument, NULL, OPT_TEMPLATE},
        {"type", required_argument, NULL, OPT_TYPE},
        {"transition", required_argument, NULL, OPT_TRANSITION},
        {"field", required_argument, NULL, 'f'},
        {"json-fields", required_argument, NULL, OPT_JSON_FIELDS},
        {"link", required_argument, NULL, OPT_LINK},
        {"comment", required_argument, NULL, 'c'},
        COMMON_OPTIONS,
    };
    run r;
    run_init(&r, argv[0]);
    const char *tpl = NULL, *type = NULL, *transition = NULL, *fields_file = NULL;
    const char *comment = NULL;
    json_t *fields = json_object(), *links = json_array();
    int c, rc = UF_EXIT_USAGE;
    optind = 0;
    while ((c = getopt_long(argc, argv, "f:c:h", options, NULL)) != -1) {
        switch (c) {
        case OPT_TEMPLATE:
            tpl = optarg;
            break;
        case OPT_TYPE:
            type = optarg;
            break;
        case OPT_TRANSITION:
            transition = optarg;
            break;
        case 'f':
            if (!add_field(fields, optarg, &r.err))
                goto usage;
            break;
        case OPT_JSON_FIELDS:
            fields_file = optarg;
            break;
        case OPT_LINK: {
            const char *eq = strchr(optarg, '=');
            int64_t to;
            if (!eq || eq == optarg || !parse_id(eq + 1, &to)) {
                uf_error_set(&r.err, UF_E_USAGE, "--link '%s': expected LINK=ID", optarg);
                goto usage;
            }
            json_array_append_new(links, json_pack("{s:s%, s:I}", "link", optarg,
                                                   (size_t)(eq - optarg), "to", (json_int_t)to));
            break;
        }
        case 'c':
            comment = optarg;
            break;
        case 'h':
            printf("Usage: %s --template ID --type TYPE [OPTION]...\n"
                   "Create a record with its create transition.\n"
                   "\n"
                   "      --template ID         the workflow template\n"
                   "      --type TYPE           the record type, e.g. REQ\n"
                   "      --transition ID       the create transition, if the type has several\n"
                   "  -f, --field NAME=VALUE    set a field; VALUE is JSON if it parses as JSON\n"
                   "                            (2, true, [\"a\"], {\"k\":1}, \"quoted\"), else text\n"
                   "      --json-fields FILE    fields from a JSON object in FILE ('-': standard\n"
                   "                            input); --field values win\n"
                   "      --link LINK=ID        link the new record to record ID, e.g. parent=12\n"
                   "  -c, --comment TEXT        a comment with the creation\n" COMMON_HELP,
                   argv[0]);
            rc = UF_EXIT_OK;
            goto out;
        default:
            if (run_option(&r, c, optarg))
                break;
            rc = uf_cmdline_try_help(argv[0]);
            goto out;
        }
    }
    if (!tpl)
        uf_error_set(&r.err, UF_E_USAGE, "missing --template ID");
    else if (!type)
        uf_error_set(&r.err, UF_E_USAGE, "missing --type TYPE");
    else if (optind != argc)
        uf_error_set(&r.err, UF_E_USAGE, "unexpected argument '%s'", argv[optind]);
    if (r.err.code != UF_OK)
        goto usage;
    bool ok = merge_fields(&fields, fields_file, &r.err);
    json_t *body = ok ? json_pack("{s:s, s:s, s:O}", "template", tpl, "type", type, "fields",
                                  fields)
                      : NULL;
    if (ok && !body)
        ok = uf_error_set(&r.err, UF_E_USAGE, "--template and --type must be UTF-8");
    if (ok && transition)
        json_object_set_new(body, "transition", json_string(transition));
    if (ok && comment)
        json_object_set_new(body, "comment", json_string(comment));
    if (ok && json_array_size(links))
        json_object_set(body, "links", links);
    ok = ok && run_connect(&r) && run_call(&r, "POST", "/api/v1/records", body);
    json_decref(body);
    rc = run_end(&r, ok, print_created);
    goto out;
usage:
    rc = uf_cmdline_fail(argv[0], &r.err);
out:
    json_decref(fields);
    json_decref(links);
    return rc;
}

/* ---- list ---------------------------------------------------------------------------- */

static void print_table(const run *r)
{
    uf_view_table(json_object_get(r->resp.body, "items"));
    if (r->more)
        fprintf(stderr, "%s: more records follow: use --all, or filters\n", r->prog);
}

/* Replace the answer by {"items": all}, as if the server had sent every page at once. */
static bool keep_all(run *r, json_t *all)
{
    json_t *out = json_pack("{s:O}", "items", all);
    char *text = out ? json_dumps(out, JSON_INDENT(2)) : NULL;
    uf_response_clear(&r->resp);
    r->resp.body = out;
    bool ok = text && uf_buf_append_str(&r->resp.raw, text, &r->err);
    free(text);
    return ok || uf_error_set(&r->err, UF_E_NOMEM, "format the list");
}

static int list_main(int argc, char **argv)
{
    /* query parameters, in the order of the API; the options carry OPT_FILTER + index */
    struct {
        const char *name, *value;
    } filter[] = {{"state", NULL}, {"assignee", NULL}, {"template", NULL}, {"type", NULL},
                  {"sla", NULL},   {"limit", NULL}};
    enum { F_SLA = 4, F_LIMIT = 5, N_FILTERS = 6 };
    static const struct option options[] = {
        {"state", required_argument, NULL, OPT_FILTER + 0},
        {"assignee", required_argument, NULL, OPT_FILTER + 1},
        {"template", required_argument, NULL, OPT_FILTER + 2},
        {"type", required_argument, NULL, OPT_FILTER + 3},
        {"sla", required_argument, NULL, OPT_FILTER + F_SLA},
        {"limit", required_argument, NULL, OPT_FILTER + F_LIMIT},
        {"all", no_argument, NULL, OPT_ALL},
        COMMON_OPTIONS,
    };
    run r;
    run_init(&r, argv[0]);
    bool all = false;
    int64_t limit = 0;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (c) {
        case OPT_ALL:
            all = true;
            break;
        case 'h':
            printf("Usage: %s [OPTION]...\n"
                   "List records, newest first, as a table: id, type, state, assignee, last\n"
                   "update, and the record's title (or summary, subject, name).\n"
                   "\n"
                   "      --state STATE         only records in STATE\n"
                   "      --assignee USER       only records assigned to USER\n"
                   "      --template ID         only records of template ID\n"
                   "      --type TYPE           only records of TYPE\n"
                   "      --sla at_risk|breached  only records whose SLA clock is at risk or\n"
                   "                            breached\n"
                   "      --limit N             records per page, 1 to 500 (default 50)\n"
                   "      --all                 follow the pages to the end (with --json: one\n"
                   "                            {\"items\": [...]} of every page)\n" COMMON_HELP,
                   argv[0]);
            return UF_EXIT_OK;
        default:
            if (c >= OPT_FILTER && c < OPT_FILTER + N_FILTERS) {
                filter[c - OPT_FILTER].value = optarg;
                break;
            }
            if (run_option(&r, c, optarg))
                break;
            return uf_cmdline_try_help(argv[0]);
        }
    }
    if (optind != argc)
        return uf_cmdline_usage_error(argv[0], "unexpected argument '%s'", argv[optind]);
    const char *sla = filter[F_SLA].value;
    if (sla && strcmp(sla, "at_risk") != 0 && strcmp(sla, "breached") != 0)
        return uf_cmdline_usage_error(argv[0], "--sla: expected at_risk or breached");
    if (filter[F_LIMIT].value && (!parse_id(filter[F_LIMIT].value, &limit) || limit > 500))
        return uf_cmdline_usage_error(argv[0], "--limit: expected 1 to 500");

    bool ok = run_connect(&r);
    json_t *items = json_array();
    int64_t cursor = 0;
    do {
        uf_buf path = UF_BUF_INIT;
        ok = ok && uf_buf_append_str(&path, "/api/v1/records", &r.err);
        for (size_t i = 0; ok && i < N_FILTERS; i++)
            ok = !filter[i].value ||
                 uf_client_query(r.client, &path, filter[i].name, filter[i].value, &r.err);
        char cursor_text[24];
        snprintf(cursor_text, sizeof cursor_text, "%" PRId64, cursor);
        ok = ok && (cursor == 0 || uf_client_query(r.client, &path, "cursor", cursor_text, &r.err));
        ok = ok && run_call(&r, "GET", path.data, NULL);
        uf_buf_free(&path);
        json_t *page;
        ok = ok && uf_json_get_array(r.resp.body, "", "items", &page, &r.err);
        if (ok)
            json_array_extend(items, page);
        json_t *next = json_object_get(r.resp.body, "next_cursor");
        r.more = ok && json_is_integer(next);
        if (r.more && cursor != 0 && json_integer_value(next) >= cursor)
            ok = uf_error_set(&r.err, UF_E_INTERNAL, "the server's cursor does not advance");
        cursor = r.more ? (int64_t)json_integer_value(next) : 0;
    } while (ok && all && r.more);
    if (ok && all)
        ok = keep_all(&r, items);
    json_decref(items);
    return run_end(&r, ok, print_table);
}

/* ---- show ---------------------------------------------------------------------------- */

static void print_record(const run *r) { uf_view_record(r->resp.body); }

static int show_main(int argc, char **argv)
{
    static const struct option options[] = {COMMON_OPTIONS};
    run r;
    run_init(&r, argv[0]);
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        if (c == 'h') {
            printf("Usage: %s ID [OPTION]...\n"
                   "Show a record: its state, fields, links and the transitions you may try.\n"
                   "\n" COMMON_HELP,
                   argv[0]);
            return UF_EXIT_OK;
        }
        if (!run_option(&r, c, optarg))
            return uf_cmdline_try_help(argv[0]);
    }
    if (!run_positional(&r, argc, argv, NULL))
        return uf_cmdline_fail(argv[0], &r.err);
    char path[64];
    record_path(&r, "", path, sizeof path);
    bool ok = run_connect(&r) && run_call(&r, "GET", path, NULL);
    return run_end(&r, ok, print_record);
}

/* ---- move ---------------------------------------------------------------------------- */

static void print_moved(const run *r)
{
    printf("record %" PRId64 ": ", r->id);
    uf_client_print_text(stdout, r->arg);
    fputs(" done, now in state ", stdout);
    uf_view_state(r->resp.body);
    putchar('\n');
}

static void print_edited(const run *r)
{
    printf("record %" PRId64 " changed, revision %" PRId64 "\n", r->id,
           (int64_t)json_integer_value(json_object_get(r->resp.body, "revision")));
}

/* `move ID TRANSITION` fires a transition with fields; `edit ID` (edit true) only changes
 * fields (PATCH), e.g. to set what an approval will be bound to before asking for it. */
static int change_main(int argc, char **argv, bool edit)
{
    static const struct option options[] = {
        {"field", required_argument, NULL, 'f'},
        {"json-fields", required_argument, NULL, OPT_JSON_FIELDS},
        {"comment", required_argument, NULL, 'c'},
        {"revision", required_argument, NULL, OPT_REVISION},
        COMMON_OPTIONS,
    };
    run r;
    run_init(&r, argv[0]);
    const char *fields_file = NULL, *comment = NULL, *revision_text = NULL;
    json_t *fields = json_object();
    int64_t revision = 0;
    int c, rc;
    optind = 0;
    while ((c = getopt_long(argc, argv, "f:c:h", options, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (!add_field(fields, optarg, &r.err))
                goto usage;
            break;
        case OPT_JSON_FIELDS:
            fields_file = optarg;
            break;
        case 'c':
            comment = optarg;
            break;
        case OPT_REVISION:
            revision_text = optarg;
            break;
        case 'h':
            if (edit)
                printf("Usage: %s ID --field NAME=VALUE... [OPTION]...\n"
                       "Change fields of a record outside a transition.\n"
                       "\n"
                       "  -f, --field NAME=VALUE    a field to set (VALUE as for 'request create')\n"
                       "      --json-fields FILE    fields from a JSON object in FILE\n"
                       "      --revision N          refuse if the record changed since revision N\n"
                       "                            (default: its current revision)\n" COMMON_HELP,
                       argv[0]);
            else
                printf("Usage: %s ID TRANSITION [OPTION]...\n"
                   "Fire a transition on a record. If it is refused, every unmet guard is\n"
                   "listed, one per line.\n"
                   "\n"
                   "  -f, --field NAME=VALUE    set a field with the transition (VALUE as for\n"
                   "                            'request create')\n"
                   "      --json-fields FILE    fields from a JSON object in FILE\n"
                   "  -c, --comment TEXT        a comment with the transition\n"
                   "      --revision N          refuse if the record changed since revision N\n"
                   "                            (default: its current revision)\n" COMMON_HELP,
                   argv[0]);
            rc = UF_EXIT_OK;
            goto out;
        default:
            if (run_option(&r, c, optarg))
                break;
            rc = uf_cmdline_try_help(argv[0]);
            goto out;
        }
    }
    if (!run_positional(&r, argc, argv, edit ? NULL : "a TRANSITION"))
        goto usage;
    if (edit && comment) {
        uf_error_set(&r.err, UF_E_USAGE, "--comment goes with 'request move' or 'request comment'");
        goto usage;
    }
    if (revision_text && !parse_id(revision_text, &revision)) {
        uf_error_set(&r.err, UF_E_USAGE, "--revision: expected a positive number");
        goto usage;
    }
    char path[96];
    record_path(&r, "", path, sizeof path);
    bool ok = merge_fields(&fields, fields_file, &r.err) && run_connect(&r);
    /* without --revision, whatever the record is at now */
    if (ok && !revision_text)
        ok = run_call(&r, "GET", path, NULL) &&
             uf_json_get_int(r.resp.body, "", "revision", &revision, &r.err);
    if (ok && edit && json_object_size(fields) == 0)
        ok = uf_error_set(&r.err, UF_E_USAGE, "nothing to change: give --field or --json-fields");
    json_t *body = !ok ? NULL
                   : edit ? json_pack("{s:I, s:O}", "revision", (json_int_t)revision, "fields", fields)
                          : json_pack("{s:s, s:I}", "transition", r.arg, "revision", (json_int_t)revision);
    if (ok && !body)
        ok = uf_error_set(&r.err, UF_E_USAGE, "TRANSITION must be UTF-8");
    if (ok && !edit && json_object_size(fields))
        json_object_set(body, "fields", fields);
    if (ok && comment)
        json_object_set_new(body, "comment", json_string(comment));
    if (!edit)
        record_path(&r, "/transitions", path, sizeof path);
    ok = ok && run_call(&r, edit ? "PATCH" : "POST", path, body);
    json_decref(body);
    rc = run_end(&r, ok, edit ? print_edited : print_moved);
    goto out;
usage:
    rc = uf_cmdline_fail(argv[0], &r.err);
out:
    json_decref(fields);
    return rc;
}

static int move_main(int argc, char **argv) { return change_main(argc, argv, false); }
static int edit_main(int argc, char **argv) { return change_main(argc, argv, true); }

/* ---- approve and reject -------------------------------------------------------------- */

static void print_decision(const run *r)
{
    uf_view_decision(r->resp.body, r->id, r->arg, r->approve);
}

static int decide(int argc, char **argv, bool approve)
{
    static const struct option options[] = {
        {"comment", required_argument, NULL, 'c'},
        {"on-behalf-of", required_argument, NULL, OPT_ON_BEHALF_OF},
        {"evidence", required_argument, NULL, OPT_EVIDENCE},
        COMMON_OPTIONS,
    };
    run r;
    run_init(&r, argv[0]);
    r.approve = approve;
    const char *comment = NULL, *principal = NULL, *evidence_text = NULL;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
        switch (c) {
        case 'c':
            comment = optarg;
            break;
        case OPT_ON_BEHALF_OF:
            principal = optarg;
            break;
        case OPT_EVIDENCE:
            evidence_text = optarg;
            break;
        case 'h':
            printf("Usage: %s ID TRANSITION %s\n"
                   "          [--on-behalf-of USER --evidence ATTACHMENT_ID]\n"
                   "%s\n"
                   "\n"
                   "  -c, --comment TEXT        why%s\n"
                   "      --on-behalf-of USER   record the decision of USER (who signed on\n"
                   "                            paper), with --evidence\n"
                   "      --evidence ID         the attachment that shows USER's decision\n"
                   COMMON_HELP,
                   argv[0], approve ? "[--comment TEXT]" : "--comment TEXT",
                   approve ? "Approve a transition of a record. When the quorum is met and the "
                             "template says so,\nthe transition fires."
                           : "Reject a transition of a record, saying why.",
                   approve ? "" : " (required)");
            return UF_EXIT_OK;
        default:
            if (run_option(&r, c, optarg))
                break;
            return uf_cmdline_try_help(argv[0]);
        }
    }
    int64_t evidence = 0;
    if (!run_positional(&r, argc, argv, "a TRANSITION"))
        return uf_cmdline_fail(argv[0], &r.err);
    if (!approve && (!comment || !*comment))
        return uf_cmdline_usage_error(argv[0], "a rejection needs --comment TEXT");
    if (!principal != !evidence_text)
        return uf_cmdline_usage_error(argv[0], "--on-behalf-of and --evidence go together");
    if (evidence_text && !parse_id(evidence_text, &evidence))
        return uf_cmdline_usage_error(argv[0], "--evidence: expected an attachment ID");
    json_t *body = json_pack("{s:s, s:s}", "transition", r.arg, "decision",
                             approve ? "approve" : "reject");
    if (!body)
        return uf_cmdline_usage_error(argv[0], "TRANSITION must be UTF-8");
    if (comment)
        json_object_set_new(body, "comment", json_string(comment));
    if (principal) {
        json_object_set_new(body, "on_behalf_of", json_string(principal));
        json_object_set_new(body, "evidence", json_integer(evidence));
    }
    char path[96];
    record_path(&r, "/approvals", path, sizeof path);
    bool ok = run_connect(&r) && run_call(&r, "POST", path, body);
    json_decref(body);
    return run_end(&r, ok, print_decision);
}

static int approve_main(int argc, char **argv) { return decide(argc, argv, true); }
static int reject_main(int argc, char **argv) { return decide(argc, argv, false); }

/* ---- comment ------------------------------------------------------------------------- */

static void print_commented(const run *r)
{
    printf("comment %" PRId64 " added to record %" PRId64 "%s\n", uf_view_int(r->resp.body, "id"),
           r->id,
           json_is_true(json_object_get(r->resp.body, "customer_visible")) ? " (customer-visible)"
                                                                          : "");
}

static int comment_main(int argc, char **argv)
{
    static const struct option options[] = {
        {"customer-visible", no_argument, NULL, OPT_CUSTOMER_VISIBLE},
        COMMON_OPTIONS,
    };
    run r;
    run_init(&r, argv[0]);
    bool visible = false;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (c) {
        case OPT_CUSTOMER_VISIBLE:
            visible = true;
            break;
        case 'h':
            printf("Usage: %s ID TEXT [--customer-visible]\n"
                   "Add a comment to a record; internal unless --customer-visible.\n"
                   "\n"
                   "      --customer-visible    the customer's users see it too\n" COMMON_HELP,
                   argv[0]);
            return UF_EXIT_OK;
        default:
            if (run_option(&r, c, optarg))
                break;
            return uf_cmdline_try_help(argv[0]);
        }
    }
    if (!run_positional(&r, argc, argv, "the TEXT"))
        return uf_cmdline_fail(argv[0], &r.err);
    if (!*r.arg)
        return uf_cmdline_usage_error(argv[0], "empty comment");
    json_t *body = json_pack("{s:s, s:b}", "body", r.arg, "customer_visible", visible);
    if (!body)
        return uf_cmdline_usage_error(argv[0], "the comment must be UTF-8");
    char path[96];
    record_path(&r, "/comments", path, sizeof path);
    bool ok = run_connect(&r) && run_call(&r, "POST", path, body);
    json_decref(body);
    return run_end(&r, ok, print_commented);
}

/* ---- attach -------------------------------------------------------------------------- */

static void print_attached(const run *r)
{
    printf("attachment %" PRId64 " on record %" PRId64 ": ", uf_view_int(r->resp.body, "id"),
           r->id);
    uf_client_print_text(stdout, uf_view_str(r->resp.body, "filename", r->filename));
    printf(", %" PRId64 " bytes, sha256 %s\n", uf_view_int(r->resp.body, "size"), r->sha256);
}

static int attach_main(int argc, char **argv)
{
    static const struct option options[] = {
        {"kind", required_argument, NULL, OPT_KIND},
        {"name", required_argument, NULL, OPT_NAME},
        COMMON_OPTIONS,
    };
    run r;
    run_init(&r, argv[0]);
    const char *kind = NULL;
    int c;
    optind = 0;
    while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (c) {
        case OPT_KIND:
            kind = optarg;
            break;
        case OPT_NAME:
            r.filename = optarg;
            break;
        case 'h':
            printf("Usage: %s ID FILE --kind KIND [--name FILENAME]\n"
                   "Attach FILE to a record. Its SHA-256 is computed here and sent along, so\n"
                   "the server refuses an upload that arrives different.\n"
                   "\n"
                   "      --kind KIND           what the file is, e.g. test_report\n"
                   "      --name FILENAME       the name to store (default: FILE's name)\n" COMMON_HELP,
                   argv[0]);
            return UF_EXIT_OK;
        default:
            if (run_option(&r, c, optarg))
                break;
            return uf_cmdline_try_help(argv[0]);
        }
    }
    if (!run_positional(&r, argc, argv, "a FILE"))
        return uf_cmdline_fail(argv[0], &r.err);
    if (!kind || !*kind)
        return uf_cmdline_usage_error(argv[0], "missing --kind KIND");
    const char *file = r.arg;
    if (!r.filename) {
        const char *slash = strrchr(file, '/');
        r.filename = slash ? slash + 1 : file;
    }
    if (!*r.filename)
        return uf_cmdline_usage_error(argv[0], "no file name in '%s': give --name", file);

    char path[96];
    record_path(&r, "/attachments", path, sizeof path);
    uf_buf url = UF_BUF_INIT;
    bool ok = uf_hash_file_hex(UF_HASH_SHA256, file, r.sha256, &r.err) && run_connect(&r) &&
              uf_buf_append_str(&url, path, &r.err) &&
              uf_client_query(r.client, &url, "kind", kind, &r.err) &&
              uf_client_query(r.client, &url, "filename", r.filename, &r.err) &&
              uf_client_query(r.client, &url, "sha256", r.sha256, &r.err) &&
              uf_client_upload(r.client, url.data, file, &r.resp, &r.err);
    uf_buf_free(&url);
    const char *stored = uf_view_str(r.resp.body, "sha256", "");
    if (ok && strcmp(stored, r.sha256) != 0)
        ok = uf_error_set(&r.err, UF_E_HASH_MISMATCH, "the server stored SHA-256 %s, not %s",
                          stored, r.sha256);
    return run_end(&r, ok, print_attached);
}

int cmd_request(int argc, char **argv)
{
    static const uf_subcommand sub[] = {
        {"create", "create a record", create_main},
        {"list", "list records, with filters", list_main},
        {"show", "show a record and the transitions you may try", show_main},
        {"move", "fire a transition", move_main},
        {"edit", "change fields outside a transition", edit_main},
        {"approve", "approve a transition", approve_main},
        {"reject", "reject a transition, saying why", reject_main},
        {"comment", "add a comment", comment_main},
        {"attach", "attach a file", attach_main},
        {NULL, NULL, NULL},
    };
    return uf_subcommand_group(sub, argc, argv);
}
