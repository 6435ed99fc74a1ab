// The only entry point of the `meridian` binary.

#include "cli/cli.h"

int main(int argc, char** argv) { return meridian::cli::Run(argc, argv); }
