/* Declaration-only target: LLVMFuzzerRunDriver itself comes from libFuzzer. */
#include "CFuzzerDriver.h"
