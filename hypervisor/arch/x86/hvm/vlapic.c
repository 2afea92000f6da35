/* SPDX-License-Identifier: MIT */
/*
 * Virtual local APIC (Intel SDM vol. 3A ch. 11): register file, priority
 * (TPR/PPR/ISR/IRR), ICR, error reporting and the timer in one-shot,
 * periodic and TSC-deadline modes, reachable as xAPIC MMIO or x2APIC MSRs.
 *
 * Guest accesses are decoded once into a register offset (the xAPIC page
 * offset; x2APIC MSR 0x800 + n is offset n << 4, SDM §11.12.1.2) and handled
 * by one read and one write routine that know both modes' rules:
 *  - xAPIC: bits outside a register's defined fields are ignored on write,
 *    writes to read-only registers are ignored (the hardware has no way to
 *    fault an MMIO write), undefined offsets are -EINVAL.
 *  - x2APIC: reserved bits are RsvdZ, a WRMSR setting one faults (§11.12.1.3),
 *    and so do writes to read-only and reads of write-only registers (Table
 *    11-6). Read-only status bits (delivery status, remote IRR) are not
 *    reserved: writes ignore them.
 */
#include <keel/errno.h>
#include <keel/lib.h>
#include <keel/vlapic.h>

/* Register offsets in the APIC page (SDM vol. 3A Table 11-1, Table 11-6). */
#define APIC_ID	      0x020u
#define APIC_VERSION  0x030u
#define APIC_TPR      0x080u
#define APIC_PPR      0x0A0u
#define APIC_EOI      0x0B0u
#define APIC_LDR      0x0D0u
#define APIC_DFR      0x0E0u
#define APIC_SVR      0x0F0u
#define APIC_ISR0     0x100u
#define APIC_TMR0     0x180u
#define APIC_IRR0     0x200u
#define APIC_ESR      0x280u
#define APIC_ICR_LOW  0x300u
#define APIC_ICR_HIGH 0x310u
#define APIC_LVT0     0x320u /* LVT timer; the others follow every 0x10 */
#define APIC_TMICT    0x380u
#define APIC_TMCCT    0x390u
#define APIC_TDCR     0x3E0u
#define APIC_SELF_IPI 0x3F0u
#define APIC_PAGE     0x1000u

/*
 * Version register (§11.4.8): version 0x14 (an integrated xAPIC), max LVT
 * entry 5 = six LVT entries (timer, thermal, perf, LINT0, LINT1, error).
 * No CMCI entry (its MSR 0x82F then does not exist) and bit 24, EOI-broadcast
 * suppression, clear: every level EOI reaches the vIOAPIC, which is how it
 * learns to clear Remote IRR.
 */
#define APIC_VERSION_VALUE 0x00050014u

/* IA32_APIC_BASE (§11.4.4). Bits 63:52 are beyond any MAXPHYADDR. */
#define APIC_BASE_BSP  BIT(8)
#define APIC_BASE_EXTD BIT(10)
#define APIC_BASE_EN   BIT(11)
#define APIC_BASE_ADDR 0x000FFFFFFFFFF000ull
#define APIC_BASE_RESERVED                                                     \
	(~(APIC_BASE_ADDR | APIC_BASE_EN | APIC_BASE_EXTD | APIC_BASE_BSP))

/* Spurious-interrupt vector register (§11.9, Figure 11-23). */
#define SVR_ENABLE   BIT(8)
#define SVR_WRITABLE 0x3FFu /* vector, APIC enable, focus checking */
#define SVR_RESET    0xFFu

/* Local vector table entries (§11.5.1, Figure 11-8). */
#define LVT_MASKED	     BIT(16)
#define LVT_VECTOR	     0xFFu
#define LVT_DELIVERY_STATUS  BIT(12)
#define LVT_REMOTE_IRR	     BIT(14)
#define LVT_TIMER_MODE_SHIFT 17
#define LVT_TIMER_MODE_MASK  (3u << LVT_TIMER_MODE_SHIFT)
#define TIMER_ONESHOT	     0u
#define TIMER_PERIODIC	     1u
#define TIMER_TSC_DEADLINE   2u
#define TIMER_MODE_RESERVED  3u

