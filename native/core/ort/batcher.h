// Dynamic batching: concurrent callers reserve rows of an open batch tensor, pack their samples
// straight into it (no intermediate copies), and a runner thread executes the batch when it is
// full (max_batch rows) or max_delay after its first row was reserved, whichever comes first.
// A caller's samples may span several batches. At most `max_alive` batch buffers exist at once
// (submit blocks for space: back-pressure for huge scoreMany calls).
//
// Closing: close() refuses new submissions (ERR_MODEL "closed"); every row already reserved is
// still run and its waiter gets its scores, then the runners exit. The destructor closes and joins.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/error.h"

namespace iqa::ort {

class Batcher {
 public:
  // Runs the model + head on rows [0, n) of `input` and writes n * values_per_row values
  // (row by row: a score, then e.g. its pooling weight).
  using RunFn = std::function<void(const uint8_t* input, size_t n, double* scores)>;
  using AllocFn = std::function<uint8_t*(size_t bytes)>;
  using FreeFn = std::function<void(uint8_t*)>;
  // Fills one sample (row) of the batch tensor.
  using PackFn = std::function<void(size_t index, uint8_t* dst)>;

  struct Batch;
  struct Part {
    std::shared_ptr<Batch> batch;
    size_t offset = 0, count = 0;
  };
  struct Ticket {
    std::vector<Part> parts;
    size_t n = 0;
  };

  Batcher(size_t sample_bytes, size_t max_batch, double max_delay_ms, int runners, RunFn run, AllocFn alloc, FreeFn free, size_t values_per_row = 1);
  ~Batcher();
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  // Reserves n rows, packs them with `pack` (on the calling thread) and queues them.
  Ticket submit(size_t n, const PackFn& pack);
  // Blocks until every row of the ticket ran; writes its n * values_per_row values (throws the batch's error).
  void wait(const Ticket& t, double* scores);

  void close();
  bool closed() const;
  // Blocks until no batch is pending or running.
  void drain();

  struct Stats {
    uint64_t batches = 0, rows = 0;
  };
  Stats stats() const;
  size_t max_batch() const { return max_batch_; }

 private:
  void runner_loop();
  std::shared_ptr<Batch> new_batch_locked(std::unique_lock<std::mutex>& lk);

  const size_t sample_bytes_, max_batch_, max_alive_, values_per_row_;
  const std::chrono::nanoseconds max_delay_;
  RunFn run_;
  AllocFn alloc_;
  FreeFn free_;

  mutable std::mutex m_;
  std::condition_variable work_cv_, done_cv_, space_cv_;
  std::shared_ptr<Batch> open_;
  std::deque<std::shared_ptr<Batch>> ready_;
  std::vector<uint8_t*> pool_;
  size_t alive_ = 0;
  bool closing_ = false;
  Stats stats_;
  std::vector<std::thread> threads_;
};

}  // namespace iqa::ort
