/**
 * Progress of long work (migrations over many children): a bar redrawn in place on a terminal,
 * plain lines otherwise (pipes and logs get a line per phase and per tenth of the work, not a
 * line per child). Written to stderr so stdout stays clean for results and `--json`.
 */

/** One progress update. */
export interface ProgressUpdate {
  /** What is being done, e.g. `prepare`, `apply`, `RunSuccess`. */
  readonly phase: string;
  readonly done: number;
  readonly total: number;
  readonly failures: number;
}

/** Where progress goes. */
export interface ProgressStream {
  write(text: string): unknown;
  readonly columns?: number;
}

/** Whether output should be treated as a terminal (`TENANTLITE_FORCE_TTY=1` forces it, for tests). */
export function isTty(stream: { isTTY?: boolean }): boolean {
  const forced = process.env.TENANTLITE_FORCE_TTY;
  if (forced === "1") return true;
  if (forced === "0") return false;
  return stream.isTTY === true;
}

/** Renders updates as a bar (TTY) or as plain lines. */
export class ProgressReporter {
  private lastPhase = "";
  private lastBucket = -1;
  private drawn = false;

  constructor(
    private readonly stream: ProgressStream,
    private readonly tty: boolean,
    /** Prefix of every line, e.g. `migration 3 of app-schema`. */
    private label: string,
  ) {}

  /** Changes the prefix (e.g. once the job id is known). */
  relabel(label: string): void {
    this.label = label;
  }

  update(u: ProgressUpdate): void {
    if (this.tty) {
      this.stream.write(`\r\x1b[K${this.barLine(u)}`);
      this.drawn = true;
      return;
    }
    const bucket = u.total === 0 ? 10 : Math.floor((u.done * 10) / u.total);
    if (u.phase === this.lastPhase && bucket === this.lastBucket) return;
    this.lastPhase = u.phase;
    this.lastBucket = bucket;
    this.stream.write(`${this.plainLine(u)}\n`);
  }

  /** Ends the bar (TTY) so following output starts on a fresh line. */
  finish(): void {
    if (this.tty && this.drawn) this.stream.write("\n");
    this.drawn = false;
  }

  private plainLine(u: ProgressUpdate): string {
    return `${this.label}: ${u.phase} ${u.done}/${u.total} children, ${u.failures} failed`;
  }

  private barLine(u: ProgressUpdate): string {
    const text = ` ${u.done}/${u.total} children, ${u.failures} failed, ${u.phase}`;
    const columns = this.stream.columns ?? 80;
    // A fixed width, so the bar does not jump as the numbers grow.
    const width = Math.max(10, Math.min(30, columns - this.label.length - 40));
    const filled = u.total === 0 ? width : Math.round((u.done / u.total) * width);
    return `${this.label} [${"#".repeat(filled)}${".".repeat(width - filled)}]${text}`;
  }
}