static const uint32_t lvt_writable[VLAPIC_NR_LVT] = {
    [VLAPIC_LVT_TIMER] = 0x000700FFu,	/* vector, mask, timer mode */
    [VLAPIC_LVT_THERMAL] = 0x000107FFu, /* vector, delivery mode, mask */
    [VLAPIC_LVT_PERF] = 0x000107FFu,
    [VLAPIC_LVT_LINT0] = 0x0001A7FFu, /* + polarity, trigger mode */
    [VLAPIC_LVT_LINT1] = 0x0001A7FFu,
    [VLAPIC_LVT_ERROR] = 0x000100FFu,
};

static const uint32_t lvt_read_only[VLAPIC_NR_LVT] = {
    [VLAPIC_LVT_TIMER] = LVT_DELIVERY_STATUS,
    [VLAPIC_LVT_THERMAL] = LVT_DELIVERY_STATUS,
    [VLAPIC_LVT_PERF] = LVT_DELIVERY_STATUS,
    [VLAPIC_LVT_LINT0] = LVT_DELIVERY_STATUS | LVT_REMOTE_IRR,
    [VLAPIC_LVT_LINT1] = LVT_DELIVERY_STATUS | LVT_REMOTE_IRR,
    [VLAPIC_LVT_ERROR] = LVT_DELIVERY_STATUS,
};

/* Error status register bits Keel reports (§11.5.3, Figure 11-9). */
#define ESR_SEND_ILLEGAL_VECTOR	   BIT(5)
#define ESR_RECEIVE_ILLEGAL_VECTOR BIT(6)

/*
 * ICR (§11.6.1, Figure 11-12; x2APIC layout Figure 11-28). Writable low
 * bits: vector, delivery mode, destination mode, level, trigger mode,
 * shorthand. Delivery status (bit 12) reads 0: IPIs leave synchronously.
 * x2APIC reserved: bits 13, 17:16, 31:20; bit 12 is ignored rather than
 * faulted since xAPIC software may carry it over.
 */
#define ICR_LOW_WRITABLE  0x000CCFFFu
#define ICR_LOW_IGNORED	  BIT(12)
#define ICR_HIGH_XAPIC	  0xFF000000u
#define ICR_DM_RESERVED_3 3u
#define ICR_DM_RESERVED_7 VLAPIC_DM_EXTINT

/* Divide configuration: bits 0, 1 and 3 (§11.5.4, Figure 11-10). */
#define TDCR_WRITABLE 0xBu

#define LDR_XAPIC_WRITABLE 0xFF000000u
#define DFR_MODEL_MASK	   0xF0000000u
#define DFR_MODEL_CLUSTER  0x00000000u

#define FIRST_LEGAL_VECTOR 16u

static uint64_t now_tsc(struct vlapic *l)
{
	return l->env->now_tsc(l->ctx);
}

bool vlapic_enabled(const struct vlapic *l)
{
	return l->apic_base & APIC_BASE_EN;
}

bool vlapic_x2apic_mode(const struct vlapic *l)
{
	return (l->apic_base & (APIC_BASE_EN | APIC_BASE_EXTD)) ==
	       (APIC_BASE_EN | APIC_BASE_EXTD);
}

uint64_t vlapic_base(const struct vlapic *l)
{
	return l->apic_base & APIC_BASE_ADDR;
}

bool vlapic_msr_is_ours(uint32_t msr)
{
	return msr == VLAPIC_MSR_APIC_BASE || msr == VLAPIC_MSR_TSC_DEADLINE ||
	       (msr >= VLAPIC_MSR_X2APIC_FIRST &&
		msr <= VLAPIC_MSR_X2APIC_LAST);
}

/* x2APIC logical ID: cluster = ID[31:4], one bit per ID[3:0] (§11.12.10.2). */
static uint32_t x2apic_ldr(uint32_t id)
{
	return ((id >> 4) << 16) | (1u << (id & 0xF));
}

static bool software_enabled(const struct vlapic *l)
{
	return l->svr & SVR_ENABLE;
}

static void vec_set(uint32_t *reg, uint8_t v)
{
	reg[v / 32] |= 1u << (v % 32);
}

static void vec_clear(uint32_t *reg, uint8_t v)
{
	reg[v / 32] &= ~(1u << (v % 32));
}

static bool vec_test(const uint32_t *reg, uint8_t v)
{
	return reg[v / 32] & (1u << (v % 32));
}

/* Highest vector set in a 256-bit ISR/IRR/TMR, or -1. */
static int vec_highest(const uint32_t *reg)
{
	for (int i = 7; i >= 0; i--)
		if (reg[i])
			return i * 32 + 31 - __builtin_clz(reg[i]);
	return -1;
}

