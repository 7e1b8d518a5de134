/**
 * Messages between the server and its tenant threads, sent in batches: every message posted
 * during one turn of the event loop goes in one `postMessage` when the turn's I/O is done
 * (`setImmediate`). Waking a thread for a message costs more than the message (measured on 2
 * cores: ~75 µs of CPU per round trip one at a time, ~10 µs with eight in flight), and requests
 * that arrive together — several sockets readable in one turn — then cost one wake.
 */

/** Posts messages in batches (see the module's comment); `flush` posts the batch at once. */
export function batchedPost<M>(
  post: (batch: M[], transfer: ArrayBuffer[]) => void,
): ((message: M, transfer?: ArrayBuffer[]) => void) & { flush(): void } {
  let batch: M[] = [];
  let transfers: ArrayBuffer[] = [];
  const flush = () => {
    if (batch.length === 0) return;
    const out = batch;
    const moved = transfers;
    batch = [];
    transfers = [];
    post(out, moved);
  };
  const send = (message: M, transfer?: ArrayBuffer[]) => {
    if (batch.push(message) === 1) setImmediate(flush);
    if (transfer !== undefined && transfer.length > 0) transfers.push(...transfer);
  };
  return Object.assign(send, { flush });
}

/** Hands each message of a batch (or a lone message) to `receive`. */
export function unbatch<M>(receive: (message: M) => void): (data: M | M[]) => void {
  return (data) => {
    if (!Array.isArray(data)) {
      receive(data);
      return;
    }
    for (const m of data) receive(m);
  };
}

/**
 * Hands messages to `receive` in the order they came, one per turn of the event loop, and lets
 * what the earlier ones led to leave first: before each message `flush` posts what waits. A
 * message may start a statement that holds the thread (a request; or the answer to a tenant's
 * load, which resumes the requests waiting for it): were the work of two messages to run in one
 * turn, the answers of the first would wait with the second, and the platform would take their
 * requests for started and unanswered ("reset while this request ran").
 */
export function inOrder<M>(
  receive: (message: M) => void,
  flush: () => void,
): (data: M | M[]) => void {
  const queue: M[] = [];
  let next = 0;
  let pumping = false;
  const pump = async () => {
    pumping = true;
    for (let first = true; next < queue.length; first = false) {
      // (The first's predecessors came in earlier turns: what they post waits already.)
      if (!first) await new Promise((resolve) => setImmediate(resolve));
      flush();
      receive(queue[next++]!);
    }
    queue.length = 0;
    next = 0;
    pumping = false;
  };
  return (data) => {
    if (Array.isArray(data)) queue.push(...data);
    else queue.push(data);
    if (!pumping) void pump();
  };
}
