/**
 * Every failure of iqa-node is an IqaError whose `code` is one of ERROR_CODES:
 * - ERR_INPUT      the input or an option is invalid (wrong type, size, channels, NaN, missing file)
 * - ERR_DECODE     the bytes are not a decodable image (corrupt, truncated, unknown format)
 * - ERR_TOO_LARGE  the image exceeds the pixel limit (see setLimitInputPixels) or memory
 * - ERR_MODEL      a model file is missing, corrupt or does not match its declared shape
 * - ERR_DEVICE     a runtime or device (ONNX Runtime, CUDA) is unavailable
 * - ERR_ABORTED    the call was aborted through its AbortSignal
 * - ERR_BUSY       the scorer's admission limits are reached (maxInFlight running, maxQueued waiting):
 *                  rejected at once, before the input is read; retry later or elsewhere
 * - ERR_INTERNAL   a bug: please report it
 */
export const ERROR_CODES = [
  'ERR_INPUT',
  'ERR_DECODE',
  'ERR_TOO_LARGE',
  'ERR_MODEL',
  'ERR_DEVICE',
  'ERR_ABORTED',
  'ERR_BUSY',
  'ERR_INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class IqaError extends Error {
  readonly code: ErrorCode;
  /** The input the error is about, when known (a path, or an index in a batch). */
  input?: string | number;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; input?: string | number }) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'IqaError';
    this.code = code;
    if (options?.input !== undefined) this.input = options.input;
  }

  toJSON(): { code: ErrorCode; message: string } {
    return { code: this.code, message: this.message };
  }
}

/** The rejection of a call whose AbortSignal fired (running or still queued). */
export function abortedError(message = 'the operation was aborted'): IqaError {
  return new IqaError('ERR_ABORTED', message);
}

export function isErrorCode(x: unknown): x is ErrorCode {
  return typeof x === 'string' && (ERROR_CODES as readonly string[]).includes(x);
}

/** Turns anything thrown (native errors carry a string `code`) into an IqaError. */
export function toIqaError(e: unknown): IqaError {
  if (e instanceof IqaError) return e;
  const err = e as { code?: unknown; message?: unknown } | null;
  const code = err && isErrorCode(err.code) ? err.code : 'ERR_INTERNAL';
  const message = err && typeof err.message === 'string' ? err.message : String(e);
  return new IqaError(code, message, { cause: e });
}
