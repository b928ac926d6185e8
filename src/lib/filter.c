/*
 * filter.c - device filter expressions: parsing, matching and canonical text (see filter.h
 * and docs/device-filters.md).
 *
 * A recursive-descent parser over an on-demand lexer builds a small tree: OR and AND nodes
 * with two or more children, NOT with one, and leaves that compare one attribute (`in` is a
 * comparison with several values) or test that it is present. The tree is never changed after
 * parsing, which is what makes a filter shareable between threads. Recursion is bounded by
 * the depth limit, which counts every `(` and `not`, so a hostile filter cannot exhaust the
 * stack in the parser, the matcher or the printer.
 */
#include "lib/filter.h"

#include <ctype.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/buf.h"
#include "lib/version_order.h"

typedef enum { NODE_OR, NODE_AND, NODE_NOT, NODE_CMP, NODE_HAS } node_kind;
typedef enum { OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE, OP_GLOB, OP_IN } cmp_op;

static const char *const op_text[] = {"=", "!=", "<", "<=", ">", ">=", "~", "in"};
static const char *const keywords[] = {"and", "or", "not", "in", "has"};

typedef struct value {
    char *text;
    bool semver; /* uf_version_is_semver(text), decided once */
} value;

typedef struct node {
    node_kind kind;
    cmp_op op;          /* NODE_CMP */
    char *name;         /* NODE_CMP, NODE_HAS */
    value *values;      /* NODE_CMP: one, or the list of `in` */
    size_t n_values;
    struct node **kids; /* NODE_OR, NODE_AND: two or more; NODE_NOT: one */
    size_t n_kids;
} node;

struct uf_filter {
    node *root;
};

/* ---- lexer ---------------------------------------------------------------------------- */

typedef enum { T_END, T_WORD, T_STRING, T_OP, T_LPAREN, T_RPAREN, T_COMMA } tok_type;

typedef struct token {
    tok_type type;
    cmp_op op;         /* T_OP */
    const char *start; /* in the text; a T_STRING still has its quotes and escapes */
    size_t len;
    size_t col; /* 1-based byte column */
} token;

typedef struct parser {
    const char *text;
    size_t pos;
    token tok; /* the current token */
    size_t depth, terms;
    uf_error *err;
} parser;

static bool fail(parser *p, size_t col, uf_code code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static bool fail(parser *p, size_t col, uf_code code, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return uf_error_set(p->err, code, "filter: column %zu: %s", col, msg);
}

static bool no_memory(parser *p)
{
    return uf_error_set(p->err, UF_E_NOMEM, "filter: out of memory");
}

static bool is_word_char(char c)
{
    return isalnum((unsigned char)c) || c == '_' || c == '.' || c == ':' || c == '/' ||
           c == '+' || c == '-';
}

static bool is_keyword_text(const char *s, size_t len)
{
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
        if (strlen(keywords[i]) == len && strncasecmp(s, keywords[i], len) == 0)
            return true;
    return false;
}

static bool is_keyword(const token *t, const char *kw)
{
    return t->type == T_WORD && t->len == strlen(kw) && strncasecmp(t->start, kw, t->len) == 0;
}

/* [A-Za-z_][A-Za-z0-9_.-]*, and not a keyword */
static bool is_name(const token *t)
{
    if (t->type != T_WORD || !(isalpha((unsigned char)t->start[0]) || t->start[0] == '_'))
        return false;
    for (size_t i = 1; i < t->len; i++)
        if (t->start[i] == ':' || t->start[i] == '/' || t->start[i] == '+')
            return false;
    return !is_keyword_text(t->start, t->len);
}

static bool lex_string(parser *p)
{
    const char *s = p->text;
    size_t i = p->pos + 1;
    while (s[i] != '"') {
        if (s[i] == '\0')
            return fail(p, p->tok.col, UF_E_INVALID, "unterminated string");
        if (s[i] == '\\' && s[i + 1] != '\0') {
            if (s[i + 1] != '"' && s[i + 1] != '\\')
                return fail(p, i + 1, UF_E_INVALID,
                            "unknown escape in string (only \\\" and \\\\ are allowed)");
            i++;
        }
        i++;
    }
    p->tok.type = T_STRING;
    p->tok.len = i + 1 - p->pos;
    return true;
}

static bool lex_operator(parser *p)
{
    const char *s = p->text + p->pos;
    static const struct {
        const char *text;
        cmp_op op;
    } ops[] = {{"!=", OP_NE}, {"<=", OP_LE}, {">=", OP_GE}, {"=", OP_EQ},
               {"<", OP_LT},  {">", OP_GT},  {"~", OP_GLOB}};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        size_t n = strlen(ops[i].text);
        if (strncmp(s, ops[i].text, n) == 0) {
            p->tok.type = T_OP;
            p->tok.op = ops[i].op;
            p->tok.len = n;
            return true;
        }
    }
    if (isprint((unsigned char)*s))
        return fail(p, p->tok.col, UF_E_INVALID, "unexpected character '%c'", *s);
    return fail(p, p->tok.col, UF_E_INVALID, "unexpected byte 0x%02x", (unsigned char)*s);
}

