#ifndef GRIDBUS_CSQLITE_SHIM_H
#define GRIDBUS_CSQLITE_SHIM_H
#include <sqlite3.h>
// SQLITE_TRANSIENT is a macro Swift cannot import: it casts -1 to a function pointer.
static inline void (*gridbus_sqlite_transient(void))(void *) { return SQLITE_TRANSIENT; }
#endif
