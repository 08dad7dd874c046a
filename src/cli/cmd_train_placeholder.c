/* src/cli/cmd_train_placeholder.c - until training lands. */
#include "cli/commands.h"
int gc_cmd_train(gc_cli *cli, int argc, char **argv)
{
    (void)cli, (void)argc, (void)argv;
    return gc_cli_usage_error("train: not implemented yet");
}
int gc_cmd_sample(gc_cli *cli, int argc, char **argv)
{
    (void)cli, (void)argc, (void)argv;
    return gc_cli_usage_error("sample: not implemented yet");
}
int gc_cmd_bench_train(gc_cli *cli, int argc, char **argv)
{
    (void)cli, (void)argc, (void)argv;
    return gc_cli_usage_error("bench train: not implemented yet");
}
