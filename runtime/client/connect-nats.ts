/**
 * `connectNats`: nats.js's Node `connect`, with the socket writes of one event-loop turn sent
 * together.
 *
 * nats-core writes its outbound buffer once per microtask run. Work that finishes in separate
 * I/O callbacks (an llm replica gets each provider answer on its own HTTP socket) therefore
 * costs one socket write for its reply and another for the event it publishes, and every write
 * is a system call here and a read in nats-server. This transport corks the socket at the first
 * write of a turn and uncorks it in `setImmediate`, after the turn's I/O callbacks and their
 * microtasks: the turn's frames leave in one `writev`, in the order they were written.
 * Measured in sandbox/bench/README.md ("Socket writes per turn").
 *
 * The transport factory nats.js keeps is one per process, and it is also what a connection
 * uses when it reconnects: a process that mixes this with nats.js's own `connect` reconnects
 * with whichever was called last. Only the number of socket writes differs.
 */
import { NatsConnectionImpl, setTransportFactory } from "@nats-io/nats-core/internal";
import type { NatsConnection } from "@nats-io/nats-core";
import type { NodeConnectionOptions } from "@nats-io/transport-node";
import { NodeTransport, nodeResolveHost } from "@nats-io/transport-node/lib/node_transport.js";

class TurnCoalescingTransport extends NodeTransport {
  private corked = false;

  override send(frame: Uint8Array): void {
    const socket = this.socket;
    if (socket && !this.corked && !socket.destroyed) {
      this.corked = true;
      socket.cork();
      setImmediate(() => {
        this.corked = false;
        socket.uncork();
      });
    }
    super.send(frame);
  }
}

export function connectNats(options: NodeConnectionOptions = {}): Promise<NatsConnection> {
  setTransportFactory({ factory: () => new TurnCoalescingTransport(), dnsResolveFn: nodeResolveHost });
  return NatsConnectionImpl.connect(options);
}
