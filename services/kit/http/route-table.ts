/**
 * The declared routes, matched by method and path: what @koa/router did for us, without its walk of
 * every route's regular expression and its `debug` call on each request (issue 14 §3). The rules are
 * the ones the router had, so clients see no change:
 * - paths are OpenAPI-style (`/api/users/{user_id}`), a parameter is one whole non-empty segment, and
 *   its value is percent-decoded (left as sent when that fails);
 * - literal segments match regardless of case, and one trailing slash is ignored;
 * - a GET route answers HEAD too;
 * - routes are tried in the order they were added: the first that matches path and method wins.
 */

type Segment = { literal: string } | { param: string };

interface Entry<T> {
  methods: readonly string[];
  segments: Segment[];
  label: string;
  handler: T;
}

/** A route found for the request, or the methods the path has (none: no route has the path). */
export type RouteLookup<T> = { handler: T; params: Record<string, string>; label: string } | { handler?: undefined; allowed: string[] };

export interface RouteTable<T> {
  /** `label` names the route in metrics (the pattern, as the router named it). */
  add(method: string, path: string, label: string, handler: T): void;
  lookup(method: string, path: string): RouteLookup<T>;
}

const PARAM = /^\{([^}]+)\}$/;

const splitPath = (path: string) => (path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path).split('/');

function decodeSegment(text: string): string {
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

export function createRouteTable<T>(): RouteTable<T> {
  // Keyed by segment count: a request is compared only with routes of its length.
  const bySize = new Map<number, Entry<T>[]>();

  function matches(entry: Entry<T>, parts: string[]): boolean {
    for (let i = 0; i < parts.length; i++) {
      const segment = entry.segments[i]!;
      const part = parts[i]!;
      // Lower-cased only when the exact text differs: clients nearly always send the declared case.
      if ('literal' in segment ? segment.literal !== part && segment.literal !== part.toLowerCase() : part === '') return false;
    }
    return true;
  }

  return {
    add(method, path, label, handler) {
      const upper = method.toUpperCase();
      const segments = splitPath(path).map((part): Segment => {
        const param = PARAM.exec(part);
        return param ? { param: param[1]! } : { literal: part.toLowerCase() };
      });
      const list = bySize.get(segments.length) ?? [];
      list.push({ methods: upper === 'GET' ? ['HEAD', 'GET'] : [upper], segments, label, handler });
      bySize.set(segments.length, list);
    },

    lookup(method, path) {
      const parts = splitPath(path);
      let allowed: Set<string> | undefined; // only when the path matches without the method
      for (const entry of bySize.get(parts.length) ?? []) {
        if (!matches(entry, parts)) continue;
        if (entry.methods.includes(method)) {
          const params: Record<string, string> = {};
          for (let i = 0; i < parts.length; i++) {
            const segment = entry.segments[i]!;
            if ('param' in segment) params[segment.param] = decodeSegment(parts[i]!);
          }
          return { handler: entry.handler, params, label: entry.label };
        }
        allowed ??= new Set();
        for (const m of entry.methods) allowed.add(m);
      }
      return { allowed: allowed ? [...allowed] : [] };
    },
  };
}
