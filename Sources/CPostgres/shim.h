#ifndef GRIDBUS_CPOSTGRES_SHIM_H
#define GRIDBUS_CPOSTGRES_SHIM_H
// libpq, PostgreSQL's own client library (Debian's libpq-dev): its pipeline mode sends a
// transaction's statements without waiting for each answer, which postgres-nio cannot.
#include <postgresql/libpq-fe.h>
#endif
