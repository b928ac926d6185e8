/*
 * image_io.h - whole-buffer reads and writes at an offset, shared by the image modules
 * (image.c, image_create.c, image_apply.c); not part of the public API.
 */
#ifndef UPFLOW_IMAGE_IO_H
#define UPFLOW_IMAGE_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"

/* Read exactly len bytes at off. A file that ends first is UF_E_IO "file ends at N, before M";
 * the caller prefixes what it was reading. */
bool uf_image_read_at(int fd, void *buf, size_t len, uint64_t off, uf_error *err);
/* Write all of buf at off, or at the file position when off is UF_IMAGE_AT_END (which also
 * works on pipes). */
#define UF_IMAGE_AT_END UINT64_MAX
bool uf_image_write_at(int fd, const void *buf, size_t len, uint64_t off, uf_error *err);

#endif
