/* src/io/dataset_internal.h - class-name lists shared by dataset.c and
 * dataset_write.c. */
#ifndef GANCL_IO_DATASET_INTERNAL_H
#define GANCL_IO_DATASET_INTERNAL_H

#include "gancl/status.h"

/* A copy of k names (malloc'ed array of malloc'ed strings); a NULL names
 * or a NULL entry becomes the class number ("0", "1", ...). */
gc_status gc_dataset_copy_names(char *const *names, int k, char ***out);
void gc_dataset_free_names(char **names, int k);

/* qsort order of class folder names (char * elements): names of digits by
 * value, then the rest by bytes. */
int gc_dataset_cmp_class(const void *a, const void *b);

#endif