/* Read the next token into p->tok. */
static bool lex(parser *p)
{
    p->pos += p->tok.len;
    while (strchr(" \t\r\n", p->text[p->pos]) && p->text[p->pos] != '\0')
        p->pos++;
    token *t = &p->tok;
    const char *s = p->text + p->pos;
    t->start = s;
    t->col = p->pos + 1;
    t->len = 1;
    switch (*s) {
    case '\0':
        t->type = T_END;
        t->len = 0;
        return true;
    case '(':
        t->type = T_LPAREN;
        return true;
    case ')':
        t->type = T_RPAREN;
        return true;
    case ',':
        t->type = T_COMMA;
        return true;
    case '"':
        return lex_string(p);
    default:
        break;
    }
    if (!is_word_char(*s))
        return lex_operator(p);
    t->type = T_WORD;
    for (t->len = 0; is_word_char(s[t->len]);)
        t->len++;
    return true;
}

/* ---- tree ----------------------------------------------------------------------------- */

static void node_free(node *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n_kids; i++)
        node_free(n->kids[i]);
    for (size_t i = 0; i < n->n_values; i++)
        free(n->values[i].text);
    free(n->kids);
    free(n->values);
    free(n->name);
    free(n);
}

static node *node_new(parser *p, node_kind kind)
{
    node *n = calloc(1, sizeof *n);
    if (!n)
        no_memory(p);
    else
        n->kind = kind;
    return n;
}

/* Append kid to n; on failure kid is freed (n keeps what it had). */
static bool add_kid(parser *p, node *n, node *kid)
{
    node **kids = realloc(n->kids, (n->n_kids + 1) * sizeof *kids);
    if (!kids) {
        node_free(kid);
        return no_memory(p);
    }
    n->kids = kids;
    n->kids[n->n_kids++] = kid;
    return true;
}

/* The current token's text, without quotes and escapes. */
static char *token_text(parser *p)
{
    const token *t = &p->tok;
    char *out = malloc(t->len + 1);
    if (!out) {
        no_memory(p);
        return NULL;
    }
    if (t->type != T_STRING) {
        memcpy(out, t->start, t->len);
        out[t->len] = '\0';
        return out;
    }
    size_t n = 0;
    for (size_t i = 1; i + 1 < t->len; i++) {
        if (t->start[i] == '\\')
            i++;
        out[n++] = t->start[i];
    }
    out[n] = '\0';
    return out;
}

/* ---- parser --------------------------------------------------------------------------- */

static bool parse_or(parser *p, node **out);
static bool parse_unary(parser *p, node **out);

/* Excerpt of a token for messages: "after '<'" */
static int excerpt_len(const token *t)
{
    return (int)(t->len > 40 ? 40 : t->len);
}

static bool count_term(parser *p)
{
    if (++p->terms > UF_FILTER_MAX_TERMS)
        return fail(p, p->tok.col, UF_E_TOO_LARGE, "more than %d terms", UF_FILTER_MAX_TERMS);
    return true;
}

/* A value (bare word or string) after the token `after`, appended to n's values. */
static bool parse_value(parser *p, node *n, const token *after)
{
    const token *t = &p->tok;
    if (t->type != T_STRING && (t->type != T_WORD || is_keyword_text(t->start, t->len)))
        return fail(p, t->col, UF_E_INVALID, "expected a value after '%.*s'",
                    excerpt_len(after), after->start);
    value *values = realloc(n->values, (n->n_values + 1) * sizeof *values);
    if (!values)
        return no_memory(p);
    n->values = values;
    char *text = token_text(p);
    if (!text)
        return false;
    n->values[n->n_values++] = (value){text, uf_version_is_semver(text)};
    return lex(p);
}

