// The few Docker Engine API calls a container latent worker needs, over HTTP on the
// engine's unix socket (or a plain-HTTP TCP address), with node:http: no docker CLI, no
// library. Podman serves the same API (`podman system service`).
import { request as httpRequest, type IncomingMessage } from 'node:http';

/** The API version requests name in their path; 1.41 is Docker 20.10's, which Podman 4 serves too. */
export const DEFAULT_DOCKER_API_VERSION = '1.41';
export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

export interface DockerEngineOptions {
  /** The engine's unix socket; default /var/run/docker.sock (ignored when `url` is set). */
  readonly socketPath?: string;
  /** A plain-HTTP engine address such as http://127.0.0.1:2375 (TLS is not supported). */
  readonly url?: string;
  readonly apiVersion?: string;
}

/** The engine answered with an error status (its message included), or could not be reached. */
export class DockerApiError extends Error {
  override readonly name = 'DockerApiError';
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number | null,
    detail: string,
  ) {
    super(`Docker Engine API ${method} ${path}: ${status === null ? '' : `${status} `}${detail}`);
  }
}

interface Reply {
  readonly status: number;
  readonly body: unknown;
}

const MAX_REPLY = 1 << 20;

export class DockerEngineClient {
  readonly #o: DockerEngineOptions;
  readonly apiVersion: string;

  constructor(options: DockerEngineOptions = {}) {
    this.#o = options;
    this.apiVersion = options.apiVersion ?? DEFAULT_DOCKER_API_VERSION;
  }