/* Processor priority (§11.8.3.1). */
static uint32_t ppr(const struct vlapic *l)
{
	int isrv = vec_highest(l->isr);
	uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xF0;

	if ((l->tpr & 0xF0) >= isr_class)
		return l->tpr & 0xFF;
	return isr_class;
}

static void set_irr(struct vlapic *l, uint8_t vector, bool level)
{
	vec_set(l->irr, vector);
	if (level)
		vec_set(l->tmr, vector);
	else
		vec_clear(l->tmr, vector);
	l->env->kick(l->ctx);
}

/*
 * Logs an error and signals it through the LVT error entry (§11.5.3). An
 * illegal vector in that entry is itself only logged, so errors cannot
 * recurse.
 */
static void raise_error(struct vlapic *l, uint32_t error)
{
	uint32_t lvt = l->lvt[VLAPIC_LVT_ERROR];
	uint8_t vector = lvt & LVT_VECTOR;

	l->esr_pending |= error;
	if (lvt & LVT_MASKED)
		return;
	if (vector < FIRST_LEGAL_VECTOR) {
		l->esr_pending |= ESR_RECEIVE_ILLEGAL_VECTOR;
		return;
	}
	set_irr(l, vector, false);
}

void vlapic_accept_irq(struct vlapic *l, uint8_t vector, bool level)
{
	if (!vlapic_enabled(l) || !software_enabled(l))
		return;
	if (vector < FIRST_LEGAL_VECTOR) {
		raise_error(l, ESR_RECEIVE_ILLEGAL_VECTOR);
		return;
	}
	set_irr(l, vector, level);
}

int vlapic_pending_irq(struct vlapic *l)
{
	int irrv = vec_highest(l->irr);

	if (!vlapic_enabled(l) || irrv < 0)
		return -1;
	if (((uint32_t)irrv & 0xF0) <= (ppr(l) & 0xF0))
		return -1;
	return irrv;
}

void vlapic_irq_injected(struct vlapic *l, uint8_t vector)
{
	vec_clear(l->irr, vector);
	vec_set(l->isr, vector);
}

void vlapic_irq_requeue(struct vlapic *l, uint8_t vector)
{
	vec_clear(l->isr, vector);
	vec_set(l->irr, vector);
}

void vlapic_dump(const struct vlapic *l)
{
	printk("  vLAPIC: TPR %x, PPR %x, highest ISR %d, highest IRR %d\n",
	       l->tpr, ppr(l), vec_highest(l->isr), vec_highest(l->irr));
}

/* EOI retires the highest in-service vector (§11.8.5). */
static void eoi(struct vlapic *l)
{
	int isrv = vec_highest(l->isr);

	if (isrv < 0)
		return;
	vec_clear(l->isr, (uint8_t)isrv);
	if (vec_test(l->tmr, (uint8_t)isrv))
		l->env->eoi_level(l->ctx, (uint8_t)isrv);
}

bool vlapic_match_dest(const struct vlapic *l, uint32_t dest, bool logical,
		       bool x2apic_dest)
{
	uint32_t broadcast =
	    x2apic_dest ? VLAPIC_X2APIC_BROADCAST : VLAPIC_XAPIC_BROADCAST;
	uint32_t ldr;
	uint8_t logical_id;

	if (!vlapic_enabled(l))
		return false;
	if (dest == broadcast)
		return true;
	if (vlapic_x2apic_mode(l)) {
		/* An 8-bit destination reaches x2APIC IDs 0-254 only. */
		if (!logical)
			return dest == l->id;
		/* x2APIC logical: cluster in 31:16, member mask in 15:0. */
		ldr = x2apic_ldr(l->id);
		return (dest >> 16) == (ldr >> 16) && (dest & ldr & 0xFFFF);
	}
	if (dest > 0xFF)
		return false;
	if (!logical)
		return dest == (l->id & 0xFF);
	/* xAPIC logical (§11.6.2.2): flat bitmap or cluster + 4-bit mask. */
	logical_id = l->ldr >> 24;
	if ((l->dfr & DFR_MODEL_MASK) == DFR_MODEL_CLUSTER)
		return (dest >> 4) == (logical_id >> 4) &&
		       (dest & logical_id & 0xF);
	return dest & logical_id;
}

