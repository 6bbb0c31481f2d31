// Annotations: Markdown a step attaches to its build (a coverage summary, a failure digest),
// at most 1 MiB each. Stored as the text given; the web UI renders it sanitised.
import type { DataContext } from './context.js';

export const MAX_ANNOTATION_BYTES = 1024 * 1024;
export const ANNOTATION_STYLES = ['info', 'success', 'warning', 'error'] as const;
export type AnnotationStyle = (typeof ANNOTATION_STYLES)[number];
const MAX_TITLE = 255;

export interface AnnotationInput {
  readonly buildid: number;
  readonly stepid: number;
  readonly markdown: string;
  readonly title: string;
  readonly style: AnnotationStyle;
}

/** An annotation refused for its size; nothing was stored. */
export class AnnotationTooLargeError extends Error {
  override readonly name = 'AnnotationTooLargeError';
  constructor(
    readonly bytes: number,
    readonly title: string,
  ) {
    super(
      `annotation "${title}" is ${bytes} bytes of Markdown; the limit is ${MAX_ANNOTATION_BYTES} bytes (1 MiB)`,
    );
  }
}

export class AnnotationStyleError extends Error {
  override readonly name = 'AnnotationStyleError';
  constructor(readonly style: unknown) {
    super(`annotation style ${JSON.stringify(style)} is not one of ${ANNOTATION_STYLES.join(', ')}`);
  }
}

export function isAnnotationStyle(style: unknown): style is AnnotationStyle {
  return (ANNOTATION_STYLES as readonly unknown[]).includes(style);
}

export class AnnotationsData {
  constructor(private readonly ctx: DataContext) {}

  async add(input: AnnotationInput): Promise<number> {
    const bytes = Buffer.byteLength(input.markdown, 'utf8');
    const title = input.title.slice(0, MAX_TITLE);
    if (bytes > MAX_ANNOTATION_BYTES) throw new AnnotationTooLargeError(bytes, title);
    if (!isAnnotationStyle(input.style)) throw new AnnotationStyleError(input.style);
    const row = await this.ctx.db
      .insertInto('annotations')
      .values({
        buildid: input.buildid,
        stepid: input.stepid,
        title,
        style: input.style,
        markdown: input.markdown,
        created_at: this.ctx.now(),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    this.ctx.bus.publish('annotation.new', { annotationid: row.id, buildid: input.buildid });
    return row.id;
  }
}
