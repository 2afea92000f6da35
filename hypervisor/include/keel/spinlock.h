/* SPDX-License-Identifier: MIT */
/* Ticket spinlocks: FIFO fairness between physical CPUs. */
#ifndef KEEL_SPINLOCK_H
#define KEEL_SPINLOCK_H

#include <keel/io.h>
#include <keel/lib.h>

typedef struct {
	volatile uint16_t next, owner;
} spinlock_t;

#define SPINLOCK_INIT                                                          \
	{                                                                      \
		0, 0                                                           \
	}

static inline void spin_lock(spinlock_t *l)
{
	uint16_t me = __atomic_fetch_add(&l->next, 1, __ATOMIC_ACQUIRE);

	while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != me)
		cpu_relax();
}

static inline void spin_unlock(spinlock_t *l)
{
	__atomic_store_n(&l->owner, l->owner + 1, __ATOMIC_RELEASE);
}

static inline bool spin_is_locked(const spinlock_t *l)
{
	return __atomic_load_n(&l->next, __ATOMIC_RELAXED) !=
	       __atomic_load_n(&l->owner, __ATOMIC_RELAXED);
}

/*
 * For code whose caller must hold l (like FreeBSD's VIOAPIC_LOCKED). A
 * ticket lock has no owner field: this catches a caller holding nothing,
 * not one relying on a lock another CPU holds.
 */
#define ASSERT_LOCKED(l)                                                       \
	do {                                                                   \
		if (!spin_is_locked(l))                                        \
			panic("%s: %s is not held", __func__, #l);             \
	} while (0)

static inline uint64_t spin_lock_irqsave(spinlock_t *l)
{
	uint64_t flags = irq_save();

	spin_lock(l);
	return flags;
}

static inline void spin_unlock_irqrestore(spinlock_t *l, uint64_t flags)
{
	spin_unlock(l);
	irq_restore(flags);
}

#endif
