#include "codeswitch.hpp"
namespace xcs {
int abi_version() { return 1; }
}
