// A build's annotations: Markdown its steps attached, rendered sanitised (markdown.ts), kept
// live by the build's `annotations` topic.
import { list } from '../api';
import { useLiveRead } from '../hooks';
import { markdownToHtml } from '../markdown';

const STYLES = new Set(['info', 'success', 'warning', 'error']);

export function Annotations({ buildid }: { buildid: number }) {
  const state = useLiveRead(
    () => list(`/builds/${buildid}/annotations`, { order: 'annotationid' }),
    [buildid],
    [`builds.${buildid}.annotations`],
  );
  const items = state.value?.items ?? [];
  if (items.length === 0) return null;
  return (
    <section class="annotations" data-testid="annotations" aria-label="annotations">
      {items.map((a) => {
        const style = STYLES.has(String(a.style)) ? String(a.style) : 'info';
        return (
          <article key={String(a.annotationid)} class={`annotation annotation-${style}`}>
            <h3>{String(a.title)}</h3>
            <div
              class="annotation-body"
              // Sanitised by markdownToHtml: see markdown.ts.
              dangerouslySetInnerHTML={{ __html: markdownToHtml(String(a.markdown)) }}
            />
          </article>
        );
      })}
    </section>
  );
}
