/*
 * fault.h - crash on purpose at a named point, so tests can prove that a power cut at any
 * write, fsync or rename leaves the device bootable and the journal true.
 *
 *     UPFLOW_FAULT_POINT=journal.rename.after:2   _exit(99) the 2nd time that point is reached
 *     UPFLOW_FAULT_LIST=/tmp/points               append the name of every point reached
 *
 * main() reads the environment once into a uf_fault it owns and passes it down; code that
 * writes durably calls uf_fault_point() at each step. There is no process-wide state: a
 * NULL uf_fault, or one with no point named, makes every call a no-op apart from counting.
 * Point names are "<site>.<step>.<before|after>": sites are journal, grub, sim and uboot;
 * steps are write, fsync, rename and dirsync (uboot: store, which libubootenv does whole).
 * Tree releases add the sites tree, current (handler_tree.h) and treejson, and the step
 * remove.
 */
#ifndef UPFLOW_AGENT_FAULT_H
#define UPFLOW_AGENT_FAULT_H

#include <limits.h>
#include <stdbool.h>

#include "lib/error.h"
#include "lib/fileio.h"

#define UF_FAULT_EXIT 99
#define UF_FAULT_NAME_MAX 64

typedef struct uf_fault {
    char point[UF_FAULT_NAME_MAX]; /* where to crash; "" = nowhere */
    unsigned long nth;             /* crash when point is reached for the nth time (1 = first) */
    unsigned long point_hits;      /* times point has been reached so far */
    unsigned long reached;         /* points of any name reached so far */
    char list_path[PATH_MAX];      /* "" = do not record the names of points reached */
} uf_fault;

/* Set up from a spec "name[:n]" (NULL or "" = no crash point) and a list path (NULL or ""
 * = no list). A malformed spec is UF_E_USAGE. */
bool uf_fault_init(uf_fault *f, const char *spec, const char *list_path, uf_error *err);
/* uf_fault_init from UPFLOW_FAULT_POINT and UPFLOW_FAULT_LIST. */
bool uf_fault_from_env(uf_fault *f, uf_error *err);
/* Count the point, record it in the list, and _exit(UF_FAULT_EXIT) if it is the one named,
 * reached for the nth time. f may be NULL. */
void uf_fault_point(uf_fault *f, const char *name);

/* A file observer (see fileio.h) that turns each step of an atomic write into the point
 * "<site>.<step>.<before|after>". The site must outlive the write. */
typedef struct uf_fault_site {
    uf_fault *fault;
    const char *site; /* "journal", "grub", ... */
} uf_fault_site;

uf_file_observer uf_fault_observer(uf_fault_site *site);

#endif
