// Debian's libzstd (libzstd-dev): emu compresses its manifests' chunks with it.
#include <zstd.h>
