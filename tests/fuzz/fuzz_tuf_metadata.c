/*
 * fuzz_tuf_metadata.c - libFuzzer target for the TUF metadata parser: any bytes, read as each
 * of the four roles, must give metadata or an error with a code and a message naming the file,
 * never a crash, a leak or undefined behaviour. Parsed metadata is also put through what the
 * client does with it: signature checks (a root against itself), meta and target look-ups,
 * delegation path matching and content checks.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/tuf_metadata.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uf_tuf_type types[] = {UF_TUF_ROOT, UF_TUF_TIMESTAMP, UF_TUF_SNAPSHOT,
                                        UF_TUF_TARGETS};
    for (size_t t = 0; t < 4; t++) {
        uf_error err;
        uf_error_clear(&err);
        uf_tuf_metadata *md = uf_tuf_metadata_parse("fuzz.json", types[t], data, size, 65536,
                                                    &err);
        if (!md) {
            if (err.code == UF_OK || strncmp(err.msg, "fuzz.json", 9) != 0)
                abort(); /* every refusal names the file and has a code */
            continue;
        }
        uf_tuf_meta_info info;
        uf_tuf_target_info target;
        switch (types[t]) {
        case UF_TUF_ROOT:
            uf_tuf_verify_with_root(md, md, "root", &err);
            uf_tuf_verify_with_root(md, md, "timestamp", &err);
            break;
        case UF_TUF_TIMESTAMP:
        case UF_TUF_SNAPSHOT:
            if (uf_tuf_meta_get(md, "snapshot.json", &info, &err) ||
                uf_tuf_meta_get(md, "targets.json", &info, &err))
                uf_tuf_check_content("x", info.hashes, info.length, data, size, &err);
            break;
        case UF_TUF_TARGETS: {
            if (uf_tuf_target_get(md, "file1.txt", &target))
                uf_tuf_check_content("file1.txt", target.hashes, target.length, data, size, &err);
            const json_t *roles = json_object_get(uf_tuf_delegations(md), "roles");
            for (size_t i = 0; i < json_array_size(roles); i++)
                uf_tuf_delegation_matches(json_array_get(roles, i), "a/b/file1.txt");
            break;
        }
        }
        uf_tuf_expired(md, 0);
        uf_tuf_metadata_free(md);
    }
    return 0;
}
