/* src/train/train_internal.h - what the trainer's files share privately. */
#ifndef GANCL_TRAIN_INTERNAL_H
#define GANCL_TRAIN_INTERNAL_H

#include "gancl/train.h"

/* Rebuilds tr->perm for the epoch in progress from tr->st's shuffle state. */
void gc_trainer_shuffle(gc_trainer *tr);

/* The seed of stream `stream` of a run seed (splitmix64): cfg.seed gives
 * streams 1 (initialisation) to 4 (fixed noise) and 5 (DiffAugment);
 * fixed_seed gives 1 (FID samples) and 2 (the diversity diagnostic). */
uint64_t gc_train_derive_seed(uint64_t seed, uint64_t stream);

/* The EMA's decay at its update t (1, 2, ...): min(ema, (1 + t) / (10 + t)). */
float gc_trainer_ema_decay(float ema, int64_t t);

#endif
