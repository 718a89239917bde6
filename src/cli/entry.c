/*
 * entry.c — main(): the command line is cli_main (main.c), kept out of
 * this file so tests can link the command line and run it in a forked
 * process.
 */
#include "cli/cli.h"

int main(int argc, char **argv)
{
	return cli_main(argc, argv);
}