/* ( V1, V2, ... ) after `in` */
static bool parse_list(parser *p, node *n)
{
    if (p->tok.type != T_LPAREN)
        return fail(p, p->tok.col, UF_E_INVALID, "expected '(' after 'in'");
    for (;;) {
        token after = p->tok;
        if (!lex(p) || !parse_value(p, n, &after))
            return false;
        if (p->tok.type == T_RPAREN)
            return lex(p);
        if (p->tok.type != T_COMMA)
            return fail(p, p->tok.col, UF_E_INVALID, "expected ',' or ')' in the list after 'in'");
    }
}

/* NAME OP VALUE | NAME in (...) */
static bool parse_comparison(parser *p, node **out)
{
    node *n = node_new(p, NODE_CMP);
    if (!n || !count_term(p) || !(n->name = token_text(p)))
        goto fail;
    token name = p->tok;
    if (!lex(p))
        goto fail;
    token op = p->tok;
    bool ok;
    if (op.type == T_OP) {
        n->op = op.op;
        ok = lex(p) && parse_value(p, n, &op);
    } else if (is_keyword(&op, "in")) {
        n->op = OP_IN;
        ok = lex(p) && parse_list(p, n);
    } else {
        ok = fail(p, op.col, UF_E_INVALID,
                  "expected an operator (=, !=, <, <=, >, >=, ~ or in) after '%.*s'",
                  excerpt_len(&name), name.start);
    }
    if (!ok)
        goto fail;
    *out = n;
    return true;
fail:
    node_free(n);
    return false;
}

/* has NAME */
static bool parse_has(parser *p, node **out)
{
    if (!count_term(p) || !lex(p))
        return false;
    if (!is_name(&p->tok))
        return fail(p, p->tok.col, UF_E_INVALID, "expected an attribute name after 'has'");
    node *n = node_new(p, NODE_HAS);
    if (!n || !(n->name = token_text(p)) || !lex(p)) {
        node_free(n);
        return false;
    }
    *out = n;
    return true;
}

/* not UNARY | ( OR ), with the current token (`not` or `(`) already read */
static bool parse_nested(parser *p, node **out)
{
    token open = p->tok;
    if (++p->depth > UF_FILTER_MAX_DEPTH)
        return fail(p, open.col, UF_E_TOO_LARGE, "nested deeper than %d", UF_FILTER_MAX_DEPTH);
    if (!lex(p))
        return false;
    if (open.type == T_LPAREN) {
        if (!parse_or(p, out))
            return false;
        if (p->tok.type != T_RPAREN) {
            node_free(*out);
            return fail(p, p->tok.col, UF_E_INVALID,
                        "expected ')' to close the '(' at column %zu", open.col);
        }
        p->depth--;
        if (!lex(p)) {
            node_free(*out);
            return false;
        }
        return true;
    }
    node *kid, *n;
    if (!parse_unary(p, &kid))
        return false;
    if (!(n = node_new(p, NODE_NOT)) || !add_kid(p, n, kid)) {
        node_free(n ? n : kid);
        return false;
    }
    p->depth--;
    *out = n;
    return true;
}

static bool parse_unary(parser *p, node **out)
{
    const token *t = &p->tok;
    if (t->type == T_LPAREN || is_keyword(t, "not"))
        return parse_nested(p, out);
    if (is_keyword(t, "has"))
        return parse_has(p, out);
    if (is_name(t))
        return parse_comparison(p, out);
    return fail(p, t->col, UF_E_INVALID, "expected an attribute name, 'not', 'has' or '('");
}

/* OPERAND (KEYWORD OPERAND)*: `or` over `and` terms, `and` over unary terms. */
static bool parse_chain(parser *p, node_kind kind, node **out)
{
    const char *kw = kind == NODE_OR ? "or" : "and";
    node *first, *n = NULL, *kid;
    bool ok = kind == NODE_OR ? parse_chain(p, NODE_AND, &first) : parse_unary(p, &first);
    if (!ok)
        return false;
    if (!is_keyword(&p->tok, kw)) {
        *out = first;
        return true;
    }
    if (!(n = node_new(p, kind)) || !add_kid(p, n, first)) {
        node_free(n ? n : first);
        return false;
    }
    while (is_keyword(&p->tok, kw)) {
        ok = lex(p) &&
             (kind == NODE_OR ? parse_chain(p, NODE_AND, &kid) : parse_unary(p, &kid)) &&
             add_kid(p, n, kid);
        if (!ok) {
            node_free(n);
            return false;
        }
    }
    *out = n;
    return true;
}

static bool parse_or(parser *p, node **out)
{
    return parse_chain(p, NODE_OR, out);
}

