/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vtpm: the command-line tool of the vtpm project. One subcommand per job;
 * this file only dispatches and prints the overview.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

#ifndef VTPM_VERSION
#error "VTPM_VERSION must be defined by the build"
#endif

struct subcommand {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
    void (*help)(void);
};

static const struct subcommand subcommands[] = {
    {"ctl", "send control-channel commands, as swtpm_ioctl does", cmd_ctl, help_ctl},
    {"info", "show live facts of a TPM served by vtpmd or swtpm", cmd_info, help_info},
    {"send", "send one TPM command through a device model and the reference driver", cmd_send,
     help_send},
    {"trace", "decode the TPM commands passing through a data channel (a proxy)", cmd_trace,
     help_trace},
};

/* Named in --help so nobody looks for them elsewhere; not implemented yet. */
static const char *const planned[] = {"doctor", "setup", "acpi", "bench", "fault"};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static void help_main(void)
{
    printf("Usage: vtpm SUBCOMMAND [OPTION]...\n"
           "       vtpm help [SUBCOMMAND]\n"
           "       vtpm --version\n"
           "\n"
           "Subcommands:\n");
    for (size_t i = 0; i < COUNT(subcommands); i++)
        printf("  %-8s %s\n", subcommands[i].name, subcommands[i].summary);
    printf("\nPlanned, not available in this version:");
    for (size_t i = 0; i < COUNT(planned); i++)
        printf(" %s", planned[i]);
    printf("\n\n"
           "`vtpm help SUBCOMMAND` or `vtpm SUBCOMMAND --help` describes one.\n"
           "Exit status: 0 success, 1 failure, 2 usage error.\n");
}

static const struct subcommand *find(const char *name)
{
    for (size_t i = 0; i < COUNT(subcommands); i++)
        if (!strcmp(subcommands[i].name, name))
            return &subcommands[i];
    return NULL;
}

static bool is_planned(const char *name)
{
    for (size_t i = 0; i < COUNT(planned); i++)
        if (!strcmp(planned[i], name))
            return true;
    return false;
}

static int unknown_subcommand(const char *name)
{
    if (is_planned(name))
        fprintf(stderr, "vtpm: '%s' is planned but not implemented in vtpm %s; see `vtpm --help`\n",
                name, VTPM_VERSION);
    else
        fprintf(stderr, "vtpm: unknown subcommand '%s'; see `vtpm --help`\n", name);
    return CLI_EXIT_USAGE;
}

static int help(int argc, char **argv)
{
    if (argc < 2) {
        help_main();
        return CLI_EXIT_OK;
    }
    if (argc > 2) {
        fprintf(stderr, "vtpm help: give one subcommand, not '%s' too\n", argv[2]);
        return CLI_EXIT_USAGE;
    }
    const struct subcommand *sub = find(argv[1]);
    if (!sub)
        return unknown_subcommand(argv[1]);
    sub->help();
    return CLI_EXIT_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        help_main();
        return CLI_EXIT_USAGE;
    }
    const char *first = argv[1];
    if (!strcmp(first, "--help") || !strcmp(first, "-h") || !strcmp(first, "help"))
        return help(argc - 1, argv + 1);
    if (!strcmp(first, "--version") || !strcmp(first, "-V")) {
        printf("vtpm %s\n", VTPM_VERSION);
        return CLI_EXIT_OK;
    }
    if (first[0] == '-') {
        fprintf(stderr,
                "vtpm: unknown option '%s'; options follow the subcommand (see "
                "`vtpm --help`)\n",
                first);
        return CLI_EXIT_USAGE;
    }
    const struct subcommand *sub = find(first);
    if (!sub)
        return unknown_subcommand(first);
    return sub->run(argc - 1, argv + 1);
}
