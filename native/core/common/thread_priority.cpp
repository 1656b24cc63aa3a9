#include "common/thread_priority.h"

#include <cstdlib>
#if defined(__linux__)
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace iqa {

void lower_current_thread_priority() {
#if defined(__linux__)
  thread_local bool done = false;
  if (done) return;
  done = true;
  static const int increment = [] {
    const char* v = std::getenv("IQA_WORKER_NICE");
    return v ? std::atoi(v) : 5;
  }();
  if (increment <= 0) return;
  // On Linux, nice values are per thread (PRIO_PROCESS with a thread id).
  pid_t tid = static_cast<pid_t>(syscall(SYS_gettid));
  int current = getpriority(PRIO_PROCESS, tid);
  setpriority(PRIO_PROCESS, tid, current + increment);
#endif
}

}  // namespace iqa
