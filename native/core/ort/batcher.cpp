#include "ort/batcher.h"

#include <algorithm>
#include <cstring>

namespace iqa::ort {

struct Batcher::Batch {
  uint8_t* buffer = nullptr;
  size_t reserved = 0, committed = 0;
  std::chrono::steady_clock::time_point deadline;
  bool done = false;
  std::vector<double> scores;
  bool failed = false;
  ErrorCode code = ErrorCode::Internal;
  std::string message;
};

Batcher::Batcher(size_t sample_bytes, size_t max_batch, double max_delay_ms, int runners, RunFn run, AllocFn alloc, FreeFn free, size_t values_per_row)
    : sample_bytes_(sample_bytes), max_batch_(std::max<size_t>(1, max_batch)), max_alive_(size_t(std::max(1, runners)) + 2),
      values_per_row_(std::max<size_t>(1, values_per_row)),
      max_delay_(std::chrono::nanoseconds(int64_t(std::max(0.0, max_delay_ms) * 1e6))), run_(std::move(run)),
      alloc_(std::move(alloc)), free_(std::move(free)) {
  for (int i = 0; i < std::max(1, runners); ++i) threads_.emplace_back([this] { runner_loop(); });
}

Batcher::~Batcher() {
  close();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  for (uint8_t* p : pool_) free_(p);
}

void Batcher::close() {
  {
    std::lock_guard<std::mutex> lk(m_);
    closing_ = true;
  }
  work_cv_.notify_all();
  space_cv_.notify_all();
}

bool Batcher::closed() const {
  std::lock_guard<std::mutex> lk(m_);
  return closing_;
}

void Batcher::drain() {
  std::unique_lock<std::mutex> lk(m_);
  done_cv_.wait(lk, [&] { return alive_ == 0; });
}

Batcher::Stats Batcher::stats() const {
  std::lock_guard<std::mutex> lk(m_);
  return stats_;
}

std::shared_ptr<Batcher::Batch> Batcher::new_batch_locked(std::unique_lock<std::mutex>& lk) {
  // The lock is released while waiting for space and while allocating: another caller may open
  // a batch meanwhile, and then we must join it, never replace it (its rows would be lost).
  for (;;) {
    if (closing_) fail(ErrorCode::Model, "the model is closed");
    if (open_) return open_;
    if (alive_ < max_alive_) break;
    space_cv_.wait(lk);
  }
  ++alive_;  // claim the slot before unlocking so concurrent creators respect the cap
  auto b = std::make_shared<Batch>();
  if (!pool_.empty()) {
    b->buffer = pool_.back();
    pool_.pop_back();
  } else {
    lk.unlock();
    uint8_t* p = nullptr;
    try {
      p = alloc_(sample_bytes_ * max_batch_);
    } catch (...) {
      lk.lock();
      --alive_;
      space_cv_.notify_all();
      throw;
    }
    lk.lock();
    b->buffer = p;
    if (closing_ || open_) {
      pool_.push_back(p);
      --alive_;
      space_cv_.notify_all();
      if (closing_) fail(ErrorCode::Model, "the model is closed");
      return open_;
    }
  }
  b->deadline = std::chrono::steady_clock::now() + max_delay_;
  open_ = b;
  return b;
}

Batcher::Ticket Batcher::submit(size_t n, const PackFn& pack) {
  Ticket t;
  t.n = n;
  size_t done = 0;
  std::exception_ptr pack_error;
  while (done < n) {
    std::shared_ptr<Batch> b;
    size_t off = 0, k = 0;
    {
      std::unique_lock<std::mutex> lk(m_);
      if (closing_) fail(ErrorCode::Model, "the model is closed");
      b = open_ ? open_ : new_batch_locked(lk);
      off = b->reserved;
      k = std::min(n - done, max_batch_ - off);
      b->reserved += k;
      if (b->reserved == max_batch_) {
        ready_.push_back(b);
        open_.reset();
      }
    }
    for (size_t i = 0; i < k; ++i) {
      uint8_t* dst = b->buffer + (off + i) * sample_bytes_;
      if (pack_error) {
        std::memset(dst, 0, sample_bytes_);
        continue;
      }
      try {
        pack(done + i, dst);
      } catch (...) {
        // The rows stay reserved (others share the batch): zero them, report after committing.
        pack_error = std::current_exception();
        std::memset(dst, 0, sample_bytes_);
      }
    }
    {
      std::lock_guard<std::mutex> lk(m_);
      b->committed += k;
    }
    work_cv_.notify_all();
    t.parts.push_back({b, off, k});
    done += k;
  }
  if (pack_error) std::rethrow_exception(pack_error);
  return t;
}

void Batcher::wait(const Ticket& t, double* scores) {
  size_t o = 0;
  std::unique_lock<std::mutex> lk(m_);
  for (const Part& p : t.parts) {
    done_cv_.wait(lk, [&] { return p.batch->done; });
    if (p.batch->failed) fail(p.batch->code, p.batch->message);
    const size_t k = values_per_row_;
    std::copy(p.batch->scores.begin() + long(p.offset * k), p.batch->scores.begin() + long((p.offset + p.count) * k), scores + o);
    o += p.count * k;
  }
}

void Batcher::runner_loop() {
  for (;;) {
    std::shared_ptr<Batch> b;
    {
      std::unique_lock<std::mutex> lk(m_);
      for (;;) {
        auto now = std::chrono::steady_clock::now();
        if (open_ && open_->reserved > 0 && (now >= open_->deadline || closing_)) {
          ready_.push_back(open_);
          open_.reset();
        }
        if (!ready_.empty() && ready_.front()->committed == ready_.front()->reserved) {
          b = ready_.front();
          ready_.pop_front();
          break;
        }
        if (closing_ && ready_.empty() && (!open_ || open_->reserved == 0)) {
          if (open_) {  // an empty open batch: give its buffer back
            pool_.push_back(open_->buffer);
            open_->done = true;
            open_.reset();
            --alive_;
            done_cv_.notify_all();
          }
          return;
        }
        if (open_ && open_->reserved > 0 && ready_.empty()) work_cv_.wait_until(lk, open_->deadline);
        else work_cv_.wait(lk);
      }
    }
    // Only one runner may take a batch; a second one can take the next while this one runs.
    work_cv_.notify_all();
    b->scores.assign(b->reserved * values_per_row_, 0.0);
    try {
      run_(b->buffer, b->reserved, b->scores.data());
    } catch (const Error& e) {
      b->failed = true;
      b->code = e.code();
      b->message = e.what();
    } catch (const std::bad_alloc&) {
      b->failed = true;
      b->code = ErrorCode::TooLarge;
      b->message = "out of memory running a batch";
    } catch (const std::exception& e) {
      b->failed = true;
      b->code = ErrorCode::Internal;
      b->message = e.what();
    }
    {
      std::lock_guard<std::mutex> lk(m_);
      b->done = true;
      pool_.push_back(b->buffer);
      b->buffer = nullptr;
      --alive_;
      ++stats_.batches;
      stats_.rows += b->reserved;
    }
    done_cv_.notify_all();
    space_cv_.notify_all();
  }
}

}  // namespace iqa::ort
