// ringlet: everything lives in the libraries; main only hands over the command line.
#include "ringlet/server/cli.hpp"

int main(int argc, char** argv) {
    return ringlet::server::cli_main(argc, argv);
}
