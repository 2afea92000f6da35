/* SPDX-License-Identifier: MIT */
/* What the `kl` subcommands (toolstack/kl/) share. */
#ifndef KL_KL_H
#define KL_KL_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include <kl/libkeel.h>

/* Says why a /dev/keel call failed (err: a positive errno); returns -1. */
int kl_device_error(const char *what, int err);

/* The owners' pid files: KL_RUN_DIR/kl-NAME.pid (kl create). */
#define KL_RUN_DIR "/run/keel"
/* What kl shutdown and kl reboot send a domain's owner (kl create). */
#define KL_SIG_SHUTDOWN SIGUSR1
#define KL_SIG_REBOOT	SIGUSR2
/* The global fd, or -1 after saying why. */
int kl_open_keel(void);
/*
 * The domain `arg` names (name or domid) into *info: 0, or -1 after
 * saying it does not exist. `cmd` prefixes the messages.
 */
int kl_find_domain(int fd, const char *cmd, const char *arg,
		   struct keel_domain_info *info);
/* True for -h, --help. */
bool kl_is_help(const char *arg);

/*
 * Attaches the terminal to domid's console until Ctrl-] (0 after
 * detaching) or the domain's end (0); -1 after an error it reported.
 */
int kl_console_attach(int fd, uint32_t domid, const char *name);

int kl_cmd_list(int argc, char **argv);
int kl_cmd_destroy(int argc, char **argv);
int kl_cmd_shutdown(int argc, char **argv);
int kl_cmd_reboot(int argc, char **argv);
int kl_cmd_pause(int argc, char **argv);
int kl_cmd_unpause(int argc, char **argv);
int kl_cmd_console(int argc, char **argv);
int kl_cmd_dmesg(int argc, char **argv);
int kl_cmd_vcpu_list(int argc, char **argv);
int kl_cmd_vcpu_pin(int argc, char **argv);
int kl_cmd_sched_credit(int argc, char **argv);
int kl_cmd_create(int argc, char **argv);
int kl_cmd_top(int argc, char **argv);
int kl_cmd_trace(int argc, char **argv);

#endif