/* ---- canonical text ------------------------------------------------------------------- */

static bool is_bare_value(const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++)
        if (!is_word_char(s[i]))
            return false;
    return n > 0 && !is_keyword_text(s, n);
}

static bool write_value(uf_buf *b, const char *s, uf_error *err)
{
    if (is_bare_value(s))
        return uf_buf_append_str(b, s, err);
    if (!uf_buf_append_char(b, '"', err))
        return false;
    for (; *s; s++)
        if ((strchr("\"\\", *s) && !uf_buf_append_char(b, '\\', err)) ||
            !uf_buf_append_char(b, *s, err))
            return false;
    return uf_buf_append_char(b, '"', err);
}

static bool write_comparison(uf_buf *b, const node *n, uf_error *err)
{
    if (!uf_buf_printf(b, err, "%s %s ", n->name, op_text[n->op]))
        return false;
    if (n->op != OP_IN)
        return write_value(b, n->values[0].text, err);
    for (size_t i = 0; i < n->n_values; i++)
        if (!uf_buf_append_str(b, i == 0 ? "(" : ", ", err) ||
            !write_value(b, n->values[i].text, err))
            return false;
    return uf_buf_append_char(b, ')', err);
}

/* Binding strength: a child binding less tightly than its parent needs parentheses. */
static int precedence(node_kind kind)
{
    return kind == NODE_OR ? 1 : kind == NODE_AND ? 2 : kind == NODE_NOT ? 3 : 4;
}

static bool write_node(uf_buf *b, const node *n, uf_error *err);

static bool write_kid(uf_buf *b, const node *parent, const node *kid, uf_error *err)
{
    bool parens = precedence(kid->kind) < precedence(parent->kind);
    return (!parens || uf_buf_append_char(b, '(', err)) && write_node(b, kid, err) &&
           (!parens || uf_buf_append_char(b, ')', err));
}

static bool write_node(uf_buf *b, const node *n, uf_error *err)
{
    switch (n->kind) {
    case NODE_OR:
    case NODE_AND:
        for (size_t i = 0; i < n->n_kids; i++)
            if ((i > 0 && !uf_buf_append_str(b, n->kind == NODE_OR ? " or " : " and ", err)) ||
                !write_kid(b, n, n->kids[i], err))
                return false;
        return true;
    case NODE_NOT:
        return uf_buf_append_str(b, "not ", err) && write_kid(b, n, n->kids[0], err);
    case NODE_HAS:
        return uf_buf_printf(b, err, "has %s", n->name);
    case NODE_CMP:
        return write_comparison(b, n, err);
    }
    return uf_error_set(err, UF_E_INTERNAL, "filter: unknown node kind %d", (int)n->kind);
}

char *uf_filter_text(const uf_filter *f)
{
    uf_buf b = UF_BUF_INIT;
    if (!f || !write_node(&b, f->root, NULL)) {
        uf_buf_free(&b);
        return NULL;
    }
    return uf_buf_steal(&b, NULL, NULL);
}

/* The canonical text must parse again, so it is held to the same length limit. */
static bool check_canonical_length(const node *root, uf_error *err)
{
    uf_buf b = UF_BUF_INIT;
    b.limit = UF_FILTER_MAX_TEXT;
    bool ok = write_node(&b, root, err);
    uf_buf_free(&b);
    if (!ok && err && err->code == UF_E_TOO_LARGE)
        uf_error_set(err, UF_E_TOO_LARGE, "filter: canonical form is longer than %d bytes",
                     UF_FILTER_MAX_TEXT);
    return ok;
}

uf_filter *uf_filter_parse(const char *text, uf_error *err)
{
    if (!text) {
        uf_error_set(err, UF_E_INVALID, "filter: no text");
        return NULL;
    }
    size_t len = strnlen(text, UF_FILTER_MAX_TEXT + 1);
    if (len > UF_FILTER_MAX_TEXT) {
        uf_error_set(err, UF_E_TOO_LARGE, "filter: longer than %d bytes", UF_FILTER_MAX_TEXT);
        return NULL;
    }
    parser p = {.text = text, .err = err};
    node *root = NULL;
    if (!lex(&p) || !parse_or(&p, &root))
        return NULL;
    bool ok = true;
    if (p.tok.type == T_RPAREN)
        ok = fail(&p, p.tok.col, UF_E_INVALID, "')' without a matching '('");
    else if (p.tok.type != T_END)
        ok = fail(&p, p.tok.col, UF_E_INVALID, "expected 'and', 'or' or the end of the filter");
    uf_filter *f = NULL;
    if (ok && check_canonical_length(root, err) && !(f = malloc(sizeof *f)))
        no_memory(&p);
    if (!f) {
        node_free(root);
        return NULL;
    }
    f->root = root;
    return f;
}

