#ifndef CZEROMQ_SHIM_H
#define CZEROMQ_SHIM_H
#include <zmq.h>
#include <errno.h>
#include <sys/eventfd.h>
#include <unistd.h>

// errno values libzmq reports that Swift cannot import as macros from zmq.h.
static inline int czmq_ETERM(void) { return ETERM; }
static inline int czmq_EFSM(void) { return EFSM; }
static inline int czmq_EHOSTUNREACH(void) { return EHOSTUNREACH; }
#endif
