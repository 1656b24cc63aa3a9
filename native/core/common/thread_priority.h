// Native workers yield to the event loop: the first time a worker thread (libuv's pool or
// OpenCV's) runs scoring work, it lowers its own scheduling priority (nice +IQA_WORKER_NICE,
// default 5; 0 disables). On a machine with fewer cores than busy workers, the JS thread then
// wakes up on time instead of queueing behind image work.
#pragma once

namespace iqa {
void lower_current_thread_priority();
}  // namespace iqa
