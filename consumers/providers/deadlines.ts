/**
 * One deadline mechanism for every provider HTTP call in flight (issue 12). A timer per request (and for
 * fetch `AbortSignal.timeout` + `AbortSignal.any`, whose per-call cost in Node 20 is higher still) showed up
 * in the sender's CPU profile; here one interval, running only while calls are in flight, fails every call
 * whose deadline has passed, and one "abort" listener per outer signal (the consumer's shutdown signal) fans
 * out to the calls in flight.
 * Deadlines are honoured within `TICK_MS` (a 15 s call timeout may end up to 50 ms late).
 */

const TICK_MS = 50;

interface Entry {
  at: number;
  expire: () => void;
}

const inflight = new Set<Entry>();
let timer: NodeJS.Timeout | undefined;

function stopWhenIdle() {
  if (inflight.size > 0 || !timer) return;
  clearInterval(timer);
  timer = undefined;
}

function tick() {
  const now = Date.now();
  for (const e of inflight) {
    if (e.at > now) continue;
    inflight.delete(e);
    e.expire();
  }
  stopWhenIdle();
}

/** Calls `expire` once `ms` have passed, unless the returned `cancel` ran first. */
export function onDeadline(ms: number, expire: () => void): () => void {
  const e: Entry = { at: Date.now() + ms, expire };
  inflight.add(e);
  if (!timer) {
    timer = setInterval(tick, TICK_MS);
    timer.unref(); // a call in flight keeps the process alive by itself
  }
  return () => {
    inflight.delete(e);
    stopWhenIdle();
  };
}

/**
 * One "abort" listener per signal, fanned out to the calls in flight. The consumer passes one shutdown signal
 * to every concurrent send; a listener per call would trip Node's EventTarget leak warning past 10.
 */
const abortWaiters = new WeakMap<AbortSignal, Set<() => void>>();
export function onAbort(signal: AbortSignal, fn: () => void): () => void {
  let set = abortWaiters.get(signal);
  if (!set) {
    const waiters = new Set<() => void>();
    set = waiters;
    abortWaiters.set(signal, waiters);
    signal.addEventListener(
      "abort",
      () => {
        for (const w of waiters) w();
        waiters.clear();
      },
      { once: true },
    );
  }
  set.add(fn);
  const waiters = set;
  return () => waiters.delete(fn);
}

export interface CallSignal {
  signal: AbortSignal;
  /** Ends the call's deadline and its link to the outer signal; call once the answer is read. */
  done(): void;
}

/**
 * A signal for one fetch: aborted with a `TimeoutError` after `timeoutMs`, or with the outer signal's reason
 * (an `AbortError`) — what `AbortSignal.any([outer, AbortSignal.timeout(ms)])` gives, without a timer per call.
 */
export function callSignal(timeoutMs: number, outer?: AbortSignal): CallSignal {
  const ac = new AbortController();
  if (outer?.aborted) {
    ac.abort(outer.reason);
    return { signal: ac.signal, done: () => {} };
  }
  const cancelDeadline = onDeadline(timeoutMs, () => ac.abort(new DOMException("The operation was aborted due to timeout", "TimeoutError")));
  const forgetOuter = outer ? onAbort(outer, () => ac.abort(outer.reason)) : undefined;
  return {
    signal: ac.signal,
    done: () => {
      cancelDeadline();
      forgetOuter?.();
    },
  };
}