static void send_icr(struct vlapic *l, bool x2apic)
{
	uint32_t icr = l->icr_low;
	uint32_t mode = VLAPIC_ICR_DELIVERY_MODE(icr);

	/* Reserved delivery modes (Figure 11-12) send nothing. */
	if (mode == ICR_DM_RESERVED_3 || mode == ICR_DM_RESERVED_7)
		return;
	/*
	 * INIT level de-assert (level 0, level-triggered) does nothing on
	 * Pentium 4 and later and in x2APIC mode (§11.6.1); Linux still sends
	 * it between INIT and SIPI. It must not reset the target again.
	 */
	if (mode == VLAPIC_DM_INIT && (icr & VLAPIC_ICR_LEVEL_TRIGGER) &&
	    !(icr & VLAPIC_ICR_LEVEL_ASSERT))
		return;
	if ((mode == VLAPIC_DM_FIXED || mode == VLAPIC_DM_LOWEST) &&
	    VLAPIC_ICR_VECTOR(icr) < FIRST_LEGAL_VECTOR) {
		raise_error(l, ESR_SEND_ILLEGAL_VECTOR);
		return;
	}
	l->env->send_ipi(l->ctx, x2apic ? l->icr_high : l->icr_high >> 24,
			 x2apic, icr);
}

/*
 * Timer (§11.5.4). The count falls by one every `divide` bus clocks; both
 * conversions go through the guest TSC so nothing is ticked.
 */
static uint32_t timer_mode(const struct vlapic *l)
{
	return (l->lvt[VLAPIC_LVT_TIMER] & LVT_TIMER_MODE_MASK) >>
	       LVT_TIMER_MODE_SHIFT;
}

static uint64_t timer_divisor(const struct vlapic *l)
{
	/* Bits 3,1:0 = 000 → 2, 001 → 4, ..., 110 → 128, 111 → 1. */
	uint32_t code = (l->timer_divide & 3) | ((l->timer_divide >> 1) & 4);

	return code == 7 ? 1 : 2ull << code;
}

/*
 * a * mul / div rounded down or up, without 128-bit division (no libgcc in
 * the hypervisor). Exact while mul * div < 2^64, which holds for kHz
 * frequencies below 2^32; saturates instead of wrapping.
 */
static uint64_t muldiv(uint64_t a, uint64_t mul, uint64_t div, bool round_up)
{
	uint64_t q = a / div, r = a % div;
	uint64_t low = r * mul;
	uint64_t tail = low / div + (round_up && low % div);
	uint64_t head;

	if (q && mul > UINT64_MAX / q)
		return UINT64_MAX;
	head = q * mul;
	return head > UINT64_MAX - tail ? UINT64_MAX : head + tail;
}

/* Whole counts elapsed in tsc_delta guest TSC ticks. */
static uint64_t tsc_to_counts(const struct vlapic *l, uint64_t tsc_delta)
{
	return muldiv(tsc_delta, l->bus_khz, l->tsc_khz, false) /
	       timer_divisor(l);
}

/* Guest TSC ticks until `counts` counts have certainly elapsed. */
static uint64_t counts_to_tsc(const struct vlapic *l, uint64_t counts)
{
	uint64_t div = timer_divisor(l);
	uint64_t bus = counts > UINT64_MAX / div ? UINT64_MAX : counts * div;

	return muldiv(bus, l->tsc_khz, l->bus_khz, true);
}

/* Counts elapsed since count_start (0 if now is before it). */
static uint64_t counts_elapsed(const struct vlapic *l, uint64_t now)
{
	return now > l->count_start ? tsc_to_counts(l, now - l->count_start)
				    : 0;
}

/*
 * The shortest period of periodic mode, as KVM's min_timer_period_us: with
 * an initial count of 1 and divide-by-1 a guest would ask for an interrupt,
 * and so an exit, every few nanoseconds, at the cost of every vCPU that
 * shares its CPU. One-shot and TSC-deadline timers need a guest write (an
 * exit of its own) for each expiry and are not limited.
 */
#define PERIODIC_MIN_US 100

static uint64_t counts_to_expiry(const struct vlapic *l, uint64_t counts)
{
	uint64_t t = counts_to_tsc(l, counts);
	uint64_t min = muldiv(PERIODIC_MIN_US, l->tsc_khz, 1000, true);

	return timer_mode(l) == TIMER_PERIODIC && t < min ? min : t;
}

static void timer_start_count(struct vlapic *l, uint64_t now, uint64_t value)
{
	l->count_start = now;
	l->count_value = value;
	l->timer_expiry = value ? now + counts_to_expiry(l, value) : 0;
}

