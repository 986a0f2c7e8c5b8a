/**
 * Error replies in the shape OpenAI sends, so the `openai` SDK maps each to its own class
 * (400 BadRequestError, 404 NotFoundError, 429 RateLimitError, 500 InternalServerError).
 */
export interface OpenAIErrorBody {
  readonly error: {
    readonly message: string;
    readonly type: string;
    readonly param: string | null;
    readonly code: string | null;
  };
}

/** Thrown inside request handling; the router turns it into the HTTP reply it carries. */
export class OpenAIHttpError extends Error {
  readonly status: number;
  readonly body: OpenAIErrorBody;
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, body: OpenAIErrorBody["error"], headers: Record<string, string> = {}) {
    super(body.message);
    this.name = "OpenAIHttpError";
    this.status = status;
    this.body = { error: body };
    this.headers = headers;
  }
}

export function invalidRequest(message: string, code: string | null, param: string | null = null, status = 400): OpenAIHttpError {
  return new OpenAIHttpError(status, { message, type: "invalid_request_error", param, code });
}

export function modelNotFound(model: string): OpenAIHttpError {
  return invalidRequest(`The model \`${model}\` does not exist or you do not have access to it.`, "model_not_found", null, 404);
}

export interface RateLimit {
  readonly retryAfterSeconds: number;
  readonly limitRequests?: number | undefined;
}

/** A requests-per-minute limit as OpenAI reports it, with the headers the SDK reads for its back-off. */
export function rateLimitExceeded(model: string, limit: RateLimit): OpenAIHttpError {
  const limitRequests = limit.limitRequests ?? 60;
  const retryAfterMs = Math.round(limit.retryAfterSeconds * 1000);
  return new OpenAIHttpError(429, {
    message: `Rate limit reached for ${model} on requests per min (RPM): Limit ${limitRequests}, Used ${limitRequests}, Requested 1. ` +
      `Please try again in ${limit.retryAfterSeconds}s.`,
    type: "requests",
    param: null,
    code: "rate_limit_exceeded",
  }, {
    "retry-after": String(Math.ceil(limit.retryAfterSeconds)),
    "retry-after-ms": String(retryAfterMs),
    "x-ratelimit-limit-requests": String(limitRequests),
    "x-ratelimit-remaining-requests": "0",
    "x-ratelimit-reset-requests": `${retryAfterMs / 1000}s`,
  });
}

export function insufficientQuota(): OpenAIHttpError {
  return new OpenAIHttpError(429, {
    message: "You exceeded your current quota, please check your plan and billing details.",
    type: "insufficient_quota",
    param: null,
    code: "insufficient_quota",
  });
}

export function serverError(): OpenAIHttpError {
  return new OpenAIHttpError(500, {
    message: "The server had an error while processing your request. Sorry about that!",
    type: "server_error",
    param: null,
    code: null,
  });
}
