/*
 * test_journal.c - the agent's journal: a missing file is idle, every field survives a round
 * trip, each kind of corrupt file is refused naming the path and the fault, unknown members
 * are ignored, and a crash at each point of a save leaves the old or the new journal whole.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/journal.h"
#include "lib/buf.h"
#include "lib/fileio.h"

static char dir[64], path[128];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/upflow-journal.XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(path, sizeof path, "%s/journal.json", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void sample(uf_journal *j)
{
    uf_journal_init(j);
    j->step = UF_STEP_DOWNLOADING;
    strcpy(j->release, "rel-42");
    strcpy(j->version, "2.1.0");
    j->target_slot = UF_SLOT_B;
    j->chunk = 17;
    j->chunks = 256;
    strcpy(j->reason, "quote \" and é");
    j->started_at = 1767225600;
    j->updated_at = 1767225713;
}

static void write_text(const char *text)
{
    uf_error err;
    assert_true(uf_file_write_atomic(path, text, strlen(text), &err));
}

static void test_missing_is_idle(void **state)
{
    (void)state;
    uf_journal j;
    uf_error err;
    assert_true(uf_journal_load(path, &j, &err));
    assert_int_equal(j.step, UF_STEP_IDLE);
    assert_int_equal(j.target_slot, UF_SLOT_NONE);
    assert_int_equal(j.chunk, -1);
    assert_string_equal(j.release, "");
}

static void test_round_trip(void **state)
{
    (void)state;
    uf_journal j, back;
    uf_error err;
    sample(&j);
    assert_true(uf_journal_save(path, &j, NULL, &err));
    assert_true(uf_journal_load(path, &back, &err));
    assert_memory_equal(&j, &back, sizeof j);
    for (int s = 0; s < UF_STEP_COUNT; s++) {
        j.step = (uf_journal_step)s;
        assert_true(uf_journal_save(path, &j, NULL, &err));
        assert_true(uf_journal_load(path, &back, &err));
        assert_int_equal(back.step, s);
    }
    assert_string_equal(uf_journal_step_name(UF_STEP_ROLLED_BACK), "rolled_back");
}

static void refused(const char *text, uf_code code, const char *why)
{
    uf_journal j;
    uf_error err;
    write_text(text);
    assert_false(uf_journal_load(path, &j, &err));
    assert_int_equal(err.code, code);
    if (!strstr(err.msg, why) || !strstr(err.msg, path) || strncmp(err.msg, "journal", 7))
        fail_msg("'%s' should say 'journal', the path and '%s'", err.msg, why);
    assert_int_equal(j.step, UF_STEP_IDLE);
}

#define VALID_TAIL                                                                            \
    "\"release\": \"r\", \"version\": \"1\", \"target_slot\": \"A\", \"chunk\": -1, "         \
    "\"chunks\": 0, \"reason\": \"\", \"started_at\": 0, \"updated_at\": 0}"

static void test_corrupt_refused(void **state)
{
    (void)state;
    refused("", UF_E_BAD_JSON, "");
    refused("{\"format\": 1, \"step\": \"trial\"", UF_E_BAD_JSON, "");
    refused("[]", UF_E_BAD_FIELD, "expected an object");
    refused("{\"format\": 1, " VALID_TAIL, UF_E_BAD_FIELD, "step: missing");
    refused("{\"format\": 1, \"step\": \"dancing\", " VALID_TAIL, UF_E_BAD_FIELD,
            "unknown step 'dancing'");
    refused("{\"format\": 2, \"step\": \"idle\", " VALID_TAIL, UF_E_UNSUPPORTED, "format 2");
    refused("{\"format\": 1, \"step\": \"idle\", \"target_slot\": \"C\", "
            "\"release\": \"r\", \"version\": \"1\", \"chunk\": -1, \"chunks\": 0, "
            "\"reason\": \"\", \"started_at\": 0, \"updated_at\": 0}",
            UF_E_BAD_FIELD, "target_slot");
    refused("{\"format\": 1, \"step\": \"idle\", \"chunk\": -2, "
            "\"release\": \"r\", \"version\": \"1\", \"target_slot\": \"\", \"chunks\": 0, "
            "\"reason\": \"\", \"started_at\": 0, \"updated_at\": 0}",
            UF_E_BAD_FIELD, "chunk");
}

static void test_unknown_members_ignored(void **state)
{
    (void)state;
    uf_journal j;
    uf_error err;
    write_text("{\"format\": 1, \"step\": \"trial\", \"from_a_newer_agent\": [1, 2], "
               VALID_TAIL);
    assert_true(uf_journal_load(path, &j, &err));
    assert_int_equal(j.step, UF_STEP_TRIAL);
}

/* Save the sample with a crash at point; the child's exit status. */
static int save_crashing_at(const char *point)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        uf_fault fault;
        uf_journal j;
        uf_error err;
        sample(&j);
        if (!uf_fault_init(&fault, point, NULL, &err) ||
            !uf_journal_save(path, &j, &fault, &err))
            _exit(1);
        _exit(0);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void test_crash_at_each_point(void **state)
{
    (void)state;
    char list[160];
    snprintf(list, sizeof list, "%s/points", dir);
    uf_fault fault;
    uf_error err;
    uf_journal j, back;
    sample(&j);
    assert_true(uf_fault_init(&fault, NULL, list, &err));
    assert_true(uf_journal_save(path, &j, &fault, &err));
    assert_int_equal(fault.reached, 8);
    uf_buf names = UF_BUF_INIT;
    assert_true(uf_file_read_capped(list, 4096, &names, &err));
    char *save = NULL;
    for (char *point = strtok_r(names.data, "\n", &save); point;
         point = strtok_r(NULL, "\n", &save)) {
        assert_int_equal(strncmp(point, "journal.", 8), 0);
        uf_journal old;
        uf_journal_init(&old);
        strcpy(old.release, "old");
        assert_true(uf_journal_save(path, &old, NULL, &err));
        assert_int_equal(save_crashing_at(point), UF_FAULT_EXIT);
        assert_true(uf_journal_load(path, &back, &err)); /* whole, old or new */
        bool renamed = strstr(point, "rename.after") || strstr(point, "dirsync");
        assert_string_equal(back.release, renamed ? "rel-42" : "old");
    }
    uf_buf_free(&names);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_missing_is_idle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_members_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_at_each_point, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
