// ANCHORAGE_CHECK: aborts with file:line and a message when an invariant of
// our own code is broken. Not for bad input: that is a Status.
#pragma once

#include <cstdio>
#include <cstdlib>

#define ANCHORAGE_CHECK(condition, message)                           \
  do {                                                                \
    if (!(condition)) {                                               \
      std::fprintf(stderr, "%s:%d: check failed: %s: %s\n", __FILE__, \
                   __LINE__, #condition, message);                    \
      std::abort();                                                   \
    }                                                                 \
  } while (false)
