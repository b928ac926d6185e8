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

#endif
