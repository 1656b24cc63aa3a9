// Reusable request-body buffers. Every upload read into a fresh Buffer is off-heap memory that V8
// counts as external; at a few hundred uploads a second that churn alone starts a full mark-compact
// every few hundred milliseconds (`--trace-gc`: "finalize incremental marking via task" with the
// old space far below its limit), and each one stalls the event loop for 3-10 ms, so that even a
// 503 sent before the body is read waits for it. Bodies are therefore taken from free lists of
// power-of-two ArrayBuffers and given back when their response is over.
//
// A buffer goes back on the response's 'close'. A scoring call aborted by its deadline may still
// be reading it on a worker thread then: native code only reads its input, and the aborted call's
// result is dropped, so the next request's bytes are never affected.

const MIN_CLASS = 64 * 1024;

export class BodyPool {
  /**
   * @param {object} [options]
   * @param {number} [options.maxPooledBytes] the most bytes kept on the free lists (default 64 MiB)
   * @param {number} [options.maxBufferBytes] larger bodies get a plain Buffer, never pooled (default 8 MiB)
   */
  constructor({ maxPooledBytes = 64 * 1024 * 1024, maxBufferBytes = 8 * 1024 * 1024 } = {}) {
    this.maxPooledBytes = maxPooledBytes;
    this.maxBufferBytes = maxBufferBytes;
    this.free = new Map(); // capacity -> ArrayBuffer[]
    this.pooledBytes = 0;
    this.stats = { taken: 0, reused: 0, allocated: 0, unpooled: 0, dropped: 0 };
  }

  /**
   * A Buffer of exactly `n` bytes (contents undefined, as Buffer.allocUnsafe) and the function that
   * gives it back; calling that more than once does nothing.
   */
  take(n) {
    this.stats.taken++;
    if (n > this.maxBufferBytes) {
      this.stats.unpooled++;
      return { buffer: Buffer.allocUnsafe(n), release: () => {} };
    }
    const capacity = Math.max(MIN_CLASS, 2 ** Math.ceil(Math.log2(Math.max(1, n))));
    let ab = this.free.get(capacity)?.pop();
    if (ab) {
      this.pooledBytes -= capacity;
      this.stats.reused++;
    } else {
      ab = new ArrayBuffer(capacity);
      this.stats.allocated++;
    }
    let held = true;
    const release = () => {
      if (!held) return;
      held = false;
      if (this.pooledBytes + capacity > this.maxPooledBytes) {
        this.stats.dropped++;
        return;
      }
      let list = this.free.get(capacity);
      if (!list) this.free.set(capacity, (list = []));
      list.push(ab);
      this.pooledBytes += capacity;
    };
    return { buffer: Buffer.from(ab, 0, n), release };
  }

  toJSON() {
    return { ...this.stats, pooledBytes: this.pooledBytes };
  }
}
