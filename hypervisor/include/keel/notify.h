/* SPDX-License-Identifier: MIT */
#ifndef KEEL_NOTIFY_H
#define KEEL_NOTIFY_H

void dom0_notify(void);

#endif
