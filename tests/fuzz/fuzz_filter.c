/*
 * fuzz_filter.c - libFuzzer target for device filters: any bytes give a filter or a clear
 * error (UF_E_INVALID or UF_E_TOO_LARGE with a message), never a crash, a leak or undefined
 * behaviour. Every accepted filter's canonical text must parse again to the same canonical
 * text and match the same devices, checked against fixed attribute objects.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/filter.h"
#include "lib/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const devices[] = {
    "{\"hw\": \"rev2\", \"site\": \"shanghai\", \"version\": \"2.2.9\","
    " \"tags\": [\"pilot\", \"north\"], \"customer\": \"acme\","
    " \"inventory\": {\"cpu\": \"cortex-a53\", \"ram_mb\": 512}, \"count\": 12, \"ratio\": 0.1,"
    " \"beta\": true, \"gone\": null, \"mixed\": [1, \"2.0\", {\"k\": \"v\"}, [\"x\"]]}",
    "{\"hw\": \"rev1\", \"version\": \"v2.3.0-rc.1+b7\", \"b\": \"\", \"x\": \"and\"}",
    "{}",
};

static void check_round_trip(const uf_filter *f)
{
    char *text = uf_filter_text(f);
    if (!text)
        abort();
    uf_error err;
    uf_filter *again = uf_filter_parse(text, &err);
    if (!again)
        abort(); /* the canonical text of an accepted filter always parses */
    char *text2 = uf_filter_text(again);
    if (!text2 || strcmp(text, text2) != 0)
        abort();
    for (size_t i = 0; i < sizeof devices / sizeof devices[0]; i++) {
        json_t *attrs = uf_json_parse(devices[i], strlen(devices[i]), NULL, &err);
        if (!attrs || uf_filter_match(f, attrs) != uf_filter_match(again, attrs))
            abort();
        json_decref(attrs);
    }
    free(text);
    free(text2);
    uf_filter_free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 2 * UF_FILTER_MAX_TEXT)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    uf_error err;
    uf_error_clear(&err);
    uf_filter *f = uf_filter_parse(text, &err);
    free(text);
    if (!f) {
        if ((err.code != UF_E_INVALID && err.code != UF_E_TOO_LARGE) || err.msg[0] == '\0')
            abort(); /* every failure must say what went wrong */
        return 0;
    }
    check_round_trip(f);
    uf_filter_free(f);
    return 0;
}
