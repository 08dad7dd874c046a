/* src/train/train_internal.h - what the trainer's files share privately. */
#ifndef GANCL_TRAIN_INTERNAL_H
#define GANCL_TRAIN_INTERNAL_H

#include "gancl/train.h"

/* Rebuilds tr->perm for the epoch in progress from tr->st's shuffle state. */
void gc_trainer_shuffle(gc_trainer *tr);

#endif