static uint32_t timer_current_count(const struct vlapic *l, uint64_t now)
{
	uint64_t elapsed, past_zero;

	/* TSC-deadline mode: the current count reads 0 (§11.5.4.1). */
	if (timer_mode(l) == TIMER_TSC_DEADLINE || !l->timer_expiry)
		return 0;
	elapsed = counts_elapsed(l, now);
	if (elapsed < l->count_value)
		return (uint32_t)(l->count_value - elapsed);
	if (timer_mode(l) != TIMER_PERIODIC)
		return 0;
	/* Periodic: reloaded from the initial count at every zero. */
	past_zero = elapsed - l->count_value;
	return l->timer_initial - (uint32_t)(past_zero % l->timer_initial);
}

/*
 * Brings the timer up to now: if an expiry has passed, deliver it (the
 * LVT mask is read now, so an expiry while masked is lost, as on hardware)
 * and disarm or reload.
 */
static void timer_advance(struct vlapic *l, uint64_t now)
{
	uint32_t lvt = l->lvt[VLAPIC_LVT_TIMER];
	uint64_t elapsed, periods, last_zero;

	if (!l->timer_expiry || now < l->timer_expiry)
		return;
	switch (timer_mode(l)) {
	case TIMER_PERIODIC:
		/*
		 * Rebase on the last zero crossing so the numbers stay small;
		 * missed periods coalesce into one interrupt.
		 */
		elapsed = counts_elapsed(l, now);
		periods = elapsed > l->count_value
			      ? (elapsed - l->count_value) / l->timer_initial
			      : 0;
		last_zero = l->count_value + periods * l->timer_initial;
		timer_start_count(l,
				  l->count_start + counts_to_tsc(l, last_zero),
				  l->timer_initial);
		break;
	case TIMER_TSC_DEADLINE:
		l->tsc_deadline = 0; /* the MSR reads 0 once it fired */
		l->timer_expiry = 0;
		break;
	case TIMER_ONESHOT:
		l->timer_expiry = 0;
		break;
	}
	/* Delivered last: kick() may already look at the new deadline. */
	if (!(lvt & LVT_MASKED))
		vlapic_accept_irq(l, lvt & LVT_VECTOR, false);
}

uint64_t vlapic_timer_deadline(const struct vlapic *l)
{
	if (l->lvt[VLAPIC_LVT_TIMER] & LVT_MASKED)
		return 0;
	return l->timer_expiry;
}

void vlapic_timer_expire(struct vlapic *l, uint64_t now_tsc)
{
	timer_advance(l, now_tsc);
}

static void write_timer_initial(struct vlapic *l, uint32_t value)
{
	/* Ignored in TSC-deadline mode (§11.5.4.1). */
	if (timer_mode(l) == TIMER_TSC_DEADLINE)
		return;
	l->timer_initial = value;
	/* A write restarts the count; 0 stops the timer (§11.5.4). */
	timer_start_count(l, now_tsc(l), value);
}

static void write_timer_divide(struct vlapic *l, uint32_t value)
{
	uint64_t now = now_tsc(l);
	uint32_t remaining;
	bool counting;

	timer_advance(l, now);
	counting = timer_mode(l) != TIMER_TSC_DEADLINE && l->timer_expiry;
	remaining = counting ? timer_current_count(l, now) : 0;
	l->timer_divide = value & TDCR_WRITABLE;
	/* The count continues from where it is, at the new rate. */
	if (counting)
		timer_start_count(l, now, remaining);
}

static int write_lvt(struct vlapic *l, enum vlapic_lvt which, uint64_t val,
		     bool x2apic)
{
	uint32_t writable = lvt_writable[which];
	uint32_t entry, old_mode, new_mode;
	uint64_t now;

	if (x2apic && (val & ~(uint64_t)(writable | lvt_read_only[which])))
		return -EINVAL;
	entry = (uint32_t)val & writable;
	/* A software-disabled APIC keeps every LVT entry masked (§11.4.7.2). */
	if (!software_enabled(l))
		entry |= LVT_MASKED;
	if (which != VLAPIC_LVT_TIMER) {
		l->lvt[which] = entry;
		return 0;
	}

	new_mode = (entry & LVT_TIMER_MODE_MASK) >> LVT_TIMER_MODE_SHIFT;
	old_mode = timer_mode(l);
	if (new_mode == TIMER_MODE_RESERVED) {
		/* Mode 11b is reserved (Figure 11-8): fault, or keep the mode.
		 */
		if (x2apic)
			return -EINVAL;
		entry = (entry & ~LVT_TIMER_MODE_MASK) |
			(old_mode << LVT_TIMER_MODE_SHIFT);
		new_mode = old_mode;
	}
	/* Settle expiries due under the old mask and mode first. */
	now = now_tsc(l);
	timer_advance(l, now);
	l->lvt[VLAPIC_LVT_TIMER] = entry;
	/* Switching to or from TSC-deadline mode disarms (§11.5.4.1). */
	if (old_mode != new_mode && (old_mode == TIMER_TSC_DEADLINE ||
				     new_mode == TIMER_TSC_DEADLINE)) {
		l->timer_initial = 0;
		l->tsc_deadline = 0;
		l->timer_expiry = 0;
	}
	return 0;
}

