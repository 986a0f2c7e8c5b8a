/**
 * A `Response` whose body is already in memory. A `Response` built from bytes wraps them in a
 * WHATWG `ReadableStream` (made transferable) and `json()` reads them back through it; in a busy
 * llm replica that was about 5% of its CPU (sandbox/bench/README.md, "Provider answers without a
 * body stream"). This one hands the bytes to `text()`, `json()`, `arrayBuffer()`, `bytes()` and
 * `blob()` directly, builds a stream only when `body` is asked for, and keeps fetch's rules: the
 * body is read once (`bodyUsed`, then a `TypeError`), through a reader or through `body`,
 * `clone()` before that, text is UTF-8 with a leading byte-order mark dropped.
 */
type BodyReaders = "body" | "bodyUsed" | "text" | "json" | "arrayBuffer" | "blob" | "clone";
/**
 * `Response` as a base class. The DOM typings declare its body readers as properties, which a
 * subclass may not redefine as methods; at run time they are methods on the prototype.
 */
const ResponseWithoutBody: new (body: null, init: ResponseInit) => Omit<Response, BodyReaders> = Response;

export class BufferedResponse extends ResponseWithoutBody implements Response {
  readonly #bytes: Buffer;
  readonly #init: ResponseInit;
  #used = false;
  #stream: ReadableStream<Uint8Array> | undefined;

  constructor(bytes: Buffer, init: ResponseInit) {
    super(null, init);
    this.#bytes = bytes;
    this.#init = init;
  }

  get body(): ReadableStream<Uint8Array> {
    this.#stream ??= new Blob([this.#bytes]).stream();
    return this.#stream;
  }

  /** As fetch's: true once a reader took the bytes or the `body` stream is being read. */
  get bodyUsed(): boolean {
    return this.#used || this.#stream?.locked === true;
  }

  async text(): Promise<string> {
    const text = this.#take().toString("utf8");
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = this.#take();
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }

  async bytes(): Promise<Uint8Array<ArrayBuffer>> {
    return new Uint8Array(await this.arrayBuffer());
  }

  async blob(): Promise<Blob> {
    return new Blob([this.#take()], { type: this.headers.get("content-type") ?? "" });
  }

  clone(): Response {
    if (this.bodyUsed) throw new TypeError("Response.clone: the body has already been read");
    return new BufferedResponse(this.#bytes, this.#init);
  }

  #take(): Buffer {
    if (this.bodyUsed) throw new TypeError("Body is unusable: the body has already been read");
    this.#used = true;
    return this.#bytes;
  }
}
