// A build's annotations: Markdown its steps attached, rendered sanitised (markdown.ts), kept
// live by the build's `annotations` topic. The Markdown renderer and sanitiser (marked,
// DOMPurify: half the app's code) are a chunk loaded only once a build has annotations, so
// no other page parses them.
import { useEffect, useState } from 'preact/hooks';
import { list } from '../api';
import { useLiveRead } from '../hooks';

type Render = (markdown: string) => string;
let renderer: Promise<Render> | null = null;

function useMarkdown(needed: boolean): Render | null {
  const [render, setRender] = useState<Render | null>(null);
  useEffect(() => {
    if (!needed || render) return;
    renderer ??= import('../markdown').then((m) => m.markdownToHtml);
    void renderer.then((r) => setRender(() => r));
  }, [needed]);
  return render;
}

const STYLES = new Set(['info', 'success', 'warning', 'error']);

export function Annotations({ buildid }: { buildid: number }) {
  const state = useLiveRead(
    () => list(`/builds/${buildid}/annotations`, { order: 'annotationid' }),
    [buildid],
    [`builds.${buildid}.annotations`],
  );
  const items = state.value?.items ?? [];
  const markdownToHtml = useMarkdown(items.length > 0);
  if (items.length === 0 || !markdownToHtml) return null;
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
