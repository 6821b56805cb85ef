#ifndef UNWIND_CLIBPQ_SHIM_H
#define UNWIND_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
