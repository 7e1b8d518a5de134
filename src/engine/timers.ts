/**
 * Keeps a timer from holding a Node process open (`unref`); browsers' timers are numbers, with
 * nothing to do.
 */
export function unrefTimer(
  timer: ReturnType<typeof setTimeout> | ReturnType<typeof setInterval>,
): void {
  (timer as { unref?: () => void }).unref?.();
}
