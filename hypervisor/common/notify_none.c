/* SPDX-License-Identifier: MIT */
/*
 * Dom0's notification line (keel/notify.h) before it exists: a weak
 * definition that the line's own (the KEEL0001 device) replaces at link
 * time. Until then nothing interrupts Dom0, and its device model finds
 * requests by polling the ioreq page.
 */
#include <keel/notify.h>

__attribute__((weak)) void dom0_notify(void)
{
}
