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
 * Hands messages to `receive` in the order they came, and lets the answers of earlier requests
 * leave before a request starts (`isRequest`): `flush` posts what waits, after one turn of the
 * event loop for requests of the same batch. Were the request to hold the thread (a statement
 * past the query time limit), answers waiting for the end of the turn would wait with it, and the
 * platform would take their requests for started and unanswered ("reset while this request ran").
 */
export function inOrder<M>(
  receive: (message: M) => void,
  isRequest: (message: M) => boolean,
  flush: () => void,
): (data: M | M[]) => void {
  const queue: M[] = [];
  let next = 0;
  let pumping = false;
  const pump = async () => {
    pumping = true;
    let requests = 0;
    while (next < queue.length) {
      const m = queue[next++]!;
      if (isRequest(m)) {
        // (The first's predecessors came in earlier turns: what they post waits already.)
        if (requests++ > 0) await new Promise((resolve) => setImmediate(resolve));
        flush();
      }
      receive(m);
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