static void write_svr(struct vlapic *l, uint32_t value)
{
	l->svr = value & SVR_WRITABLE;
	if (!software_enabled(l))
		for (unsigned i = 0; i < VLAPIC_NR_LVT; i++)
			l->lvt[i] |= LVT_MASKED;
}

static void reset_registers(struct vlapic *l)
{
	l->tpr = 0;
	l->ldr = 0;
	l->dfr = 0xFFFFFFFFu;
	l->svr = SVR_RESET;
	for (unsigned i = 0; i < 8; i++)
		l->isr[i] = l->tmr[i] = l->irr[i] = 0;
	l->esr = 0;
	l->esr_pending = 0;
	l->icr_low = 0;
	l->icr_high = 0;
	for (unsigned i = 0; i < VLAPIC_NR_LVT; i++)
		l->lvt[i] = LVT_MASKED;
	l->timer_initial = 0;
	l->timer_divide = 0;
	l->tsc_deadline = 0;
	l->count_start = 0;
	l->count_value = 0;
	l->timer_expiry = 0;
}

void vlapic_reset(struct vlapic *l)
{
	reset_registers(l);
}

void vlapic_init(struct vlapic *l, uint32_t apic_id, bool bsp, uint64_t tsc_khz,
		 uint64_t bus_khz, const struct vlapic_env *env, void *ctx)
{
	ASSERT(tsc_khz && tsc_khz < BIT(32) && bus_khz && bus_khz < BIT(32));
	l->env = env;
	l->ctx = ctx;
	l->tsc_khz = tsc_khz;
	l->bus_khz = bus_khz;
	l->id = apic_id;
	l->apic_base =
	    VLAPIC_DEFAULT_BASE | APIC_BASE_EN | (bsp ? APIC_BASE_BSP : 0);
	reset_registers(l);
}

/*
 * IA32_APIC_BASE writes follow the state machine of §11.12.5 (Figure
 * 11-27): disabled ↔ xAPIC → x2APIC → disabled. x2APIC → xAPIC and
 * disabled → x2APIC fault, as does EXTD without EN. BSP is the platform's
 * to set: writes keep it.
 */
static int write_apic_base(struct vlapic *l, uint64_t val)
{
	bool was_enabled = vlapic_enabled(l),
	     was_x2apic = vlapic_x2apic_mode(l);
	bool en = val & APIC_BASE_EN, extd = val & APIC_BASE_EXTD;

	if (val & APIC_BASE_RESERVED)
		return -EINVAL;
	if (extd && !en)
		return -EINVAL;
	if (was_x2apic && en && !extd)
		return -EINVAL;
	if (!was_enabled && extd)
		return -EINVAL;
	l->apic_base = (val & ~APIC_BASE_BSP) | (l->apic_base & APIC_BASE_BSP);
	/*
	 * A globally disabled APIC loses its state and comes back as after
	 * reset (§11.4.3).
	 */
	if (was_enabled && !en)
		reset_registers(l);
	return 0;
}

