/* Status codes and the thread-local last-error message. Each thread keeps
 * its own message so that concurrent model runs never see each other's
 * errors; the buffer is fixed-size so that recording an error cannot itself
 * fail for lack of memory. */
#include <stdarg.h>
#include <stdio.h>

#include "runtime/tessel_runtime.h"

enum { kMessageCapacity = 1024 };

static _Thread_local char g_message[kMessageCapacity];
static _Thread_local tessel_status g_code = TESSEL_OK;

const char* tessel_last_error(void) { return g_message; }

tessel_status tessel_last_error_code(void) { return g_code; }

tessel_status tessel_set_error(tessel_status code, const char* format, ...) {
  g_code = code;
  if (!format) {
    g_message[0] = '\0';
    return code;
  }
  va_list args;
  va_start(args, format);
  int written = vsnprintf(g_message, kMessageCapacity, format, args);
  va_end(args);
  if (written < 0) g_message[0] = '\0'; /* an encoding error: better no message than garbage */
  return code;
}

void tessel_clear_error(void) {
  g_code = TESSEL_OK;
  g_message[0] = '\0';
}

const char* tessel_status_name(tessel_status status) {
  switch (status) {
    case TESSEL_OK: return "ok";
    case TESSEL_ERROR_INVALID_ARGUMENT: return "invalid argument";
    case TESSEL_ERROR_OUT_OF_MEMORY: return "out of memory";
    case TESSEL_ERROR_UNSUPPORTED: return "unsupported";
    case TESSEL_ERROR_INTERNAL: return "internal error";
  }
  return "unknown status";
}
