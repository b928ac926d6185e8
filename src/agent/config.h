/*
 * config.h - upflow-agent's configuration: an INI file (docs/agent.md), then --set flags.
 *
 *     [device]
 *     id        = pump-0042              ; how the server knows this device
 *     tenant    = default
 *     hardware  = rev2                   ; checked against a release's hardware list
 *     version   = 1.0.0                  ; what the factory image in the first slot is
 *     data_dir  = /var/lib/upflow-agent  ; journal, trusted TUF metadata, slot records
 *     [repository]
 *     url  = https://updates.example.com/tuf/default   ; or file:///media/usb/repo
 *     root = /etc/upflow/root.json       ; the first trusted root (installed once)
 *     [server]
 *     url         = https://updates.example.com        ; rollouts (issue #6)
 *     credentials = /etc/upflow/device-token  ; default DATA_DIR/device-token (register)
 *     director_key = /etc/upflow/director.json ; default DATA_DIR/director-key.json
 *     defer       = false                ; true: soft rollouts wait (so does DATA_DIR/defer)
 *     attributes  = site=shanghai,line=3 ; reported in the inventory
 *     [slots]
 *     A = /dev/mmcblk0p2                 ; block devices or files
 *     B = /dev/mmcblk0p3
 *     size = 0                           ; bytes a slot holds; 0 = the device's size
 *     [bootloader]
 *     backend = grub                     ; grub | uboot | sim
 *     path    = /boot/grub/grubenv       ; grubenv file, fw_env.config, or sim state file
 *     cmdline = /proc/cmdline            ; where upflow.slot= tells the running slot
 *     reboot  = systemctl reboot         ; empty: the agent stops and waits to be restarted
 *     [health]
 *     command = systemctl is-system-running --wait   ; repeatable, run in order
 *     monitoring_time = 120              ; seconds for all of them together
 *     [install]
 *     pre  = /usr/lib/upflow/pre-install  ; optional scripts, each with the timeout
 *     post = /usr/lib/upflow/post-install
 *     script_timeout = 300
 *     tree_dir = /opt/app                 ; tree releases (install type "tree") go here:
 *                                         ;   releases/VERSION/, current -> releases/VERSION
 *     tree_keep = 3                       ; releases kept after a commit, the current one too
 *     [retry]
 *     attempts = 5                        ; tries of one download request
 *     backoff = 1                         ; seconds before the first retry, doubled each time
 *     backoff_max = 60
 *
 * An unknown section or key is an error naming the line.
 */
#ifndef UPFLOW_AGENT_CONFIG_H
#define UPFLOW_AGENT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/error.h"

#define AGENT_STR_MAX 512
#define AGENT_MAX_HEALTH 8

typedef struct agent_config {
    char device_id[64];
    char tenant[64];
    char hardware[64];
    char factory_version[64];
    char data_dir[AGENT_STR_MAX];
    char repo_url[AGENT_STR_MAX];
    char root_file[AGENT_STR_MAX];
    char server_url[AGENT_STR_MAX];
    char credentials[AGENT_STR_MAX];
    char director_key[AGENT_STR_MAX];
    char attributes[AGENT_STR_MAX]; /* "key=value,key=value" */
    bool defer;
    char slot_path[2][AGENT_STR_MAX]; /* [0] = A, [1] = B */
    uint64_t slot_size;
    char boot_backend[16];
    char boot_path[AGENT_STR_MAX];
    char cmdline_path[AGENT_STR_MAX];
    char reboot_command[AGENT_STR_MAX];
    char health[AGENT_MAX_HEALTH][AGENT_STR_MAX];
    size_t n_health;
    int64_t monitoring_time_s;
    char pre_install[AGENT_STR_MAX];
    char post_install[AGENT_STR_MAX];
    int64_t script_timeout_s;
    char tree_dir[AGENT_STR_MAX]; /* "" = tree releases are refused */
    unsigned tree_keep;
    int64_t trial_contact_s; /* server.trial_contact: 0 = a trial needs no server contact */
    unsigned retry_attempts;
    unsigned backoff_s, backoff_max_s;
} agent_config;

void agent_config_defaults(agent_config *c);
/* One "section.key = value"; used by the file loader and by --set. */
bool agent_config_set(agent_config *c, const char *section, const char *key, const char *value,
                      uf_error *err);
bool agent_config_load(agent_config *c, const char *path, uf_error *err);
/* What an update needs: slots, bootloader, repository, data_dir (UF_E_INVALID naming it). */
bool agent_config_check(const agent_config *c, uf_error *err);

#endif
