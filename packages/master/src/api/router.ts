// Which declared path a request path is, and its params. Integer params match digits only,
// integers lists of them (`30,29,28`) and identifiers anything else, so `/workers/7` and
// `/workers/linux-1` reach different declarations (Buildbot's identifiers never start with
// a digit).
import type { PathDecl, ResourceType } from './resource.js';

export interface MatchedPath {
  readonly type: ResourceType;
  readonly path: PathDecl;
  readonly params: Readonly<Record<string, number | string>>;
}

interface Route {
  readonly type: ResourceType;
  readonly path: PathDecl;
  readonly segments: readonly string[];
}

/** Path segments without empty ones; `/builds/1/` and `/builds/1` are the same path. */
export function segmentsOf(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

export class PathRouter {
  readonly #routes: Route[] = [];

  constructor(types: readonly ResourceType[]) {
    for (const type of types)
      for (const path of type.paths) this.#routes.push({ type, path, segments: segmentsOf(path.pattern) });
  }

  /** Every declared path, for the OpenAPI document and tests. */
  get routes(): readonly { readonly type: ResourceType; readonly path: PathDecl }[] {
    return this.#routes;
  }

  match(path: string): MatchedPath | undefined {
    let segments: string[];
    try {
      segments = segmentsOf(path).map(decodeURIComponent);
    } catch {
      return undefined;
    }
    for (const route of this.#routes) {
      const params = matchSegments(route, segments);
      if (params) return { type: route.type, path: route.path, params };
    }
    return undefined;
  }
}

function matchSegments(
  route: Route,
  segments: readonly string[],
): Record<string, number | string> | undefined {
  if (route.segments.length !== segments.length) return undefined;
  const params: Record<string, number | string> = {};
  for (let i = 0; i < segments.length; i++) {
    const want = route.segments[i]!;
    const got = segments[i]!;
    if (!want.startsWith(':')) {
      if (want !== got) return undefined;
      continue;
    }
    const name = want.slice(1);
    const isInteger = /^\d{1,15}$/.test(got);
    const type = route.path.params[name];
    if (type === 'integer') {
      if (!isInteger) return undefined;
      params[name] = Number(got);
    } else if (type === 'integers') {
      if (!/^\d{1,15}(,\d{1,15})*$/.test(got)) return undefined;
      params[name] = got;
    } else {
      if (isInteger || got === '') return undefined;
      params[name] = got;
    }
  }
  return params;
}