/* Reads a register at its page offset; 64-bit only for the x2APIC ICR. */
static int reg_read(struct vlapic *l, uint32_t reg, bool x2apic, uint64_t *val)
{
	switch (reg) {
	case APIC_ID:
		*val = x2apic ? l->id : (l->id & 0xFF) << 24;
		return 0;
	case APIC_VERSION:
		*val = APIC_VERSION_VALUE;
		return 0;
	case APIC_TPR:
		*val = l->tpr;
		return 0;
	case APIC_PPR:
		*val = ppr(l);
		return 0;
	case APIC_EOI:
		/* Write-only: RDMSR faults, an MMIO read sees 0. */
		if (x2apic)
			return -EINVAL;
		*val = 0;
		return 0;
	case APIC_LDR:
		*val = x2apic ? x2apic_ldr(l->id) : l->ldr;
		return 0;
	case APIC_DFR:
		if (x2apic)
			return -EINVAL;
		*val = l->dfr;
		return 0;
	case APIC_SVR:
		*val = l->svr;
		return 0;
	case APIC_ESR:
		*val = l->esr;
		return 0;
	case APIC_ICR_LOW:
		*val = x2apic ? (uint64_t)l->icr_high << 32 | l->icr_low
			      : l->icr_low;
		return 0;
	case APIC_ICR_HIGH:
		if (x2apic)
			return -EINVAL;
		*val = l->icr_high;
		return 0;
	case APIC_TMICT:
		*val = l->timer_initial;
		return 0;
	case APIC_TMCCT:
		*val = timer_current_count(l, now_tsc(l));
		return 0;
	case APIC_TDCR:
		*val = l->timer_divide;
		return 0;
	}
	if (reg >= APIC_ISR0 && reg < APIC_ISR0 + 0x80) {
		*val = l->isr[(reg - APIC_ISR0) >> 4];
		return 0;
	}
	if (reg >= APIC_TMR0 && reg < APIC_TMR0 + 0x80) {
		*val = l->tmr[(reg - APIC_TMR0) >> 4];
		return 0;
	}
	if (reg >= APIC_IRR0 && reg < APIC_IRR0 + 0x80) {
		*val = l->irr[(reg - APIC_IRR0) >> 4];
		return 0;
	}
	if (reg >= APIC_LVT0 && reg < APIC_LVT0 + 0x10 * VLAPIC_NR_LVT) {
		*val = l->lvt[(reg - APIC_LVT0) >> 4];
		return 0;
	}
	/* Undefined, or SELF IPI (write-only, x2APIC only). */
	return -EINVAL;
}

/* x2APIC: a value with bits outside `allowed` faults (§11.12.1.3). */
static bool rsvd_fault(bool x2apic, uint64_t val, uint64_t allowed)
{
	return x2apic && (val & ~allowed);
}

static int reg_write(struct vlapic *l, uint32_t reg, bool x2apic, uint64_t val)
{
	switch (reg) {
	case APIC_TPR:
		if (rsvd_fault(x2apic, val, 0xFF))
			return -EINVAL;
		l->tpr = val & 0xFF;
		return 0;
	case APIC_EOI:
		/* x2APIC: a non-zero EOI write faults (Table 11-6). */
		if (rsvd_fault(x2apic, val, 0))
			return -EINVAL;
		eoi(l);
		return 0;
	case APIC_LDR:
		if (x2apic)
			return -EINVAL;
		l->ldr = val & LDR_XAPIC_WRITABLE;
		return 0;
	case APIC_DFR:
		if (x2apic)
			return -EINVAL;
		/* Bits 27:0 are reserved and read as ones (§11.6.2.2). */
		l->dfr = ((uint32_t)val & DFR_MODEL_MASK) | ~DFR_MODEL_MASK;
		return 0;
	case APIC_SVR:
		if (rsvd_fault(x2apic, val, SVR_WRITABLE))
			return -EINVAL;
		write_svr(l, (uint32_t)val);
		return 0;
	case APIC_ESR:
		/* x2APIC: only 0 may be written (§11.5.3). */
		if (rsvd_fault(x2apic, val, 0))
			return -EINVAL;
		/* The write latches the errors logged since the last one. */
		l->esr = l->esr_pending;
		l->esr_pending = 0;
		return 0;
	case APIC_ICR_LOW:
		if (x2apic) {
			if (val & ~((uint64_t)UINT32_MAX << 32 |
				    ICR_LOW_WRITABLE | ICR_LOW_IGNORED))
				return -EINVAL;
			l->icr_high = (uint32_t)(val >> 32);
		}
		l->icr_low = (uint32_t)val & ICR_LOW_WRITABLE;
		send_icr(l, x2apic);
		return 0;
	case APIC_ICR_HIGH:
		if (x2apic)
			return -EINVAL;
		l->icr_high = (uint32_t)val & ICR_HIGH_XAPIC;
		return 0;
	case APIC_TMICT:
		if (rsvd_fault(x2apic, val, UINT32_MAX))
			return -EINVAL;
		write_timer_initial(l, (uint32_t)val);
		return 0;
	case APIC_TDCR:
		if (rsvd_fault(x2apic, val, TDCR_WRITABLE))
			return -EINVAL;
		write_timer_divide(l, (uint32_t)val);
		return 0;
	case APIC_SELF_IPI:
		/* x2APIC only (§11.12.11); vector in bits 7:0. */
		if (!x2apic || (val & ~(uint64_t)0xFF))
			return -EINVAL;
		vlapic_accept_irq(l, (uint8_t)val, false);
		return 0;
	case APIC_ID:
		/*
		 * Read-only here: the xAPIC ID is writable only on some
		 * models and the SDM tells software not to (§11.4.6). Keel
		 * routes by the fixed ID.
		 */
	case APIC_VERSION:
	case APIC_PPR:
	case APIC_TMCCT:
		return x2apic ? -EINVAL : 0;
	}
	if (reg >= APIC_LVT0 && reg < APIC_LVT0 + 0x10 * VLAPIC_NR_LVT)
		return write_lvt(l, (reg - APIC_LVT0) >> 4, val, x2apic);
	/* ISR, TMR and IRR are read-only. */
	if (reg >= APIC_ISR0 && reg < APIC_IRR0 + 0x80)
		return x2apic ? -EINVAL : 0;
	return -EINVAL;
}

