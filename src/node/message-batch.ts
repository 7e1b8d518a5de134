/**
 * Messages between the server and its tenant threads, sent in batches: every message posted
 * during one turn of the event loop goes in one `postMessage` when the turn's I/O is done
 * (`setImmediate`). Waking a thread for a message costs more than the message (measured on 2
 * cores: ~75 µs of CPU per round trip one at a time, ~10 µs with eight in flight), and requests
 * that arrive together — several sockets readable in one turn — then cost one wake.
 */

/** Posts messages in batches (see the module's comment). */
export function batchedPost<M>(
  post: (batch: M[], transfer: ArrayBuffer[]) => void,
): (message: M, transfer?: ArrayBuffer[]) => void {
  let batch: M[] = [];
  let transfers: ArrayBuffer[] = [];
  const flush = () => {
    const out = batch;
    const moved = transfers;
    batch = [];
    transfers = [];
    post(out, moved);
  };
  return (message, transfer) => {
    if (batch.push(message) === 1) setImmediate(flush);
    if (transfer !== undefined && transfer.length > 0) transfers.push(...transfer);
  };
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
