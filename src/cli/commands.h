/*
 * commands.h - the subcommands of `upflow`, one file each (cmd_NAME.c).
 */
#ifndef UPFLOW_CLI_COMMANDS_H
#define UPFLOW_CLI_COMMANDS_H

int cmd_key(int argc, char **argv);
int cmd_json(int argc, char **argv);
int cmd_calendar(int argc, char **argv);
int cmd_login(int argc, char **argv);
int cmd_logout(int argc, char **argv);
int cmd_request(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_image(int argc, char **argv);
int cmd_repo(int argc, char **argv);
int cmd_release(int argc, char **argv);
int cmd_sim(int argc, char **argv);
int cmd_device(int argc, char **argv);
int cmd_rollout(int argc, char **argv);
/* `upflow release published` (cmd_release_published.c), in cmd_release's table */
int cmd_release_published(int argc, char **argv);
int cmd_swu(int argc, char **argv);

#endif