static uint32_t msr_to_reg(uint32_t msr)
{
	return (msr - VLAPIC_MSR_X2APIC_FIRST) << 4;
}

int vlapic_msr_read(struct vlapic *l, uint32_t msr, uint64_t *val)
{
	if (msr == VLAPIC_MSR_APIC_BASE) {
		*val = l->apic_base;
		return 0;
	}
	if (msr == VLAPIC_MSR_TSC_DEADLINE) {
		/* Reads 0 outside TSC-deadline mode (§11.5.4.1). */
		if (timer_mode(l) != TIMER_TSC_DEADLINE) {
			*val = 0;
			return 0;
		}
		timer_advance(l, now_tsc(l));
		*val = l->tsc_deadline;
		return 0;
	}
	if (msr < VLAPIC_MSR_X2APIC_FIRST || msr > VLAPIC_MSR_X2APIC_LAST ||
	    !vlapic_x2apic_mode(l))
		return -EINVAL;
	return reg_read(l, msr_to_reg(msr), true, val);
}

int vlapic_msr_write(struct vlapic *l, uint32_t msr, uint64_t val)
{
	if (msr == VLAPIC_MSR_APIC_BASE)
		return write_apic_base(l, val);
	if (msr == VLAPIC_MSR_TSC_DEADLINE) {
		/* Ignored outside TSC-deadline mode; 0 disarms (§11.5.4.1). */
		if (timer_mode(l) != TIMER_TSC_DEADLINE)
			return 0;
		l->tsc_deadline = val;
		l->timer_expiry = val;
		/* A deadline already passed fires at once. */
		timer_advance(l, now_tsc(l));
		return 0;
	}
	if (msr < VLAPIC_MSR_X2APIC_FIRST || msr > VLAPIC_MSR_X2APIC_LAST ||
	    !vlapic_x2apic_mode(l))
		return -EINVAL;
	/* Only the ICR is 64 bits wide; bits 63:32 elsewhere are reserved. */
	return reg_write(l, msr_to_reg(msr), true, val);
}

static bool mmio_access_valid(uint32_t offset, unsigned size)
{
	return (size == 1 || size == 2 || size == 4 || size == 8) &&
	       offset < APIC_PAGE && size <= APIC_PAGE - offset;
}

/* The page is decoded only by an enabled APIC in xAPIC mode. */
static bool mmio_decoded(const struct vlapic *l)
{
	return vlapic_enabled(l) && !vlapic_x2apic_mode(l);
}

int vlapic_mmio_read(struct vlapic *l, uint32_t offset, unsigned size,
		     uint64_t *val)
{
	if (!mmio_access_valid(offset, size))
		return -EINVAL;
	if (!mmio_decoded(l)) {
		*val = size == 8 ? UINT64_MAX : (1ull << (size * 8)) - 1;
		return 0;
	}
	if (size != 4 || offset % 16)
		return -EINVAL;
	return reg_read(l, offset, false, val);
}

int vlapic_mmio_write(struct vlapic *l, uint32_t offset, unsigned size,
		      uint64_t val)
{
	if (!mmio_access_valid(offset, size))
		return -EINVAL;
	if (!mmio_decoded(l))
		return 0;
	if (size != 4 || offset % 16)
		return -EINVAL;
	return reg_write(l, offset, false, val & UINT32_MAX);
}
