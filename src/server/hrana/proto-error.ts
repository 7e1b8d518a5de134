/**
 * A malformed Hrana message (wrong JSON shape, unknown type, bad value). Over HTTP it ends the
 * request with 400; over WebSocket it closes the connection, as sqld does.
 */
import { TenantliteError } from "../../errors.js";

/** A protocol violation by the client; the message names the field that was wrong. */
export class ProtoError extends TenantliteError {
  constructor(message: string) {
    super("PROTO_ERROR", `Malformed request: ${message}`);
    this.name = "ProtoError";
  }
}
