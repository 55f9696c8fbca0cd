// Empty: the module exists for its header. The function it declares is in libclang_rt.fuzzer.
#include "CLibFuzzer.h"