void uf_filter_free(uf_filter *f)
{
    if (!f)
        return;
    node_free(f->root);
    free(f);
}

/* ---- matching ------------------------------------------------------------------------- */

/* The attribute a dotted name points to, or NULL when absent or null. */
static const json_t *lookup(const json_t *attrs, const char *name)
{
    const json_t *v = attrs;
    for (;;) {
        size_t n = strcspn(name, ".");
        if (!json_is_object(v) || !(v = json_object_getn(v, name, n)))
            return NULL;
        if (name[n] == '\0')
            return json_is_null(v) ? NULL : v;
        name += n + 1;
    }
}

/* The shortest text that reads back as the same double: 0.1, not 0.10000000000000001. */
static void real_text(double d, char *buf, size_t len)
{
    for (int precision = 1; precision <= 17; precision++) {
        snprintf(buf, len, "%.*g", precision, d);
        if (strtod(buf, NULL) == d)
            return;
    }
}

/* The text a scalar compares by; false for arrays and objects. */
static bool scalar_text(const json_t *v, char *buf, size_t len, const char **out)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        *out = json_string_value(v);
        return true;
    case JSON_INTEGER:
        snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        break;
    case JSON_REAL:
        real_text(json_real_value(v), buf, len);
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        snprintf(buf, len, "%s", json_is_true(v) ? "true" : "false");
        break;
    default:
        return false;
    }
    *out = buf;
    return true;
}

/* `=`: the same text, or two semantic versions of equal precedence (2.3 = 2.3.0). */
static bool values_equal(const char *have, const value *want)
{
    return strcmp(have, want->text) == 0 ||
           (want->semver && uf_version_is_semver(have) &&
            uf_version_compare(have, want->text) == 0);
}

static bool scalar_matches(cmp_op op, const value *want, const json_t *v)
{
    char buf[64];
    const char *have;
    if (!scalar_text(v, buf, sizeof buf, &have))
        return false;
    switch (op) {
    case OP_EQ:
        return values_equal(have, want);
    case OP_GLOB:
        return fnmatch(want->text, have, 0) == 0;
    case OP_LT:
        return uf_version_compare(have, want->text) < 0;
    case OP_LE:
        return uf_version_compare(have, want->text) <= 0;
    case OP_GT:
        return uf_version_compare(have, want->text) > 0;
    case OP_GE:
        return uf_version_compare(have, want->text) >= 0;
    case OP_NE:
    case OP_IN:
        break; /* matched through OP_EQ */
    }
    return false;
}

/* An array matches `=` and `~` when any element does; ordering never matches an array. */
static bool attribute_matches(cmp_op op, const value *want, const json_t *v)
{
    if (!v)
        return false;
    if (!json_is_array(v))
        return scalar_matches(op, want, v);
    if (op != OP_EQ && op != OP_GLOB)
        return false;
    size_t i;
    const json_t *e;
    json_array_foreach(v, i, e)
        if (scalar_matches(op, want, e))
            return true;
    return false;
}

/* `!=` is `not =`, and `in` is `=` against any value of the list. */
static bool comparison_matches(const node *n, const json_t *attrs)
{
    const json_t *v = lookup(attrs, n->name);
    cmp_op op = n->op == OP_NE || n->op == OP_IN ? OP_EQ : n->op;
    bool any = false;
    for (size_t i = 0; i < n->n_values && !any; i++)
        any = attribute_matches(op, &n->values[i], v);
    return n->op == OP_NE ? !any : any;
}

static bool node_matches(const node *n, const json_t *attrs)
{
    switch (n->kind) {
    case NODE_OR:
    case NODE_AND: {
        bool want = n->kind == NODE_OR; /* the answer that decides early */
        for (size_t i = 0; i < n->n_kids; i++)
            if (node_matches(n->kids[i], attrs) == want)
                return want;
        return !want;
    }
    case NODE_NOT:
        return !node_matches(n->kids[0], attrs);
    case NODE_HAS:
        return lookup(attrs, n->name) != NULL;
    case NODE_CMP:
        return comparison_matches(n, attrs);
    }
    return false;
}

bool uf_filter_match(const uf_filter *f, const json_t *attrs)
{
    return f && node_matches(f->root, attrs);
}
