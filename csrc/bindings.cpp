#include <pybind11/pybind11.h>
#include "codeswitch.hpp"
PYBIND11_MODULE(_native, m) { m.def("abi_version", &xcs::abi_version); }