  /** True when the engine has the image locally. */
  async imageExists(image: string, signal?: AbortSignal): Promise<boolean> {
    const r = await this.#call('GET', `/images/${encodeURIComponent(image)}/json`, {
      signal,
      ok: [200, 404],
    });
    return r.status === 200;
  }

  /** Pulls `image` (name[:tag]); resolves once the engine has it. */
  async pullImage(image: string, signal?: AbortSignal): Promise<void> {
    const { name, tag } = splitImage(image);
    await this.#call('POST', `/images/create?${new URLSearchParams({ fromImage: name, tag })}`, { signal });
  }

  /** Creates a container; resolves to its id. */
  async createContainer(
    spec: Readonly<Record<string, unknown>>,
    name?: string,
    signal?: AbortSignal,
  ): Promise<string> {
    const query = name === undefined ? '' : `?${new URLSearchParams({ name })}`;
    const r = await this.#call('POST', `/containers/create${query}`, { body: spec, signal, ok: [201] });
    const id = (r.body as { Id?: unknown } | null)?.Id;
    if (typeof id !== 'string' || id === '')
      throw new DockerApiError('POST', '/containers/create', r.status, 'the reply names no container Id');
    return id;
  }

  async startContainer(id: string, signal?: AbortSignal): Promise<void> {
    await this.#call('POST', `/containers/${encodeURIComponent(id)}/start`, { signal, ok: [204, 304] });
  }

  /** Stops it (SIGTERM, SIGKILL after `seconds`); one already stopped or gone is fine. */
  async stopContainer(id: string, seconds: number, signal?: AbortSignal): Promise<void> {
    await this.#call('POST', `/containers/${encodeURIComponent(id)}/stop?t=${Math.ceil(seconds)}`, {
      signal,
      ok: [204, 304, 404],
    });
  }

  /** Removes it, running or not; one already gone (or being auto-removed) is fine. */
  async removeContainer(id: string, signal?: AbortSignal): Promise<void> {
    await this.#call('DELETE', `/containers/${encodeURIComponent(id)}?force=true&v=true`, {
      signal,
      ok: [204, 404, 409],
    });
  }

  /** Ids of the containers (running or not) that carry `label` (`key=value`). */
  async containersWithLabel(label: string, signal?: AbortSignal): Promise<string[]> {
    const filters = JSON.stringify({ label: [label] });
    const r = await this.#call('GET', `/containers/json?${new URLSearchParams({ all: 'true', filters })}`, {
      signal,
    });
    return Array.isArray(r.body)
      ? r.body.map((c: { Id?: unknown }) => c.Id).filter((id): id is string => typeof id === 'string')
      : [];
  }

  /** Resolves with the exit status once the container stops running. */
  async waitContainer(id: string, signal?: AbortSignal): Promise<number | null> {
    const r = await this.#call('POST', `/containers/${encodeURIComponent(id)}/wait`, {
      signal,
      ok: [200, 404],
    });
    const code = (r.body as { StatusCode?: unknown } | null)?.StatusCode;
    return typeof code === 'number' ? code : null;
  }

  #call(
    method: string,
    path: string,
    options: { body?: unknown; signal?: AbortSignal | undefined; ok?: readonly number[] },
  ): Promise<Reply> {
    const fullPath = `/v${this.apiVersion}${path}`;
    const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
    const target = this.#o.url
      ? (() => {
          const u = new URL(this.#o.url);
          if (u.protocol !== 'http:')
            throw new DockerApiError(
              method,
              fullPath,
              null,
              `only unix sockets and http:// URLs are supported, got ${u.protocol}`,
            );
          return { host: u.hostname, port: u.port || 80 };
        })()
      : { socketPath: this.#o.socketPath ?? DEFAULT_DOCKER_SOCKET };
    return new Promise<Reply>((resolve, reject) => {
      const req = httpRequest(
        {
          ...target,
          method,
          path: fullPath,
          headers: {
            host: 'docker',
            ...(payload && { 'content-type': 'application/json', 'content-length': payload.length }),
          },
          ...(options.signal && { signal: options.signal }),
        },
        (res) => {
          readReply(res)
            .then((reply) => {
              const ok = options.ok ?? [200, 201, 204];
              if (ok.includes(reply.status)) resolve(reply);
              else reject(new DockerApiError(method, fullPath, reply.status, errorMessage(reply.body)));
            })
            .catch((err: Error) =>
              reject(new DockerApiError(method, fullPath, res.statusCode ?? null, err.message)),
            );
        },
      );
      req.on('error', (err) =>
        reject(
          options.signal?.aborted
            ? options.signal.reason
            : new DockerApiError(method, fullPath, null, err.message),
        ),
      );
      req.end(payload);
    });
  }
}

async function readReply(res: IncomingMessage): Promise<Reply> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res) {
    size += (chunk as Buffer).length;
    // A pull streams progress lines; only the end matters, so keep the tail bounded.
    chunks.push(chunk as Buffer);
    while (size > MAX_REPLY && chunks.length > 1) size -= chunks.shift()!.length;
  }
  const text = Buffer.concat(chunks).toString('utf8');
  const status = res.statusCode ?? 0;
  if (text.trim() === '') return { status, body: null };
  try {
    return { status, body: JSON.parse(text) };
  } catch {
    // A pull answers with JSON lines; the last one says how it ended.
    const last = text.trim().split('\n').at(-1) ?? '';
    try {
      const body = JSON.parse(last) as { error?: unknown };
      if (typeof body.error === 'string')
        return { status: status < 400 ? 500 : status, body: { message: body.error } };
      return { status, body };
    } catch {
      return { status, body: { message: text.slice(0, 500) } };
    }
  }
}

function errorMessage(body: unknown): string {
  const m = (body as { message?: unknown } | null)?.message;
  return typeof m === 'string' ? m : (JSON.stringify(body)?.slice(0, 500) ?? 'no detail');
}

/** `registry:5000/name:tag` → name and tag (default latest); a digest stays in the name. */
export function splitImage(image: string): { name: string; tag: string } {
  if (image.includes('@')) return { name: image, tag: '' };
  const slash = image.lastIndexOf('/');
  const colon = image.lastIndexOf(':');
  return colon > slash
    ? { name: image.slice(0, colon), tag: image.slice(colon + 1) }
    : { name: image, tag: 'latest' };
}
