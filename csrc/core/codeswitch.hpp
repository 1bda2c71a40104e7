// Placeholder core header; replaced by the code-switching engine.
#pragma once
namespace xcs {
int abi_version();
}
