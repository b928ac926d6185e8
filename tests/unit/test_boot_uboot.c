/*
 * test_boot_uboot.c - the U-Boot back-end on a file-backed redundant environment (two
 * copies named by a fw_env.config): the back-end contract, a torn write of the newer copy
 * falls back to the older one, an environment with no valid copy is refused and left as it
 * is, and the fault points around a store.
 *
 * The copies are written here in U-Boot's redundant format, so the test needs no tool:
 * a little-endian CRC-32 of the data area, one flag byte (the copy with the higher flag is
 * the newer), then the data area: "name=value" strings each ended by a NUL, an empty string
 * after the last, and zero padding to the end of the copy.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "boot_contract.h"
#include "lib/buf.h"
#include "lib/fileio.h"

#define ENV_SIZE 0x4000
#define HEADER 5 /* crc + flag */

static void path_of_copy(const boot_fixture *fx, int copy, char *out, size_t size)
{
    snprintf(out, size, "%s/uboot.env%d", fx->dir, copy);
}

/* vars: "a=1\nb=2\n"; NULL writes an erased (all 0xff) copy. */
static void write_copy(const boot_fixture *fx, int copy, unsigned char flag, const char *vars)
{
    unsigned char *img = malloc(ENV_SIZE);
    assert_non_null(img);
    memset(img, vars ? 0 : 0xff, ENV_SIZE);
    if (vars) {
        size_t n = strlen(vars);
        assert_true(n + 2 < ENV_SIZE - HEADER);
        memcpy(img + HEADER, vars, n);
        for (size_t i = HEADER; i < HEADER + n; i++)
            if (img[i] == '\n')
                img[i] = '\0';
        uint32_t crc = (uint32_t)crc32(0, img + HEADER, ENV_SIZE - HEADER);
        for (int i = 0; i < 4; i++)
            img[i] = (unsigned char)(crc >> (8 * i));
        img[4] = flag;
    }
    char path[160];
    path_of_copy(fx, copy, path, sizeof path);
    uf_error err;
    assert_true(uf_file_write_atomic(path, img, ENV_SIZE, &err));
    free(img);
}

/* The variable as U-Boot's own tool (fw_printenv, libubootenv-tool) reads it. */
static char *uboot_raw_get(boot_fixture *fx, const char *name)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "fw_printenv -c '%s' -n '%s' 2>/dev/null", fx->path, name);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[256] = "";
    char *got = fgets(line, sizeof line, p);
    int rc = pclose(p);
    if (!got || rc != 0)
        return NULL;
    line[strcspn(line, "\n")] = '\0';
    return strdup(line);
}

static int setup(void **state)
{
    boot_fixture *fx = calloc(1, sizeof *fx);
    *state = fx;
    if (!fx || boot_fixture_mkdir(fx, "uboot") != 0)
        return -1;
    snprintf(fx->path, sizeof fx->path, "%s/fw_env.config", fx->dir);
    char c0[160], c1[160];
    path_of_copy(fx, 0, c0, sizeof c0);
    path_of_copy(fx, 1, c1, sizeof c1);
    FILE *f = fopen(fx->path, "w");
    if (!f)
        return -1;
    fprintf(f, "# device offset size\n%s 0x0 0x%x\n%s 0x0 0x%x\n", c0, ENV_SIZE, c1, ENV_SIZE);
    fclose(f);
    write_copy(fx, 0, 1, "bootcmd=run upflow_boot\n" BOOT_FOREIGN_NAME "=" BOOT_FOREIGN_VALUE
                         "\nupflow_slot=A\n");
    write_copy(fx, 1, 0, NULL);
    fx->raw_get = uboot_raw_get;
    uf_boot_config cfg = {"uboot", fx->path, NULL, NULL};
    uf_error err;
    return uf_bootloader_open(&cfg, &fx->bl, &err) ? 0 : -1;
}

static void test_torn_write_falls_back_to_older_copy(void **state)
{
    boot_fixture *fx = *state;
    uf_error err;
    assert_true(uf_boot_set_trial(&fx->bl, UF_SLOT_B, &err)); /* goes to copy 1 */
    char c1[160];
    path_of_copy(fx, 1, c1, sizeof c1);
    FILE *f = fopen(c1, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, 100, SEEK_SET), 0);
    fputc(0x55, f); /* as if power failed half way through writing it */
    fclose(f);
    uf_boot_state st;
    assert_true(uf_boot_read(&fx->bl, &st, &err));
    assert_int_equal(st.primary, UF_SLOT_A);
    assert_int_equal(st.trial, UF_SLOT_NONE);
}

static void test_no_valid_copy_refused(void **state)
{
    boot_fixture *fx = *state;
    uf_error err;
    write_copy(fx, 0, 0, NULL);
    boot_assert_read_refused(&fx->bl, UF_E_NOT_FOUND, "fw_setenv");
    assert_false(uf_boot_commit(&fx->bl, UF_SLOT_A, &err));
    char c0[160];
    path_of_copy(fx, 0, c0, sizeof c0);
    uf_buf b = UF_BUF_INIT;
    assert_true(uf_file_read_capped(c0, ENV_SIZE, &b, &err));
    for (size_t i = 0; i < b.len; i++)
        assert_int_equal((unsigned char)b.data[i], 0xff); /* never written */
    uf_buf_free(&b);
}

static void test_bad_config_named(void **state)
{
    boot_fixture *fx = *state;
    uf_bootloader bl;
    char missing[160];
    snprintf(missing, sizeof missing, "%s/none.config", fx->dir);
    uf_boot_config cfg = {"uboot", missing, NULL, NULL};
    uf_error err;
    assert_true(uf_bootloader_open(&cfg, &bl, &err));
    boot_assert_read_refused(&bl, UF_E_INVALID, missing);
    uf_bootloader_close(&bl);
}

static void test_fault_points_around_store(void **state)
{
    boot_fixture *fx = *state;
    uf_fault fault;
    uf_error err;
    assert_true(uf_fault_init(&fault, NULL, NULL, &err));
    uf_bootloader bl;
    boot_fixture_reopen(fx, NULL, &fault, &bl);
    assert_true(uf_boot_commit(&bl, UF_SLOT_B, &err));
    assert_int_equal(fault.reached, 2); /* uboot.store.before, uboot.store.after */
    uf_bootloader_close(&bl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOOT_CONTRACT_TESTS(setup),
        cmocka_unit_test_setup_teardown(test_torn_write_falls_back_to_older_copy, setup,
                                        boot_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_no_valid_copy_refused, setup,
                                        boot_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_bad_config_named, setup, boot_fixture_teardown),
        cmocka_unit_test_setup_teardown(test_fault_points_around_store, setup,
                                        boot_fixture_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
