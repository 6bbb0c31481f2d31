// Renderables: values computed from the build when a step uses them. `render` walks arrays
// and plain objects so a renderable may sit anywhere inside a step's arguments.

import { RenderError } from './errors.js';
import type { PropertyLookup } from './properties.js';

export const RENDER: unique symbol = Symbol.for('lathe.render');

/** What a renderable can see of the build. */
export interface RenderContext {
  readonly properties: PropertyLookup;
  /** A codebase's source stamp attributes (branch, revision, repository…); '' is the default codebase. */
  sourceStamp?(codebase: string): Readonly<Record<string, unknown>> | undefined;
  /** The worker's info (os, admin, host, …) as it reported at connection time. */
  readonly workerInfo?: Readonly<Record<string, unknown>>;
  /** Looks a secret up; the value is recorded with the redactor before it is used. */
  getSecret?(name: string): Promise<string>;
  /**
   * Applied to each value `interpolate` substitutes (not to the template's own text), e.g.
   * shell quoting, so a value stays one word of a command line whatever it contains.
   */
  readonly quote?: (text: string) => string;
}

export interface Renderable<T = unknown> {
  [RENDER](ctx: RenderContext): T | Promise<T>;
}

export function isRenderable(value: unknown): value is Renderable {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Partial<Renderable>)[RENDER] === 'function'
  );
}

/** A renderable computed by a function of the build (Buildbot's @renderer). */
export function renderable<T>(fn: (ctx: RenderContext) => T | Promise<T>): Renderable<T> {
  return { [RENDER]: fn };
}

/** The type a value has once every renderable inside it has been rendered. */
export type Rendered<T> =
  T extends Renderable<infer R>
    ? Rendered<R>
    : T extends readonly (infer E)[]
      ? Rendered<E>[]
      : T extends object
        ? { [K in keyof T]: Rendered<T[K]> }
        : T;

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Renders renderables anywhere inside arrays and plain objects; other values pass through. */
export async function render<T>(value: T, ctx: RenderContext): Promise<Rendered<T>> {
  return (await renderAny(value, ctx, 0)) as Rendered<T>;
}

const MAX_DEPTH = 64;

async function renderAny(value: unknown, ctx: RenderContext, depth: number): Promise<unknown> {
  if (depth > MAX_DEPTH) throw new RenderError(`renderables nested more than ${MAX_DEPTH} deep`);
  if (typeof value !== 'object' || value === null) return value;
  if (isRenderable(value)) return renderAny(await value[RENDER](ctx), ctx, depth + 1);
  if (Array.isArray(value)) return Promise.all(value.map((v) => renderAny(v, ctx, depth + 1)));
  if (!isPlainObject(value)) return value;
  const entries = await Promise.all(
    Object.entries(value).map(async ([k, v]) => [k, await renderAny(v, ctx, depth + 1)] as const),
  );
  return Object.fromEntries(entries);
}
