/**
 * An HTTP proxy on 127.0.0.1 between an S3 client and the server, which misbehaves on chosen
 * requests: answers an error status without forwarding, drops the connection before or after the
 * server handled the request, holds the response back, or cuts the response body short. Requests
 * keep their Host header (it is signed), so the server sees exactly what the client signed.
 */
import { createServer, request as httpRequest, Agent, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type FaultAction =
  | { readonly kind: 'pass' }
  /** answer this status with an S3 error body; the server never sees the request */
  | { readonly kind: 'status'; readonly status: number; readonly code?: string }
  /** close the connection without an answer; the server never sees the request */
  | { readonly kind: 'drop' }
  /** forward, let the server finish, then close the connection instead of answering */
  | { readonly kind: 'drop-after' }
  /** forward, then hold the answer back this long (past the client's timeout, say) */
  | { readonly kind: 'delay'; readonly ms: number }
  /** forward, send the headers and half the body, then close the connection */
  | { readonly kind: 'truncate' };

export interface ProxiedRequest {
  readonly method: string;
  /** the path, decoded: '/bucket/prefix/key' */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingMessage['headers'];
}

export interface FaultRule {
  readonly match: (r: ProxiedRequest) => boolean;
  /** the fault, or a function choosing it per request */
  readonly action: FaultAction | ((r: ProxiedRequest) => FaultAction);
  /** how many matching requests get the action (default: all) */
  times?: number;
}

export interface LoggedRequest extends ProxiedRequest {
  readonly action: FaultAction['kind'];
}

export interface FaultProxy {
  readonly endpoint: string;
  readonly log: LoggedRequest[];
  add(rule: FaultRule): FaultRule;
  clear(): void;
  stop(): Promise<void>;
}

const PASS: FaultAction = { kind: 'pass' };

export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const target = new URL(upstream);
  const agent = new Agent({ keepAlive: true });
  const rules: FaultRule[] = [];
  const log: LoggedRequest[] = [];
  const sockets = new Set<Socket>();

  const choose = (r: ProxiedRequest): FaultAction => {
    for (const rule of rules) {
      if ((rule.times ?? Infinity) <= 0 || !rule.match(r)) continue;
      if (rule.times !== undefined) rule.times--;
      return typeof rule.action === 'function' ? rule.action(r) : rule.action;
    }
    return PASS;
  };

  const drain = (req: IncomingMessage) => new Promise<void>((resolve) => {
    req.on('end', resolve).on('error', () => resolve()).resume();
  });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const info: ProxiedRequest = { method: req.method ?? 'GET', path: decodeURIComponent(url.pathname), query: url.searchParams, headers: req.headers };
    const action = choose(info);
    log.push({ ...info, action: action.kind });
    switch (action.kind) {
      case 'status': {
        await drain(req);
        const code = action.code ?? (action.status === 503 ? 'SlowDown' : 'InternalError');
        res.writeHead(action.status, { 'content-type': 'application/xml', connection: 'close' });
        res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>injected by the fault proxy</Message><RequestId>fault</RequestId></Error>`);
        return;
      }
      case 'drop':
        await drain(req);
        req.socket.destroy();
        return;
      case 'pass':
      case 'drop-after':
      case 'delay':
      case 'truncate':
        break;
      default: {
        const never: never = action;
        throw new Error(`unknown fault ${JSON.stringify(never)}`);
      }
    }
    const headers = { ...req.headers };
    // This proxy reads the whole body itself; the client already had its 100 Continue from us.
    delete headers.expect;
    const up = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers, agent }, async (upRes) => {
      const chunks: Buffer[] = [];
      for await (const c of upRes) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks);
      if (action.kind === 'drop-after') return void req.socket.destroy();
      if (action.kind === 'delay') await new Promise((r) => setTimeout(r, action.ms));
      if (res.destroyed) return;
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      if (action.kind === 'truncate') {
        res.write(body.subarray(0, Math.floor(body.length / 2)));
        // Let the half reach the client before the cut.
        setTimeout(() => req.socket.destroy(), 20);
        return;
      }
      res.end(body);
    });
    up.on('error', () => req.socket.destroy());
    req.pipe(up);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => req.socket.destroy());
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    log,
    add(rule) {
      rules.push(rule);
      return rule;
    },
    clear() {
      rules.length = 0;
      log.length = 0;
    },
    async stop() {
      for (const s of sockets) s.destroy();
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Which S3 operation a request is, as the fault rules name them. */
export function s3Operation(r: ProxiedRequest): string {
  const q = r.query;
  const segments = r.path.split('/').filter(Boolean);
  const onObject = segments.length > 1;
  switch (r.method) {
    case 'GET':
      return onObject ? 'GetObject' : q.has('uploads') ? 'ListMultipartUploads' : 'ListObjectsV2';
    case 'HEAD':
      return onObject ? 'HeadObject' : 'HeadBucket';
    case 'PUT':
      if (!onObject) return 'CreateBucket';
      if (q.has('partNumber')) return r.headers['x-amz-copy-source'] ? 'UploadPartCopy' : 'UploadPart';
      return r.headers['x-amz-copy-source'] ? 'CopyObject' : 'PutObject';
    case 'POST':
      return q.has('uploads') ? 'CreateMultipartUpload' : q.has('uploadId') ? 'CompleteMultipartUpload' : q.has('delete') ? 'DeleteObjects' : 'Post';
    case 'DELETE':
      return q.has('uploadId') ? 'AbortMultipartUpload' : onObject ? 'DeleteObject' : 'DeleteBucket';
    default:
      return r.method;
  }
}

/** A rule matcher: operation name and, optionally, object key suffix ('epoch=3.ckpt'). */
export function op(name: string, keySuffix?: string, extra?: (r: ProxiedRequest) => boolean): (r: ProxiedRequest) => boolean {
  return (r) => s3Operation(r) === name && (keySuffix === undefined || r.path.endsWith('/' + keySuffix)) && (extra === undefined || extra(r));
}
